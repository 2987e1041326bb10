/**
 * BeginRun: records the run in the registry (once per run id) and fixes every name the run will use.
 * A run id that already ended in a deployment or a rejection is reported as already done, so a
 * re-run never creates a second version; a failed run may be begun again.
 */
import { DEFAULT_EVAL_SAMPLE_USERS, DEFAULT_WINDOW_DAYS, SHELF_CONFIG } from '../core/shelf-settings.ts';
import type { ModelRegistry } from '../aws/registry.ts';
import type { ExecutionInput, RunContext } from '../wiring/pipeline.ts';
import { PREFIXES } from '../wiring/resources.ts';
import { trainingJobNameFor, versionIdFor } from './naming.ts';

export interface Buckets {
  readonly raw: string;
  readonly features: string;
  readonly artifacts: string;
}

export async function beginRun(
  input: ExecutionInput,
  deps: { registry: ModelRegistry; buckets: Buckets; now: () => Date; executionName?: string },
): Promise<RunContext> {
  const { shelf, runId } = input;
  const versionId = versionIdFor(shelf, runId);
  const { run } = await deps.registry.beginRun(shelf, runId, {
    startedAt: deps.now().toISOString(),
    versionId,
    ...(deps.executionName ? { executionName: deps.executionName } : {}),
  });
  const alreadyDone = run.status === 'deployed' || run.status === 'rejected';
  return {
    shelf,
    runId,
    versionId,
    trainingJobName: trainingJobNameFor(shelf, runId, run.attempt),
    rawPrefix: input.rawPrefix ?? `s3://${deps.buckets.raw}/`,
    featuresPrefix: `s3://${deps.buckets.features}/${PREFIXES.runs}${shelf}/${runId}/`,
    artifactsPrefix: `s3://${deps.buckets.artifacts}/${PREFIXES.runs}${shelf}/${runId}/`,
    ...(input.cutoff ? { cutoff: input.cutoff } : {}),
    windowDays: input.windowDays ?? SHELF_CONFIG[shelf].windowDays ?? DEFAULT_WINDOW_DAYS,
    evalSampleUsers: input.evalSampleUsers ?? SHELF_CONFIG[shelf].evalSampleUsers ?? DEFAULT_EVAL_SAMPLE_USERS,
    hyperparameters: {
      ...SHELF_CONFIG[shelf].hyperparameters,
      ...input.hyperparameters,
      shelf,
      algo: input.hyperparameters?.algo ?? SHELF_CONFIG[shelf].algo,
    },
    alreadyDone,
  };
}
