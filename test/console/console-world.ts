/**
 * A small world for the console's browser tests: the real local engines, a simulated service history
 * with one show whose title is an XSS probe, and one pipeline run per shelf (the same state machine as
 * `npm start`), then `shelves serve`'s server started in-process on loopback.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EndpointStore } from '../../lib/aws/endpoints.ts';
import { ModelRegistry } from '../../lib/aws/registry.ts';
import { SHELVES } from '../../lib/core/contract.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { runShelfPipeline, type ShelfRunResult } from '../../lib/local/pipeline.ts';
import { uploadDataset } from '../../lib/local/seed-data.ts';
import { generateWorld } from '../../lib/sim/world.ts';
import { RAW_BUCKET } from '../../lib/wiring/resources.ts';

/** The title a catalog item carries in these tests: it must appear as text, never run. */
export const XSS_TITLE = '<img src=x onerror=alert(1)>';

export interface ConsoleWorld {
  readonly home: string;
  readonly engines: LocalEngines;
  readonly runs: readonly ShelfRunResult[];
  /** The show renamed to XSS_TITLE (the most played show, so the popularity baseline shows it to a new listener). */
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
  for (const file of await walkFiles(join(world, 'events'))) {
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
  const runs: ShelfRunResult[] = [];
  // Podcasts trains fully (the diagnostic must find it more personal than popularity); the others briefly.
  for (const shelf of SHELVES)
    runs.push(
      await runShelfPipeline(
        { shelf, runId: 'r1', hyperparameters: shelf === 'podcasts' ? {} : { epochs: '8' } },
        { home, trainingLog: () => undefined },
      ),
    );
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

/**
 * Deploys by hand what this small world's gate rejected (the console is under test, not the gate),
 * then makes popularity (the Playlists run's own baseline artifact) the Playlists model: registered,
 * deployed as canary and promoted, so the previous trained version stays to compare with.
 */
export async function deployForConsole(runs: readonly ShelfRunResult[]): Promise<void> {
  const registry = new ModelRegistry();
  const endpoints = new EndpointStore();
  // Deployed by hand where this small world's candidate did not pass the gate: the console is under test, not the gate.
  for (const run of runs) {
    const versionId = `${run.shelf}-r1`;
    // Shortcuts may fail on its own (it shows serving's heuristic then); the two others are needed below.
    if (run.outcome === 'failed' && run.shelf !== 'shortcuts') throw new Error(`${run.shelf} run failed: ${JSON.stringify(run.error)}`);
    if (run.outcome === 'failed') continue;
    if ((await endpoints.getEndpoint(run.shelf)).liveVersion === null) {
      await endpoints.deployCandidate(run.shelf, versionId, { canaryWeight: 0.2 });
      await registry.updateVersionStatus(run.shelf, versionId, 'live', 'deployed by hand for the console tests');
    }
  }
  // Popularity (the run's own baseline artifact) becomes the Playlists model: canary, then promoted.
  const trained = (await registry.getVersion('playlists', 'playlists-r1'))!;
  const base = trained.artifactUri.replace(/\/runs\/playlists\/r1\/.*$/, '/runs/playlists/r1/');
  await registry.putVersion({
    ...trained,
    versionId: 'playlists-popularity',
    runId: 'popularity',
    kind: 'popularity',
    status: 'evaluated',
    artifactUri: `${base}baselines/popularity/`,
    createdAt: new Date(Date.parse(trained.createdAt) + 1000).toISOString(),
  });
  await endpoints.deployCandidate('playlists', 'playlists-popularity', { canaryWeight: 0.2 });
  await endpoints.promoteCanary('playlists');
  await registry.updateVersionStatus('playlists', 'playlists-popularity', 'live', 'popularity deployed as the model, for the diagnostic');
  await registry.updateVersionStatus('playlists', 'playlists-r1', 'retired', 'replaced by playlists-popularity');
}
