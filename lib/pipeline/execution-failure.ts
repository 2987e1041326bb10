/**
 * Records a run as failed when its Step Functions execution fails, times out or is aborted where no
 * Catch could run RecordFailure (the execution timeout, an abort, a payload over the state limit).
 * The input is the EventBridge "Step Functions Execution Status Change" event; its `detail.input` is
 * the execution input as a JSON string, which names the shelf and the run id.
 */
import { z } from 'zod';
import type { ModelRegistry } from '../aws/registry.ts';
import { ShelfSchema } from '../core/contract.ts';
import type { RunOutcome } from '../wiring/pipeline.ts';
import { FAILED_EXECUTION_STATUSES } from '../wiring/resources.ts';
import { recordFailure } from './outcomes.ts';

export { FAILED_EXECUTION_STATUSES };

/** The part of the EventBridge event this adapter reads (EventBridge sends more). */
export const ExecutionStatusChangeSchema = z.object({
  source: z.literal('aws.states'),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    executionArn: z.string(),
    stateMachineArn: z.string(),
    name: z.string(),
    status: z.enum(FAILED_EXECUTION_STATUSES),
    /** The execution input as JSON text; null when it was too large to include. */
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});
export type ExecutionStatusChange = z.infer<typeof ExecutionStatusChangeSchema>;

/** The run an execution belongs to: the fields BeginRun keys the registry on. */
const RunKeySchema = z.looseObject({ shelf: ShelfSchema, runId: z.string().min(1) });

export interface ExecutionFailureResult {
  /** True when this call marked the run failed; false when there was nothing (more) to record. */
  readonly recorded: boolean;
  readonly reason: string;
  readonly outcome?: RunOutcome;
}

/**
 * Marks the execution's run failed unless the registry already holds its end: a run the state
 * machine's own Catch recorded (status failed, with the step's message, which is kept), or a run that
 * was deployed or rejected (a re-run's later execution died after the run had finished).
 */
export async function recordExecutionFailure(
  event: ExecutionStatusChange,
  deps: { readonly registry: ModelRegistry; readonly now: () => Date },
): Promise<ExecutionFailureResult> {
  const { detail } = event;
  const key = RunKeySchema.safeParse(parseJson(detail.input));
  if (!key.success)
    return { recorded: false, reason: `execution ${detail.name} ${detail.status}: its input names no shelf and runId, nothing to record` };
  const { shelf, runId } = key.data;
  const run = await deps.registry.getRun(shelf, runId);
  if (run !== null && run.status !== 'running')
    return { recorded: false, reason: `run ${runId} of ${shelf} already ended ${run.status}; execution ${detail.name} ${detail.status}` };
  if (run?.executionName !== undefined && run.executionName !== detail.name)
    return { recorded: false, reason: `run ${runId} of ${shelf} belongs to execution ${run.executionName}, not ${detail.name}` };
  const why = [detail.error, detail.cause].filter((part) => part !== undefined && part !== null && part !== '').join(': ');
  const outcome = await recordFailure(
    shelf,
    runId,
    { Error: `execution ${detail.status}`, Cause: why === '' ? 'no error given' : why },
    deps,
  );
  return { recorded: true, reason: outcome.reason, outcome };
}

function parseJson(text: string | null | undefined): unknown {
  if (text === undefined || text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
