/**
 * The main job on the embedded local runtime (`npm start`, `shelves pipeline`): make sure the raw
 * bucket holds data (the default simulated world, or a folder you bring), then run the retraining
 * pipeline for the chosen shelves and print what happened.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHELVES, type Shelf } from '../core/contract.ts';
import { readEnv } from '../wiring/env.ts';
import type { ExecutionInput } from '../wiring/pipeline.ts';
import { runShelfPipeline, type ShelfRunResult } from './pipeline.ts';
import { progressPrinter, resultTable } from './progress.ts';
import { loadCatalogTable, rawDataPresent, uploadDataset } from './seed-data.ts';
import { DEFAULT_WORLD } from '../sim/world.ts';
import { writeWorld } from '../sim/write-world.ts';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Ensures the raw bucket has data: uploads `dataDir` when given, else generates the default world if the bucket is empty. */
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
  const items = await loadCatalogTable(dir);
  log(`data: ${files} files in the raw bucket, ${items} catalog items in the catalog table`);
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
}

/** Runs the pipeline for each shelf in turn and prints its table. */
export async function runPipelines(home: string, request: PipelineRequest): Promise<ShelfRunResult[]> {
  const results: ShelfRunResult[] = [];
  const onEvent = request.quiet ? undefined : progressPrinter(log);
  for (const shelf of request.shelves) {
    log(`\npipeline: ${shelf}, run ${request.runId}`);
    const input: ExecutionInput = {
      shelf,
      runId: request.runId,
      ...(request.cutoff ? { cutoff: request.cutoff } : {}),
      ...(request.windowDays !== undefined ? { windowDays: request.windowDays } : {}),
      ...(request.evalSampleUsers !== undefined ? { evalSampleUsers: request.evalSampleUsers } : {}),
      ...(request.hyperparameters ? { hyperparameters: { ...request.hyperparameters } } : {}),
    };
    const result = await runShelfPipeline(input, {
      home,
      ...(onEvent ? { onEvent } : {}),
      trainingLog: request.quiet ? () => undefined : (line) => log(`    ${line}`),
    });
    results.push(result);
    process.stdout.write(resultTable(result));
  }
  return results;
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
