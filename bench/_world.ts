/** The simulator's default world, generated into a temporary folder and read back (benches only). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogItem, DatasetManifest, ListeningEvent, User } from '../lib/core/contract.ts';
import { DEFAULT_WORLD, generateWorld } from '../lib/sim/world.ts';

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
