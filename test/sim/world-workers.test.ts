import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { shardWorkerBundle } from '../../lib/sim/shards.ts';
import { generateWorld, WORKER_THRESHOLD_USERS, workersFor } from '../../lib/sim/world.ts';

const options = { users: 400, days: 5, seed: 13, start: '2026-12-30' };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('the world simulator on worker threads', () => {
  it('writes the same bytes with 0, 1 and 3 workers (users split in ranges, days merged in time order)', async () => {
    const worlds: string[] = [];
    for (const workers of [0, 1, 3]) {
      const dir = mkdtempSync(join(tmpdir(), `world-w${workers}-`));
      dirs.push(dir);
      const manifest = await generateWorld(dir, { ...options, workers });
      expect(manifest.counts.events).toBeGreaterThan(1000);
      worlds.push(dir);
    }
    const [one, ...others] = worlds as [string, ...string[]];
    expect(files(one)).toContain(join('events', 'dt=2027-01-01', 'part-00000.jsonl'));
    for (const other of others) {
      expect(files(other)).toEqual(files(one));
      for (const f of files(one)) expect(readFileSync(join(other, f)).equals(readFileSync(join(one, f))), `${other} ${f}`).toBe(true);
    }
  });

  it('starts the workers from one bundled module when run from source (no TypeScript loader per worker)', async () => {
    const entry = await shardWorkerBundle();
    expect(entry?.protocol).toBe('file:');
    const file = fileURLToPath(entry as URL);
    expect(file).toMatch(/shard-worker-[0-9a-f]{16}\.mjs$/);
    expect(existsSync(file)).toBe(true);
    // Self-contained but for zod: no import of our TypeScript sources is left.
    const code = readFileSync(file, 'utf8');
    expect(code).not.toMatch(/from\s+["'][^"']*\.ts["']/);
    expect(code).toContain('parentPort');
  });

  it('uses workers by default only for a large world on idle cores', () => {
    expect(workersFor(WORKER_THRESHOLD_USERS - 1, 8, 0)).toBe(0);
    expect(workersFor(1_000_000, 1, 0)).toBe(0);
    expect(workersFor(1_000_000, 2, 0.5)).toBe(2);
    expect(workersFor(1_000_000, 2, 6)).toBe(0);
  });

  it('rejects a negative or fractional number of workers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'world-bad-'));
    dirs.push(dir);
    await expect(generateWorld(dir, { ...options, workers: -1 })).rejects.toThrow('workers must be a whole number >= 0, got -1');
    await expect(generateWorld(dir, { ...options, workers: 1.5 })).rejects.toThrow('got 1.5');
  });
});
