/**
 * Runs the retraining pipeline on the embedded local runtime: the state machine definition comes
 * from the synthesized CDK template (the one `cdk deploy` ships), executed by aws-local-stepfunctions
 * with the real Lambda handler modules and the real training entrypoint.
 */
import type { Shelf } from '../core/contract.ts';
import { synthesizeTemplates, stateMachineResource } from '../infra/synth.ts';
import { EvaluationResultSchema, messageFromCause, type EvaluationResult, type ExecutionInput } from '../wiring/pipeline.ts';
import { runPipelineLocally, type CfnTemplate, type LocalExecutionEvent } from './state-machine.ts';

export interface ShelfRunResult {
  readonly shelf: Shelf;
  readonly runId: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  /** deployed | rejected | failed | already-done */
  readonly outcome: string;
  readonly evaluation?: EvaluationResult;
  readonly error?: { readonly Error: string; readonly message: string };
  readonly stepMs: Readonly<Record<string, number>>;
  readonly totalMs: number;
}

let cachedTemplate: CfnTemplate | undefined;

/** The stack template, synthesized once per process without bundling (handlers run from source here). */
export function pipelineTemplate(): CfnTemplate {
  if (cachedTemplate === undefined) {
    const templates = Object.values(synthesizeTemplates({ bundling: false }));
    const template = templates.find((t) => {
      try {
        stateMachineResource(t);
        return true;
      } catch {
        return false;
      }
    });
    if (template === undefined) throw new Error('no stack of the CDK app holds the retraining state machine');
    cachedTemplate = template as CfnTemplate;
  }
  return cachedTemplate;
}

export interface LocalRunOptions {
  readonly home: string;
  readonly onEvent?: (shelf: Shelf, event: LocalExecutionEvent) => void;
  readonly trainingLog?: (line: string) => void;
}

/** Runs one execution of the pipeline for one shelf and sums up its outcome. */
/** How an execution of the pipeline ended: failed, already-done, deployed, or RecordRejection's status. */
export function runOutcomeOf(result: { readonly status: string; readonly output?: unknown }): string {
  const output = (result.output ?? {}) as { outcome?: { status?: string }; deploy?: unknown; run?: { alreadyDone?: boolean } };
  if (result.status === 'FAILED') return 'failed';
  if (output.run?.alreadyDone) return 'already-done';
  if (output.deploy !== undefined) return 'deployed';
  return output.outcome?.status ?? 'unknown';
}

export async function runShelfPipeline(input: ExecutionInput, options: LocalRunOptions): Promise<ShelfRunResult> {
  const started = performance.now();
  const entered = new Map<string, number>();
  const stepMs: Record<string, number> = {};
  const result = await runPipelineLocally({
    template: pipelineTemplate(),
    input,
    executionName: `${input.shelf}-${input.runId}`,
    home: options.home,
    ...(options.trainingLog ? { trainingLog: options.trainingLog } : {}),
    onEvent: (event) => {
      if (event.state !== undefined && event.index === undefined) {
        if (event.type.endsWith('Entered')) entered.set(event.state, event.timestamp);
        if (event.type.endsWith('Exited')) {
          const t0 = entered.get(event.state);
          if (t0 !== undefined) stepMs[event.state] = (stepMs[event.state] ?? 0) + (event.timestamp - t0);
        }
      }
      options.onEvent?.(input.shelf, event);
    },
  });
  const output = (result.output ?? {}) as { evaluation?: unknown };
  const evaluation = EvaluationResultSchema.safeParse(output.evaluation);
  const outcome = runOutcomeOf(result);
  return {
    shelf: input.shelf,
    runId: input.runId,
    status: result.status,
    outcome,
    ...(evaluation.success ? { evaluation: evaluation.data } : {}),
    ...(result.error ? { error: { Error: result.error.Error, message: messageFromCause(result.error.Cause) } } : {}),
    stepMs,
    totalMs: performance.now() - started,
  };
}
