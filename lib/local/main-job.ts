/**
 * The main job on the embedded local runtime (`npm start`, `shelves pipeline`): make sure the raw
 * bucket holds data (the default simulated world, or a folder you bring), then run the retraining
 * pipeline for the chosen shelves and print what happened.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHELVES, type Shelf } from '../core/contract.ts';
import { readEnv } from '../wiring/env.ts';
import { STATES, type ExecutionInput } from '../wiring/pipeline.ts';
import { runShelfPipeline, type ShelfRunEvent, type ShelfRunResult } from './pipeline.ts';
import { progressPrinter, resultTable } from './progress.ts';
import { rawDataPresent, uploadDataset } from './seed-data.ts';
import { DEFAULT_WORLD } from '../sim/world.ts';
import { writeWorld } from '../sim/write-world.ts';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * Ensures the raw bucket has data: uploads `dataDir` when given, else generates the default world if
 * the bucket is empty.
 */
export async function ensureData(home: string, dataDir?: string): Promise<void> {
  const bucket = readEnv('RAW_BUCKET');
  let dir = dataDir;
  if (dir === undefined) {
    if (await rawDataPresent(bucket)) {
      log(`data: raw bucket ${bucket} already holds events (reset with: rm -rf ${home})`);
      return;
    }
    dir = join(home, 'world');
    if (!existsSync(join(dir, 'manifest.json'))) {
      log(
        `data: generating the default world (${DEFAULT_WORLD.users} users, ${DEFAULT_WORLD.days} days, seed ${DEFAULT_WORLD.seed}) into ${dir}`,
      );
      await writeWorld(dir, DEFAULT_WORLD, log);
    }
  }
  const files = await uploadDataset(dir, bucket, (done, total) => {
    if (done === total || done % 20 === 0) log(`data: uploaded ${done}/${total} files to s3://${bucket}/`);
  });
  log(`data: ${files} files in the raw bucket`);
}

export interface PipelineRequest {
  readonly shelves: readonly Shelf[];
  readonly runId: string;
  readonly hyperparameters?: Readonly<Record<string, string>>;
  readonly cutoff?: string;
  /** Execution input windowDays / evalSampleUsers; default: the shelf's settings. */
  readonly windowDays?: number;
  readonly evalSampleUsers?: number;
  readonly quiet?: boolean;
  /**
   * Most executions running at once; default 1 (one shelf after another). Above 1 a shelf starts once
   * the shelf started before it has left BuildFeatures (its clean partitions, keyed by content, are
   * what the next shelves reuse: building them twice at once would only double the work) and a slot
   * is free. Steps then share the machine with another shelf's, and their times and memory include
   * that work.
   */
  readonly concurrency?: number;
  /** Receives every progress event of every shelf's run (besides the progress lines unless quiet). */
  readonly onEvent?: (shelf: Shelf, event: ShelfRunEvent) => void;
}

/** Runs the pipeline for each shelf (in turn, or overlapping: `concurrency`) and prints each table as its run ends; results in the shelves' order. */
export async function runPipelines(home: string, request: PipelineRequest): Promise<ShelfRunResult[]> {
  const results: ShelfRunResult[] = [];
  const printer = request.quiet ? undefined : progressPrinter(log);
  const concurrency = Math.max(1, Math.floor(request.concurrency ?? 1));
  const running = new Set<Promise<void>>();
  let previousBuilt: Promise<void> = Promise.resolve();
  let failure: { error: unknown } | undefined;
  for (const [i, shelf] of request.shelves.entries()) {
    await previousBuilt;
    while (running.size >= concurrency) await Promise.race(running);
    if (failure !== undefined) break;
    let built!: () => void;
    previousBuilt = new Promise<void>((resolve) => {
      built = resolve;
    });
    const onEvent = (s: Shelf, event: ShelfRunEvent): void => {
      if (event.state === STATES.buildFeatures && event.index === undefined && event.type === 'StateExited') built();
      printer?.(s, event);
      request.onEvent?.(s, event);
    };
    const run = runShelf(home, request, shelf, onEvent)
      .then((result) => {
        results[i] = result;
        process.stdout.write(resultTable(result));
      })
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => {
        built();
        running.delete(run);
      });
    running.add(run);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure.error;
  return results;
}

/** One execution of the pipeline for one shelf. */
async function runShelf(
  home: string,
  request: PipelineRequest,
  shelf: Shelf,
  onEvent: (shelf: Shelf, event: ShelfRunEvent) => void,
): Promise<ShelfRunResult> {
  log(`\npipeline: ${shelf}, run ${request.runId}`);
  const input: ExecutionInput = {
    shelf,
    runId: request.runId,
    ...(request.cutoff ? { cutoff: request.cutoff } : {}),
    ...(request.windowDays !== undefined ? { windowDays: request.windowDays } : {}),
    ...(request.evalSampleUsers !== undefined ? { evalSampleUsers: request.evalSampleUsers } : {}),
    ...(request.hyperparameters ? { hyperparameters: { ...request.hyperparameters } } : {}),
  };
  return runShelfPipeline(input, {
    home,
    onEvent,
    trainingLog: request.quiet ? () => undefined : (line) => log(`    ${line}`),
  });
}

export function parseShelves(value: string): Shelf[] {
  if (value === 'all') return [...SHELVES];
  return value.split(',').map((s) => {
    if (!(SHELVES as readonly string[]).includes(s)) throw new Error(`unknown shelf "${s}"; expected all or one of ${SHELVES.join(', ')}`);
    return s as Shelf;
  });
}

/** A run id from the clock, for runs nobody named: sortable, unique per second. */
export function newRunId(now = new Date()): string {
  return `run-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}`;
}
