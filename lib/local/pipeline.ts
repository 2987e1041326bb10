/**
 * Runs the retraining pipeline on the embedded local runtime: the state machine definition comes
 * from the synthesized CDK template (the one `cdk deploy` ships), executed by aws-local-stepfunctions
 * with the real Lambda handler modules and the real training entrypoint.
 */
import type { Shelf } from '../core/contract.ts';
import { STATE_MACHINE } from '../wiring/resources.ts';
import { EvaluationResultSchema, STATES, messageFromCause, type EvaluationResult, type ExecutionInput } from '../wiring/pipeline.ts';
import { PeakRssSampler } from './peak-memory.ts';
import { onTrainingJobUsage } from './sagemaker-runner.ts';
import { runPipelineLocally, type CfnTemplate, type LocalExecutionEvent } from './state-machine.ts';
import { readCachedTemplate, templateCacheKey, writeCachedTemplate } from './template-cache.ts';

/**
 * Memory of one step. Lambda steps run in the pipeline's own process: `processPeakBytes` is that
 * process's highest RSS while the step ran (the local engines and any step running beside it
 * included: an upper bound of the step's own), `growthBytes` what the step added above the RSS it
 * started at (close to the step's own heap and buffers). The training job runs in its own process,
 * measured on its own: `jobPeakBytes`.
 */
export interface StepMemory {
  readonly processPeakBytes: number;
  readonly growthBytes: number;
  readonly jobPeakBytes?: number;
}

/** A progress event; a top-level StateExited carries the step's memory. */
export type ShelfRunEvent = LocalExecutionEvent & { readonly memory?: StepMemory };

/** The figure a step is held to (a Lambda's or a training instance's memory): the job's own peak, else the process's. */
export function stepPeakBytes(memory: StepMemory): number {
  return memory.jobPeakBytes ?? memory.processPeakBytes;
}

export interface ShelfRunResult {
  readonly shelf: Shelf;
  readonly runId: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  /** deployed | rejected | failed | already-done */
  readonly outcome: string;
  readonly evaluation?: EvaluationResult;
  readonly error?: { readonly Error: string; readonly message: string };
  readonly stepMs: Readonly<Record<string, number>>;
  /** Per top-level step (as stepMs); a step entered twice keeps its higher figures. */
  readonly stepMemory: Readonly<Record<string, StepMemory>>;
  /** Highest RSS of the pipeline's process during the run, bytes. */
  readonly peakRssBytes: number;
  readonly totalMs: number;
}

const holdsStateMachine = (template: CfnTemplate | undefined): boolean =>
  (template?.Resources as Record<string, { Type?: string }> | undefined)?.[STATE_MACHINE.id]?.Type === 'AWS::StepFunctions::StateMachine';

// The template kept by an earlier run whose synthesis inputs were the same (./template-cache.ts); only
// without one is aws-cdk-lib loaded (a few CPU-seconds before any step runs).
const templateKey = templateCacheKey();
let cachedTemplate: CfnTemplate | undefined = readCachedTemplate<CfnTemplate>(templateKey);
if (!holdsStateMachine(cachedTemplate)) cachedTemplate = undefined;
const synth = cachedTemplate === undefined ? await import('../infra/synth.ts') : undefined;

/**
 * The stack template, synthesized without bundling (handlers run from source here) and without CDK's
 * CloudFormation validation (only the definition is read here; `cdk synth` and the infra tests validate
 * the template), once per change of its inputs: kept in node_modules/.cache (./template-cache.ts).
 */
export function pipelineTemplate(): CfnTemplate {
  if (cachedTemplate === undefined) {
    if (synth === undefined) throw new Error('the CDK synthesis module was not loaded');
    const templates = Object.values(synth.synthesizeTemplates({ bundling: false, validation: false })) as CfnTemplate[];
    const template = templates.find(holdsStateMachine);
    if (template === undefined) throw new Error('no stack of the CDK app holds the retraining state machine');
    writeCachedTemplate(templateKey, template);
    cachedTemplate = template;
  }
  return cachedTemplate;
}

export interface LocalRunOptions {
  readonly home: string;
  readonly onEvent?: (shelf: Shelf, event: ShelfRunEvent) => void;
  readonly trainingLog?: (line: string) => void;
}

/** How an execution of the pipeline ended: failed, already-done, deployed, or RecordRejection's status. */
export function runOutcomeOf(result: { readonly status: string; readonly output?: unknown }): string {
  const output = (result.output ?? {}) as { outcome?: { status?: string }; deploy?: unknown; run?: { alreadyDone?: boolean } };
  if (result.status === 'FAILED') return 'failed';
  if (output.run?.alreadyDone) return 'already-done';
  if (output.deploy !== undefined) return 'deployed';
  return output.outcome?.status ?? 'unknown';
}

/** Runs one execution of the pipeline for one shelf and sums up its outcome, with each step's time and memory. */
export async function runShelfPipeline(input: ExecutionInput, options: LocalRunOptions): Promise<ShelfRunResult> {
  const started = performance.now();
  const entered = new Map<string, number>();
  const stepMs: Record<string, number> = {};
  const stepMemory: Record<string, StepMemory> = {};
  const spans = new Map<string, number>();
  const jobPeaks = new Map<string, number>();
  let trainingJobName: string | undefined;
  const sampler = new PeakRssSampler();
  const unsubscribe = onTrainingJobUsage((usage) => jobPeaks.set(usage.TrainingJobName, usage.peakRssBytes));
  const closeSpan = (state: string): StepMemory | undefined => {
    const slot = spans.get(state);
    if (slot === undefined) return undefined;
    spans.delete(state);
    const span = sampler.close(slot);
    // Runs may share a process (tests run shelves side by side): the job is this run's by its name ($.run.trainingJobName).
    const jobPeak =
      state !== STATES.train
        ? undefined
        : trainingJobName !== undefined
          ? jobPeaks.get(trainingJobName)
          : jobPeaks.size === 1
            ? [...jobPeaks.values()][0]
            : undefined;
    const before = stepMemory[state];
    const memory: StepMemory = {
      processPeakBytes: Math.max(span.peakRssBytes, before?.processPeakBytes ?? 0),
      growthBytes: Math.max(span.peakRssBytes - span.startRssBytes, before?.growthBytes ?? 0),
      ...(jobPeak !== undefined ? { jobPeakBytes: Math.max(jobPeak, before?.jobPeakBytes ?? 0) } : {}),
    };
    stepMemory[state] = memory;
    return memory;
  };
  try {
    const result = await runPipelineLocally({
      template: pipelineTemplate(),
      input,
      executionName: `${input.shelf}-${input.runId}`,
      home: options.home,
      ...(options.trainingLog ? { trainingLog: options.trainingLog } : {}),
      onEvent: (event) => {
        let memory: StepMemory | undefined;
        if (event.state !== undefined && event.index === undefined) {
          if (event.type.endsWith('Entered')) {
            entered.set(event.state, event.timestamp);
            if (!spans.has(event.state)) spans.set(event.state, sampler.open());
            if (event.state === STATES.train)
              trainingJobName = (event.input as { run?: { trainingJobName?: string } } | undefined)?.run?.trainingJobName;
          }
          if (event.type.endsWith('Exited')) {
            const t0 = entered.get(event.state);
            if (t0 !== undefined) stepMs[event.state] = (stepMs[event.state] ?? 0) + (event.timestamp - t0);
            memory = closeSpan(event.state);
          }
        }
        options.onEvent?.(input.shelf, memory ? { ...event, memory } : event);
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
      stepMemory,
      peakRssBytes: sampler.maxRssBytes(),
      totalMs: performance.now() - started,
    };
  } finally {
    unsubscribe();
    // A step that failed has no Exited event: its span still holds the memory it reached.
    for (const state of [...spans.keys()]) closeSpan(state);
    await sampler.stop();
  }
}
