/**
 * A small world for the console's browser tests: the real local engines, a simulated service history
 * with one show whose title is an XSS probe, and one pipeline run per shelf (the same state machine as
 * `npm start`), then `shelves serve`'s server started in-process on loopback.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHELVES } from '../../lib/core/contract.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { runShelfPipeline, type ShelfRunResult } from '../../lib/local/pipeline.ts';
import { loadCatalogTable, uploadDataset } from '../../lib/local/seed-data.ts';
import { generateWorld } from '../../lib/sim/world.ts';
import { RAW_BUCKET } from '../../lib/wiring/resources.ts';

/** The title a catalog item carries in these tests: it must appear as text, never run. */
export const XSS_TITLE = '<img src=x onerror=alert(1)>';

export interface ConsoleWorld {
  readonly home: string;
  readonly engines: LocalEngines;
  readonly runs: readonly ShelfRunResult[];
  /** The show renamed to XSS_TITLE (the most played show, so popularity shows it). */
  readonly xssItemId: string;
  cleanup(): Promise<void>;
}

/** Generates the world, renames the most played show, uploads it and runs the pipeline for every shelf. */
export async function startConsoleWorld(options: { users?: number; days?: number; home?: string } = {}): Promise<ConsoleWorld> {
  process.env.LOG_LEVEL = 'ERROR';
  const home = options.home ?? (await mkdtemp(join(tmpdir(), 'shelves-console-')));
  const engines = await startLocalEngines({ home });
  const world = join(home, 'world');
  await generateWorld(world, { users: options.users ?? 400, days: options.days ?? 30, seed: 11, start: '2026-09-01' });
  const catalogFile = join(world, 'catalog', 'catalog.jsonl');
  const catalog = (await readFile(catalogFile, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { itemId: string; type: string; title: string; showId?: string });
  const showOf = new Map(catalog.map((i) => [i.itemId, i.showId ?? i.itemId]));
  const plays = new Map<string, number>();
  const { walkFiles } = await import('../../lib/io/files.ts');
  for (const file of (await walkFiles(join(world, 'events'))).slice(0, 5)) {
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      if (line === '') continue;
      const e = JSON.parse(line) as { itemId: string };
      const show = showOf.get(e.itemId);
      if (show !== undefined) plays.set(show, (plays.get(show) ?? 0) + 1);
    }
  }
  const shows = new Set(catalog.filter((i) => i.type === 'show').map((i) => i.itemId));
  const xssItemId = [...plays].filter(([id]) => shows.has(id)).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  await writeFile(
    catalogFile,
    `${catalog.map((i) => JSON.stringify(i.itemId === xssItemId ? { ...i, title: XSS_TITLE } : i)).join('\n')}\n`,
  );
  await uploadDataset(world, RAW_BUCKET.localName);
  await loadCatalogTable(world);
  const runs: ShelfRunResult[] = [];
  for (const shelf of SHELVES)
    runs.push(await runShelfPipeline({ shelf, runId: 'r1', hyperparameters: { epochs: '8' } }, { home, trainingLog: () => undefined }));
  return {
    home,
    engines,
    runs,
    xssItemId,
    async cleanup() {
      await engines.stop();
      await rm(home, { recursive: true, force: true });
    },
  };
}
