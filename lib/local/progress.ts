/** Progress lines and result tables of local pipeline runs, for the CLI (stderr for progress). */
import type { Shelf } from '../core/contract.ts';
import { messageFromCause } from '../wiring/pipeline.ts';
import type { ShelfRunEvent, ShelfRunResult, StepMemory } from './pipeline.ts';

/** Returns an onEvent callback that prints one line per top-level step and a count for map iterations. */
export function progressPrinter(
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): (shelf: Shelf, event: ShelfRunEvent) => void {
  const started = new Map<string, number>();
  let mapDone = 0;
  return (shelf, event) => {
    const key = `${shelf}:${event.state ?? ''}`;
    if (event.type === 'MapIterationSucceeded') {
      mapDone++;
      if (mapDone % 10 === 0) write(`  [${shelf}] ${event.state ?? 'map'}: ${mapDone} partitions done`);
      return;
    }
    if (event.index !== undefined || event.state === undefined) return;
    if (event.type === 'StateEntered') {
      started.set(key, event.timestamp);
      if (event.stateType === 'Map') mapDone = 0;
      if (event.stateType !== 'Choice' && event.stateType !== 'Succeed') write(`  [${shelf}] ${event.state} ...`);
    } else if (event.type === 'StateExited') {
      const t0 = started.get(key);
      if (event.stateType !== 'Choice' && event.stateType !== 'Succeed' && t0 !== undefined)
        write(
          `  [${shelf}] ${event.state} done in ${((event.timestamp - t0) / 1000).toFixed(1)} s${event.memory ? `, ${memoryText(event.memory)}` : ''}`,
        );
    } else if (event.type === 'StateRetried') {
      write(`  [${shelf}] ${event.state} retry ${event.attempt ?? ''}: ${event.error ?? ''}`);
    } else if (event.type === 'StateFailed' || event.type === 'StateCaught') {
      // The error's name alone ("Unknown", "States.TaskFailed") says little: the cause's message follows it.
      const message = event.cause ? messageFromCause(event.cause).split('\n')[0] : '';
      write(
        `  [${shelf}] ${event.state} ${event.type === 'StateCaught' ? 'failed (caught)' : 'failed'}: ${event.error ?? ''}${message ? ` (${message})` : ''}`,
      );
    }
  };
}

/** The per-shelf table `npm start` and `shelves pipeline` print: candidate, live and baselines with intervals, then the decision. */
export function resultTable(result: ShelfRunResult): string {
  const lines: string[] = [];
  lines.push(`\n${result.shelf.toUpperCase()}  run ${result.runId}: ${result.outcome} (${(result.totalMs / 1000).toFixed(1)} s)`);
  if (result.evaluation) {
    const { summary, decision } = result.evaluation;
    const metric = summary[0]?.metric ?? decision.primaryMetric;
    lines.push(`  ${'model'.padEnd(28)} ${'role'.padEnd(10)} ${metric.padStart(9)}   95% CI`);
    const sorted = [...summary].sort((a, b) => b.value - a.value);
    const best = sorted[0]?.value ?? 1;
    for (const row of sorted) {
      const bar = '█'.repeat(Math.max(0, Math.round((row.value / (best || 1)) * 20)));
      lines.push(
        `  ${row.name.padEnd(28)} ${row.role.padEnd(10)} ${row.value.toFixed(4).padStart(9)}   [${row.lo.toFixed(4)}, ${row.hi.toFixed(4)}]  ${bar}`,
      );
    }
    lines.push(
      `  gate: ${decision.pass ? 'PASS' : 'FAIL'}${decision.liveVersion ? ` (live: ${decision.liveVersion})` : ' (no live model yet)'}`,
    );
    for (const reason of decision.reasons) lines.push(`    - ${reason}`);
  }
  if (result.error) lines.push(`  error: ${result.error.Error}: ${result.error.message}`);
  const steps = Object.entries(result.stepMs);
  if (steps.length > 0) lines.push(`  steps: ${steps.map(([s, ms]) => `${s} ${(ms / 1000).toFixed(1)}s`).join(', ')}`);
  const memory = Object.entries(result.stepMemory);
  if (memory.length > 0) {
    lines.push(`  peak RSS: ${memory.map(([s, m]) => `${s} ${memoryText(m)}`).join(', ')}`);
    lines.push(`  pipeline process peak RSS: ${megabytes(result.peakRssBytes)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A step's memory in one phrase: the training job's own peak (`job 1,234 MB`), or for a step run in
 * the pipeline's process its peak RSS and, in brackets, what it added above its start.
 */
export function memoryText(memory: StepMemory): string {
  if (memory.jobPeakBytes !== undefined) return `job ${megabytes(memory.jobPeakBytes)}`;
  return `${megabytes(memory.processPeakBytes)} (+${megabytes(memory.growthBytes)})`;
}

/** Bytes as whole megabytes (10^6), thousands separated: `1,234 MB`. */
export function megabytes(bytes: number): string {
  return `${Math.round(bytes / 1e6).toLocaleString('en-US')} MB`;
}
