/** The simulator's default world, generated into a temporary folder and read back (benches only). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CatalogItem, type DatasetManifest, type ListeningEvent, type Shelf, toEpochMs, type User } from '../lib/core/contract.ts';
import { SHELF_CONFIG } from '../lib/core/shelf-settings.ts';
import { buildShelfData, type ShelfData } from '../lib/core/transforms/protocol.ts';
import { DEFAULT_WORLD, generateWorld } from '../lib/sim/world.ts';

const DAY = 86_400_000;

export interface LoadedWorld {
  readonly manifest: DatasetManifest;
  readonly events: ListeningEvent[];
  readonly catalog: CatalogItem[];
  readonly users: User[];
}

const lines = async <T>(f: string): Promise<T[]> =>
  (await readFile(f, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

/** Generates the default world, reads it, and removes the folder. */
export async function defaultWorld(): Promise<LoadedWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-world-'));
  try {
    const manifest = await generateWorld(dir, DEFAULT_WORLD);
    const events: ListeningEvent[] = [];
    for (const p of manifest.partitions) for (const f of p.files) events.push(...(await lines<ListeningEvent>(join(dir, f))));
    return {
      manifest,
      events,
      catalog: await lines<CatalogItem>(join(dir, 'catalog', 'catalog.jsonl')),
      users: await lines<User>(join(dir, 'users', 'users.jsonl')),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A shelf's validation window, as the tuning benches choose settings on it (never the test window):
 * the world before the evaluation cut-off, its last `testDays` held out.
 */
export function validationData(world: LoadedWorld, shelf: Shelf, snapshot: string): ShelfData {
  const { testDays } = SHELF_CONFIG[shelf];
  const evalCutoff = Date.parse(world.manifest.end) - testDays * DAY;
  const before = (iso: string): boolean => toEpochMs(iso) < evalCutoff;
  return buildShelfData(shelf, {
    events: world.events.filter((e) => before(e.timestamp)),
    catalog: world.catalog.filter((c) => before(c.publishedAt)),
    users: world.users.filter((u) => before(u.signupAt)),
    cutoff: evalCutoff - testDays * DAY,
    testDays,
    snapshot,
  });
}
