/**
 * The retraining pipeline's contract: state names and the input / output schema of every task.
 *
 * The CDK state machine (lib/infra) is built from these names and JSON paths; each Lambda handler
 * parses its input with the schema named here; the local runner checks the same schemas. State names
 * are PascalCase because people read them in the Step Functions console.
 *
 * Shape of the execution's JSON document as it flows:
 *   $            = ExecutionInput
 *   $.run        = RunContext            (BeginRun)
 *   $.plan       = FeaturePlan           (PlanFeatures: the partition manifest is in S3, not here)
 *   $.partitions = MapRunResults         (BuildFeatures: a Distributed Map over the manifest; its
 *                                         per-partition results are in S3, this is their manifest's key)
 *   $.data       = ValidatedData         (ValidateData)
 *   $.training   = [TrainingResult, BaselinesResult]  (TrainAll parallel: Train, TrainBaselines)
 *   $.evaluation = EvaluationResult      (Evaluate)
 *   then Gate -> Deploy ($.deploy) | RecordRejection; any failure -> RecordFailure -> RunFailed
 */
import { z } from 'zod';
import { ShelfSchema } from '../core/contract.ts';

export const STATES = {
  beginRun: 'BeginRun',
  alreadyDone: 'AlreadyDone',
  planFeatures: 'PlanFeatures',
  buildFeatures: 'BuildFeatures',
  buildPartitionFeatures: 'BuildPartitionFeatures',
  validateData: 'ValidateData',
  trainAll: 'TrainAll',
  train: 'Train',
  trainBaselines: 'TrainBaselines',
  planServingShards: 'PlanServingShards',
  publishServingState: 'PublishServingState',
  publishServingStateShard: 'PublishServingStateShard',
  evaluate: 'Evaluate',
  gate: 'Gate',
  deploy: 'Deploy',
  recordRejection: 'RecordRejection',
  recordFailure: 'RecordFailure',
  runFailed: 'RunFailed',
  done: 'Done',
} as const;

/**
 * Most listener shards: a clean partition is split into at most this many files by listener, and
 * PublishServingState runs at most this many tasks (each holds one shard's listeners). PlanFeatures
 * picks fewer for small data (listenerShards in lib/pipeline/data-steps.ts): every shard is a file per
 * partition that each later step writes or reads.
 */
export const SERVING_STATE_SHARDS = 8;

/** Error names that Retry matches as transient (besides the Lambda service's own). */
export const TRANSIENT_ERRORS = [
  'TransientError',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'InternalServerError',
  'ServiceUnavailable',
] as const;

const RunId = z.string().regex(/^[A-Za-z0-9-]{1,40}$/, 'runId: 1-40 letters, digits or dashes');
const S3Uri = z.string().regex(/^s3:\/\/[^/]+\/.*$/, 'expected s3://bucket/key');

/** Input of an execution: what a schedule, `shelves pipeline` or a person starts it with. */
export const ExecutionInputSchema = z.strictObject({
  shelf: ShelfSchema,
  /** Idempotency key: re-running with the same id never creates a second version. */
  runId: RunId,
  /** Raw data location; default: the raw bucket root. */
  rawPrefix: S3Uri.optional(),
  /** Training cut-off (ISO); default: the end of the data. */
  cutoff: z.string().optional(),
  /** Overrides of the shelf's training hyperparameters (SageMaker passes strings). */
  hyperparameters: z.record(z.string(), z.string()).optional(),
  /** Days of partitions the run reads, ending at the evaluation window's end; default: the shelf's setting. */
  windowDays: z.number().int().min(1).max(3660).optional(),
  /** Users the evaluation scores (a deterministic sample); default: the shelf's setting. */
  evalSampleUsers: z.number().int().min(1).optional(),
});
export type ExecutionInput = z.infer<typeof ExecutionInputSchema>;

export const RunContextSchema = z.strictObject({
  shelf: ShelfSchema,
  runId: RunId,
  versionId: z.string(),
  trainingJobName: z.string().max(63),
  rawPrefix: S3Uri,
  /** Where this run writes cleaned partitions and the training / evaluation sets. */
  featuresPrefix: S3Uri,
  /** Where this run's artifacts (SageMaker output, baselines, report) go. */
  artifactsPrefix: S3Uri,
  cutoff: z.string().optional(),
  hyperparameters: z.record(z.string(), z.string()),
  /** Days of partitions the run reads (BeginRun resolves it; absent: the shelf's setting). */
  windowDays: z.number().int().min(1).optional(),
  /** Users the evaluation scores (BeginRun resolves it; absent: the shelf's setting). */
  evalSampleUsers: z.number().int().min(1).optional(),
  /** True when a run with this id already finished: the execution ends at AlreadyDone. */
  alreadyDone: z.boolean(),
});
export type RunContext = z.infer<typeof RunContextSchema>;

export const BeginRunInputSchema = ExecutionInputSchema;

export const PartitionRefSchema = z.strictObject({
  dt: z.string(),
  uri: S3Uri,
  /** Listener shards to split the partition's clean events into (PlanFeatures sizes it); absent: SERVING_STATE_SHARDS. */
  shards: z.number().int().positive().max(SERVING_STATE_SHARDS).optional(),
});
export type PartitionRef = z.infer<typeof PartitionRefSchema>;
/** An object in the artifacts bucket, by key (the Distributed Map's ItemReader and ResultWriter take keys). */
const S3KeySchema = z.string().min(1);
export const FeaturePlanSchema = z.strictObject({
  /** The partitions to build: a JSON array of PartitionRef in the artifacts bucket (BuildFeatures' ItemReader). */
  manifestKey: S3KeySchema,
  /** Where BuildFeatures' ResultWriter writes the per-partition results, in the artifacts bucket. */
  resultsPrefix: S3KeySchema,
  partitionCount: z.number().int().positive(),
  /** The window of partitions read: first and last dt (inclusive). */
  window: z.strictObject({ from: z.string(), to: z.string(), days: z.number().int().positive() }),
  catalogUri: S3Uri,
  usersUri: S3Uri,
  /** Epoch ms; the data's "now". */
  cutoff: z.number(),
  /** Listener shards PublishServingState maps over (its tasks): sized by PlanFeatures from the data. */
  servingShards: z.number().int().positive().max(SERVING_STATE_SHARDS),
});
export type FeaturePlan = z.infer<typeof FeaturePlanSchema>;
export const PlanFeaturesInputSchema = z.object({ run: RunContextSchema });

export const QualityReportSchema = z.strictObject({
  file: z.string(),
  read: z.number().int(),
  accepted: z.number().int(),
  rejected: z.number().int(),
  rejectedByReason: z.record(z.string(), z.number().int()),
  rejectsUri: z.string().optional(),
});
export type QualityReport = z.infer<typeof QualityReportSchema>;

export const BuildPartitionInputSchema = z.object({
  run: RunContextSchema,
  plan: FeaturePlanSchema.pick({ catalogUri: true, usersUri: true, cutoff: true }),
  partition: PartitionRefSchema,
});
export const PartitionResultSchema = z.strictObject({
  dt: z.string(),
  /** The clean partition's folder: one events Parquet file per listener shard (shard-KK-of-NN.parquet) and report.json. */
  cleanUri: S3Uri,
  /** Listener shards the clean events are split into (shardOf in lib/pipeline/serving-state.ts). */
  shards: z.number().int().positive(),
  /** Epoch ms of the earliest and latest clean event (absent when the partition has none): ValidateData splits in time by them. */
  from: z.number().optional(),
  to: z.number().optional(),
  /** True when this run found the clean partition already written (same raw files, catalog, versions and limit). */
  reused: z.boolean().optional(),
  report: QualityReportSchema,
});
export type PartitionResult = z.infer<typeof PartitionResultSchema>;

/** What a Distributed Map with a ResultWriter returns (its ResultWriterDetails): the key of the run's manifest.json. */
export const MapRunResultsSchema = z.strictObject({ Bucket: z.string().min(1), Key: S3KeySchema });
export type MapRunResults = z.infer<typeof MapRunResultsSchema>;
/**
 * The manifest.json a Distributed Map's ResultWriter writes under `<Prefix>/<map run id>/`: the result
 * files by status (SUCCEEDED_0.json, FAILED_0.json, ...), each a JSON array of MapRunResultEntry.
 */
export const MapRunManifestSchema = z.looseObject({
  DestinationBucket: z.string(),
  MapRunArn: z.string(),
  ResultFiles: z.looseObject({
    SUCCEEDED: z.array(z.looseObject({ Key: z.string(), Size: z.number() })).default([]),
    FAILED: z.array(z.looseObject({ Key: z.string(), Size: z.number() })).default([]),
    PENDING: z.array(z.looseObject({ Key: z.string(), Size: z.number() })).default([]),
  }),
});
export type MapRunManifest = z.infer<typeof MapRunManifestSchema>;
/** One child execution in a result file (Transformation NONE): its input and output as JSON text, or its error. */
export const MapRunResultEntrySchema = z.looseObject({
  ExecutionArn: z.string(),
  Name: z.string(),
  Status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
  Input: z.string(),
  Output: z.string().optional(),
  Error: z.string().optional(),
  Cause: z.string().optional(),
  StartDate: z.string(),
  StopDate: z.string(),
});
export type MapRunResultEntry = z.infer<typeof MapRunResultEntrySchema>;

export const ValidateDataInputSchema = z.object({
  run: RunContextSchema,
  plan: FeaturePlanSchema,
  partitions: MapRunResultsSchema,
});
export const ValidatedDataSchema = z.strictObject({
  dataSnapshot: z.string(),
  transformVersion: z.string(),
  /** The SageMaker "train" channel: training set (with its validation split) for the shelf. */
  trainUri: S3Uri,
  /** The held-out evaluation set (temporal split), never seen by training. */
  evalUri: S3Uri,
  counts: z.record(z.string(), z.number()),
  /** Every file's quality report (catalog, users, each partition) as JSON: one per partition, so never in the state. */
  qualityUri: S3Uri,
});
export type ValidatedData = z.infer<typeof ValidatedDataSchema>;

/** What Step Functions' createTrainingJob.sync returns (DescribeTrainingJob), reduced to what we use. */
export const TrainingResultSchema = z.looseObject({
  TrainingJobName: z.string(),
  TrainingJobStatus: z.string(),
  ModelArtifacts: z.looseObject({ S3ModelArtifacts: S3Uri }),
});
export type TrainingResult = z.infer<typeof TrainingResultSchema>;

export const TrainBaselinesInputSchema = z.object({ run: RunContextSchema, data: ValidatedDataSchema });
export const BaselinesResultSchema = z.strictObject({
  baselines: z.array(z.strictObject({ name: z.string(), kind: z.string(), uri: S3Uri })),
});
export type BaselinesResult = z.infer<typeof BaselinesResultSchema>;

export const EvaluateInputSchema = z.object({
  run: RunContextSchema,
  data: ValidatedDataSchema,
  training: z.tuple([TrainingResultSchema, BaselinesResultSchema]),
});
export const GateDecisionSchema = z.strictObject({
  pass: z.boolean(),
  /** Every reason, in plain words: why it passed, or each rule it broke. */
  reasons: z.array(z.string()),
  primaryMetric: z.string(),
  liveVersion: z.string().nullable(),
});
export type GateDecision = z.infer<typeof GateDecisionSchema>;
export const EvaluationResultSchema = z.strictObject({
  versionId: z.string(),
  modelUri: S3Uri,
  reportUri: S3Uri,
  decision: GateDecisionSchema,
  /** Primary metric per model name (candidate, live, baselines), for the console and `npm start`. */
  summary: z.array(
    z.strictObject({
      name: z.string(),
      role: z.enum(['candidate', 'live', 'baseline']),
      metric: z.string(),
      value: z.number(),
      lo: z.number(),
      hi: z.number(),
    }),
  ),
});
export type EvaluationResult = z.infer<typeof EvaluationResultSchema>;

export const DeployInputSchema = z.object({ run: RunContextSchema, evaluation: EvaluationResultSchema });
export const DeployResultSchema = z.strictObject({
  shelf: ShelfSchema,
  liveVersion: z.string().nullable(),
  canaryVersion: z.string().nullable(),
  canaryWeight: z.number(),
  revision: z.number().int(),
});
export type DeployResult = z.infer<typeof DeployResultSchema>;

export const RecordRejectionInputSchema = DeployInputSchema;
export const RecordFailureInputSchema = z.object({
  run: RunContextSchema.optional(),
  shelf: ShelfSchema.optional(),
  runId: RunId.optional(),
  /** Present once PlanFeatures ran: where BuildFeatures' map wrote its per-partition results. */
  plan: z.object({ resultsPrefix: z.string() }).optional(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }),
});
/** A step's error as Step Functions reports it (Error name, Cause text). */
export const StepErrorSchema = z.strictObject({ Error: z.string(), Cause: z.string() });
export type StepError = z.infer<typeof StepErrorSchema>;
export const RunOutcomeSchema = z.strictObject({
  shelf: ShelfSchema,
  runId: z.string(),
  status: z.enum(['deployed', 'rejected', 'failed', 'already-done']),
  reason: z.string(),
  /** A failed run's root cause, which the execution fails with (RunFailed reads it). */
  error: StepErrorSchema.optional(),
});
export type RunOutcome = z.infer<typeof RunOutcomeSchema>;

/**
 * The readable message inside a Step Functions Cause: a Lambda error's errorMessage, a training
 * job's FailureReason, or the Cause itself.
 */
export function messageFromCause(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown; FailureReason?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
    if (typeof parsed.FailureReason === 'string') return parsed.FailureReason;
  } catch {
    // Not JSON: a Fail state's Cause or a plain message.
  }
  return cause;
}

export const PublishServingStateInputSchema = z.object({
  run: RunContextSchema,
  plan: FeaturePlanSchema,
  partitions: MapRunResultsSchema,
  baselines: BaselinesResultSchema,
  shard: z.number().int().nonnegative(),
  shards: z.number().int().positive(),
});
export const ServingStateResultSchema = z.strictObject({
  shard: z.number().int(),
  users: z.number().int(),
  fallback: S3Uri.optional(),
});
