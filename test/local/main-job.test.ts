/**
 * The main job's shelves, overlapping: the next shelf starts once the previous one has built the
 * clean partitions (and reuses every one of them), the two executions run side by side, and the
 * results come back in the shelves' order.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Shelf } from '../../lib/core/contract.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { runPipelines } from '../../lib/local/main-job.ts';
import type { ShelfRunEvent } from '../../lib/local/pipeline.ts';
import { uploadDataset } from '../../lib/local/seed-data.ts';
import { generateWorld } from '../../lib/sim/world.ts';
import { RAW_BUCKET } from '../../lib/wiring/resources.ts';

let home: string;
let engines: LocalEngines;

beforeAll(async () => {
  process.env.LOG_LEVEL = 'ERROR';
  home = await mkdtemp(join(tmpdir(), 'shelves-main-job-'));
  engines = await startLocalEngines({ home });
  const world = join(home, 'world');
  await generateWorld(world, { users: 400, days: 35, seed: 11, start: '2026-09-01' });
  await uploadDataset(world, RAW_BUCKET.localName);
}, 120_000);

afterAll(async () => {
  await engines?.stop();
  await rm(home, { recursive: true, force: true });
});

describe('runPipelines with concurrency 2', () => {
  it('starts the next shelf after the previous one built its features, overlaps them and keeps the order', async () => {
    const events: { shelf: Shelf; event: ShelfRunEvent }[] = [];
    const results = await runPipelines(home, {
      shelves: ['podcasts', 'playlists'],
      runId: 'overlap-1',
      hyperparameters: { epochs: '3' },
      quiet: true,
      concurrency: 2,
      onEvent: (shelf, event) => events.push({ shelf, event }),
    });
    expect(results.map((r) => [r.shelf, r.status])).toEqual([
      ['podcasts', 'SUCCEEDED'],
      ['playlists', 'SUCCEEDED'],
    ]);
    const at = (shelf: Shelf, state: string, type: string) => {
      const found = events.find(
        (e) => e.shelf === shelf && e.event.state === state && e.event.type === type && e.event.index === undefined,
      );
      if (found === undefined) throw new Error(`no ${type} of ${state} for ${shelf}`);
      return found.event;
    };
    // The second shelf's run began only after the first had left BuildFeatures...
    expect(at('playlists', 'BeginRun', 'StateEntered').timestamp).toBeGreaterThanOrEqual(
      at('podcasts', 'BuildFeatures', 'StateExited').timestamp,
    );
    // ...and before the first ended: the two ran side by side.
    expect(at('playlists', 'BeginRun', 'StateEntered').timestamp).toBeLessThan(at('podcasts', 'Evaluate', 'StateEntered').timestamp);
    // It found every clean partition built and reused them.
    const counts = (at('playlists', 'ValidateData', 'StateExited').output as { data?: { counts?: Record<string, number> } }).data?.counts;
    expect(counts?.partitions).toBeGreaterThan(0);
    expect(counts?.reusedPartitions).toBe(counts?.partitions);
  }, 300_000);
});
