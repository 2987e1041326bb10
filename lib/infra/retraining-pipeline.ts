/**
 * The retraining state machine, built from the state names and JSON paths of lib/wiring/pipeline.ts:
 *
 *   BeginRun -> AlreadyDone? -> PlanFeatures -> BuildFeatures (Distributed Map) -> ValidateData
 *     -> TrainAll (Parallel: Train on SageMaker | TrainBaselines) -> Evaluate -> Gate
 *     -> Deploy | RecordRejection -> Done;   any failure -> RecordFailure -> RunFailed
 *
 * Lambda tasks use `payloadResponseOnly`, so each state's Resource is the function ARN, its input is
 * the whole execution document and its result is exactly what the handler returns, placed under the
 * ResultPath listed in the pipeline contract. The local runner executes this very definition.
 *
 * BuildFeatures is a Distributed Map: it reads the partition list PlanFeatures wrote to the artifacts
 * bucket (ItemReader), runs one child execution per partition, writes their results to the artifacts
 * bucket (ResultWriter) and passes on only the key of the results' manifest, so no state grows with
 * the number of partitions. Every Task has a timeout shorter than the execution's.
 */
import { Arn, ArnFormat, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { IRepository } from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { SERVING_STATE_SHARDS, STATES, TRANSIENT_ERRORS } from '../wiring/pipeline.ts';
import { ConfigError } from '../core/errors.ts';
import { FUNCTIONS, PREFIXES, STATE_MACHINE, TRAINING_JOB_PREFIX } from '../wiring/resources.ts';
import { acknowledgeWildcardResources } from './nag.ts';

/** Every SageMaker training job the pipeline starts is named with this prefix (lib/pipeline/naming.ts). */
export { TRAINING_JOB_PREFIX };

/** The Lambda service's own transient failures, retried on every Lambda task. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;
/** SageMaker API failures worth retrying (throttling, internal errors); a failed job is not retried. */
export const SAGEMAKER_RETRY_ERRORS = [
  'SageMaker.AmazonSageMakerException',
  'SageMaker.ThrottlingException',
  'ThrottlingException',
] as const;

/** The FUNCTIONS keys the state machine invokes. */
export type PipelineFunctionKey =
  | 'beginRun'
  | 'planFeatures'
  | 'buildPartitionFeatures'
  | 'validateData'
  | 'trainBaselines'
  | 'publishServingState'
  | 'evaluate'
  | 'deploy'
  | 'recordRejection'
  | 'recordFailure';

export interface TrainingJobSettings {
  /** The training image's repository and tag (a DockerImageAsset's). */
  readonly repository: IRepository;
  readonly imageTag: string;
  /** Execution role SageMaker assumes. */
  readonly role: iam.IRole;
  /** e.g. `ml.m5.large`. */
  readonly instanceType: string;
  readonly volumeGb: number;
  readonly maxRuntime: Duration;
}

export interface RetrainingPipelineProps {
  readonly functions: Readonly<Record<PipelineFunctionKey, IFunction>>;
  readonly training: TrainingJobSettings;
  /** Where PlanFeatures writes the partition list BuildFeatures reads, and BuildFeatures its results. */
  readonly artifactsBucket: IBucket;
  /** Parallel partition builds in BuildFeatures; default 10. */
  readonly mapMaxConcurrency?: number;
  /** Share of partitions (0-100) whose build may fail without failing the run; default 0. */
  readonly toleratedFailurePercentage?: number;
  /** Number of partitions whose build may fail without failing the run; default 0. */
  readonly toleratedFailureCount?: number;
  /** Whole-execution timeout; default 6 hours. */
  readonly timeout?: Duration;
  readonly logRetention: RetentionDays;
  /** The execution log group on stack deletion; default RETAIN. */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The retraining state machine and its log group. */
export class RetrainingPipeline extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: RetrainingPipelineProps) {
    super(scope, id);
    // ResultWriterV2 renders only under this feature flag; set here, it holds for this construct's states alone.
    this.node.setContext(cxapi.STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2, true);
    const fns = props.functions;
    const executionTimeout = props.timeout ?? Duration.hours(6);
    // A task timeout at or above the execution's would let the execution time out first, outside any Catch.
    const taskTimeout = (seconds: number): sfn.Timeout => {
      if (seconds >= executionTimeout.toSeconds())
        throw new ConfigError(
          `a pipeline task may run ${seconds} s but the execution times out after ${executionTimeout.toSeconds()} s; the execution's timeout must be longer`,
        );
      return sfn.Timeout.duration(Duration.seconds(seconds));
    };
    const lambdaTask = (state: string, key: PipelineFunctionKey, resultPath?: string): tasks.LambdaInvoke =>
      pipelineLambdaTask(this, state, fns[key], taskTimeout(FUNCTIONS[key].timeoutSeconds + LAMBDA_TASK_MARGIN_SECONDS), resultPath);

    // The run's root cause, as RecordFailure found it (a failed partition's own error for BuildFeatures).
    const runFailed = new sfn.Fail(this, STATES.runFailed, { errorPath: '$.outcome.error.Error', causePath: '$.outcome.error.Cause' });
    const recordFailure = lambdaTask(STATES.recordFailure, 'recordFailure', '$.outcome').next(runFailed);
    const catchFailure = <T extends sfn.TaskStateBase | sfn.Parallel | sfn.Map | sfn.DistributedMap>(state: T): T =>
      state.addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' }) as T;

    const done = new sfn.Succeed(this, STATES.done);

    const beginRun = catchFailure(lambdaTask(STATES.beginRun, 'beginRun', '$.run'));
    const planFeatures = catchFailure(lambdaTask(STATES.planFeatures, 'planFeatures', '$.plan'));

    // The map reads and writes per-run objects only (lib/pipeline/data-steps.ts planLocations).
    const runArtifacts = props.artifactsBucket.arnForObjects(`${PREFIXES.runs}*`);
    const buildFeatures = catchFailure(
      new sfn.DistributedMap(this, STATES.buildFeatures, {
        itemReader: new RunScopedItemReader(runArtifacts, {
          bucket: props.artifactsBucket,
          key: sfn.JsonPath.stringAt('$.plan.manifestKey'),
        }),
        itemSelector: {
          run: sfn.JsonPath.objectAt('$.run'),
          plan: {
            catalogUri: sfn.JsonPath.stringAt('$.plan.catalogUri'),
            usersUri: sfn.JsonPath.stringAt('$.plan.usersUri'),
            cutoff: sfn.JsonPath.numberAt('$.plan.cutoff'),
          },
          partition: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
        },
        maxConcurrency: props.mapMaxConcurrency ?? 10,
        // Standard children: a partition build (up to its Lambda timeout, with retries) may outlast an Express child's 5 minutes.
        mapExecutionType: sfn.StateMachineType.STANDARD,
        ...(props.toleratedFailurePercentage !== undefined ? { toleratedFailurePercentage: props.toleratedFailurePercentage } : {}),
        ...(props.toleratedFailureCount !== undefined ? { toleratedFailureCount: props.toleratedFailureCount } : {}),
        resultWriterV2: new RunScopedResultWriter(runArtifacts, {
          bucket: props.artifactsBucket,
          prefix: sfn.JsonPath.stringAt('$.plan.resultsPrefix'),
        }),
        // Only the results' manifest goes on: ValidateData reads the per-partition results from S3.
        resultSelector: {
          Bucket: sfn.JsonPath.stringAt('$.ResultWriterDetails.Bucket'),
          Key: sfn.JsonPath.stringAt('$.ResultWriterDetails.Key'),
        },
        resultPath: '$.partitions',
      }),
    );
    buildFeatures.itemProcessor(lambdaTask(STATES.buildPartitionFeatures, 'buildPartitionFeatures'));
    // PlanFeatures writes the list the ItemReader reads (lib/pipeline/data-steps.ts planLocations).
    const planObjects = props.artifactsBucket.arnForObjects(`${PREFIXES.runs}*/plan/*`);
    fns.planFeatures.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [planObjects] }),
    );
    acknowledgeWildcardResources(
      fns.planFeatures.role ?? fns.planFeatures,
      'PlanFeatures writes the partition list of each run under runs/<shelf>/<runId>/plan/ of the artifacts bucket only.',
      [planObjects],
    );

    const validateData = catchFailure(lambdaTask(STATES.validateData, 'validateData', '$.data'));

    const train = new PrefixScopedTrainingJob(this, STATES.train, {
      jobNamePrefix: TRAINING_JOB_PREFIX,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      trainingJobName: sfn.JsonPath.stringAt('$.run.trainingJobName'),
      role: props.training.role,
      algorithmSpecification: {
        trainingImage: tasks.DockerImage.fromEcrRepository(props.training.repository, props.training.imageTag),
        trainingInputMode: tasks.InputMode.FILE,
      },
      // The whole map of string hyperparameters, as BeginRun resolved them.
      hyperparameters: sfn.JsonPath.objectAt('$.run.hyperparameters') as unknown as Record<string, unknown>,
      inputDataConfig: [
        {
          channelName: 'train',
          dataSource: {
            s3DataSource: { s3Location: new ExecutionS3Location('$.data.trainUri'), s3DataType: tasks.S3DataType.S3_PREFIX },
          },
        },
      ],
      outputDataConfig: { s3OutputLocation: new ExecutionS3Location('$.run.artifactsPrefix') },
      resourceConfig: {
        instanceCount: 1,
        instanceType: new ec2.InstanceType(props.training.instanceType.replace(/^ml\./, '')),
        volumeSize: Size.gibibytes(props.training.volumeGb),
      },
      stoppingCondition: { maxRuntime: props.training.maxRuntime },
      // The job's own limit plus time to provision the instance and upload the model.
      taskTimeout: taskTimeout(props.training.maxRuntime.toSeconds() + TRAINING_TASK_MARGIN_SECONDS),
      // DescribeTrainingJob is large; keep what TrainingResultSchema uses.
      resultSelector: {
        TrainingJobName: sfn.JsonPath.stringAt('$.TrainingJobName'),
        TrainingJobStatus: sfn.JsonPath.stringAt('$.TrainingJobStatus'),
        ModelArtifacts: sfn.JsonPath.objectAt('$.ModelArtifacts'),
      },
    });
    train.addRetry({ errors: [...SAGEMAKER_RETRY_ERRORS], interval: Duration.seconds(30), maxAttempts: 3, backoffRate: 2 });

    const trainAll = catchFailure(new sfn.Parallel(this, STATES.trainAll, { resultPath: '$.training' }));
    trainAll.branch(train);
    trainAll.branch(lambdaTask(STATES.trainBaselines, 'trainBaselines'));

    // What serving reads at request time (online user state, the shelf's fallback), one shard of
    // listeners per task so that no task holds every listener (lib/pipeline/serving-state.ts). PlanFeatures
    // sized the shards from the data: one item per shard, the shard being the item's index.
    const planServingShards = new sfn.Pass(this, STATES.planServingShards, {
      parameters: { shards: sfn.JsonPath.arrayRange(1, sfn.JsonPath.numberAt('$.plan.servingShards'), 1) },
      resultPath: '$.servingShards',
    });
    const publishServingState = catchFailure(
      new sfn.Map(this, STATES.publishServingState, {
        itemsPath: '$.servingShards.shards',
        itemSelector: {
          run: sfn.JsonPath.objectAt('$.run'),
          plan: sfn.JsonPath.objectAt('$.plan'),
          partitions: sfn.JsonPath.objectAt('$.partitions'),
          baselines: sfn.JsonPath.objectAt('$.training[1]'),
          shard: sfn.JsonPath.numberAt('$$.Map.Item.Index'),
          shards: sfn.JsonPath.numberAt('$.plan.servingShards'),
        },
        maxConcurrency: SERVING_STATE_SHARDS,
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    publishServingState.itemProcessor(lambdaTask(STATES.publishServingStateShard, 'publishServingState'));

    const evaluate = catchFailure(lambdaTask(STATES.evaluate, 'evaluate', '$.evaluation'));
    const deploy = catchFailure(lambdaTask(STATES.deploy, 'deploy', '$.deploy'));
    const recordRejection = catchFailure(lambdaTask(STATES.recordRejection, 'recordRejection', '$.outcome'));
    const gate = new sfn.Choice(this, STATES.gate)
      .when(sfn.Condition.booleanEquals('$.evaluation.decision.pass', true), deploy.next(done))
      .otherwise(recordRejection.next(done));

    const alreadyDone = new sfn.Choice(this, STATES.alreadyDone)
      .when(sfn.Condition.booleanEquals('$.run.alreadyDone', true), done)
      .otherwise(
        planFeatures
          .next(buildFeatures)
          .next(validateData)
          .next(trainAll)
          .next(planServingShards)
          .next(publishServingState)
          .next(evaluate)
          .next(gate),
      );

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, STATE_MACHINE.id, {
      definitionBody: sfn.DefinitionBody.fromChainable(beginRun.next(alreadyDone)),
      timeout: executionTimeout,
      tracingEnabled: true,
      // Execution data is run metadata (URIs, counts, metrics), no personal data; it makes failures readable.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      comment: 'home-shelves retraining: features, SageMaker training, evaluation gate, deploy',
    });
    (this.stateMachine.node.defaultChild as sfn.CfnStateMachine).overrideLogicalId(STATE_MACHINE.id);

    acknowledgeWildcardResources(
      this.stateMachine,
      'Step Functions log delivery (logs:*LogDelivery, PutResourcePolicy, Describe*) and X-Ray actions support no resource-level permissions.',
      ['*'],
    );
    acknowledgeWildcardResources(
      this.stateMachine,
      'Invoking a pipeline function includes its versions and aliases (<arn>:*); only the functions of this state machine are listed.',
      Object.values(fns).map((fn) => `${fn.functionArn}:*`),
    );
    acknowledgeWildcardResources(
      this.stateMachine,
      'The BuildFeatures Distributed Map reads the partition list and writes its results under runs/ of the artifacts bucket only.',
      [runArtifacts],
    );
    // The Distributed Map's child executions (one per partition batch) are executions of this state machine only.
    const executionName = Arn.split(this.stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName;
    const executionArn = (resourceName: string) =>
      Stack.of(this).formatArn({ service: 'states', resource: 'execution', resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    acknowledgeWildcardResources(
      this.stateMachine,
      'The BuildFeatures Distributed Map describes, stops and redrives the child executions of this state machine only.',
      [`${executionArn(`${executionName}`)}:*`, executionArn(`${executionName}/*:*`)],
    );
    acknowledgeWildcardResources(
      this.stateMachine,
      `Training job names come from the execution (one per run attempt); the state machine may manage only jobs named ${TRAINING_JOB_PREFIX}*.`,
      [trainingJobArn(this, TRAINING_JOB_PREFIX)],
    );
  }
}

/** A Lambda task waits this long beyond its function's own timeout (invocation and cold start). */
const LAMBDA_TASK_MARGIN_SECONDS = 60;
/** The training task waits this long beyond the job's MaxRuntime (instance start, model upload). */
const TRAINING_TASK_MARGIN_SECONDS = 30 * 60;

/** A Lambda task with the project's retry policy; `resultPath` as in the pipeline contract (default `$`). */
function pipelineLambdaTask(scope: Construct, state: string, fn: IFunction, timeout: sfn.Timeout, resultPath?: string): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, state, {
    lambdaFunction: fn,
    payloadResponseOnly: true,
    taskTimeout: timeout,
    // One explicit retry policy below instead of the construct's implicit one.
    retryOnServiceExceptions: false,
    ...(resultPath !== undefined ? { resultPath } : {}),
  });
  task.addRetry({
    errors: [...LAMBDA_SERVICE_ERRORS, ...TRANSIENT_ERRORS],
    interval: Duration.seconds(2),
    maxAttempts: 4,
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  });
  return task;
}

/** ARN pattern of the training jobs whose names start with `prefix`. */
function trainingJobArn(scope: Construct, prefix: string): string {
  return Stack.of(scope).formatArn({ service: 'sagemaker', resource: 'training-job', resourceName: `${prefix}*` });
}

/**
 * An S3 URI taken from the execution document (a per-run prefix) that grants nothing when bound.
 * `S3Location.fromJsonExpression` would give the training role s3:GetObject, s3:ListBucket and
 * s3:PutObject on every bucket ("*"); the role's own statements (lib/infra/training.ts) already allow
 * exactly runs/ of the features bucket (read) and of the artifacts bucket (write).
 */
class ExecutionS3Location extends tasks.S3Location {
  constructor(private readonly jsonPath: string) {
    super();
  }

  override bind(): tasks.S3LocationConfig {
    return { uri: sfn.JsonPath.stringAt(this.jsonPath) };
  }
}

/**
 * The Distributed Map's ItemReader, with a read grant on `objects` (runs/ of the artifacts bucket)
 * where the CDK class grants s3:GetObject on every object of the bucket.
 */
class RunScopedItemReader extends sfn.S3JsonItemReader {
  constructor(
    private readonly objects: string,
    props: sfn.S3FileItemReaderProps,
  ) {
    super(props);
  }

  override providePolicyStatements(): iam.PolicyStatement[] {
    return [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.objects] })];
  }
}

/** The Distributed Map's ResultWriter, with its write grant on `objects` instead of every object of the bucket. */
class RunScopedResultWriter extends sfn.ResultWriterV2 {
  constructor(
    private readonly objects: string,
    props: sfn.ResultWriterV2Props,
  ) {
    super(props);
  }

  override providePolicyStatements(): iam.PolicyStatement[] {
    return [
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: [this.objects],
      }),
    ];
  }
}

interface PrefixScopedTrainingJobProps extends tasks.SageMakerCreateTrainingJobProps {
  /** Job names (from the execution input) always start with this; the state machine may manage only those jobs. */
  readonly jobNamePrefix: string;
}

/**
 * SageMakerCreateTrainingJob whose state machine permissions are scoped to one job-name prefix. The
 * base class grants `training-job/*` and `sagemaker:ListTags` on `*` when the name is a JSON path.
 */
class PrefixScopedTrainingJob extends tasks.SageMakerCreateTrainingJob {
  constructor(scope: Construct, id: string, props: PrefixScopedTrainingJobProps) {
    const { jobNamePrefix, ...base } = props;
    super(scope, id, base);
    const stack = Stack.of(this);
    const jobs = trainingJobArn(this, jobNamePrefix);
    const statements = [
      new iam.PolicyStatement({
        actions: [
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:AddTags',
          'sagemaker:ListTags',
        ],
        resources: [jobs],
      }),
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
      // The .sync integration watches the job through this managed EventBridge rule.
      new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForSageMakerTrainingJobsRule' }),
        ],
      }),
    ];
    // taskPolicies is read when the state is bound to the state machine, after this constructor.
    (this as unknown as { taskPolicies: iam.PolicyStatement[] }).taskPolicies = statements;
  }
}
