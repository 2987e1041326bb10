import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogItemSchema, DatasetManifestSchema, ListeningEventSchema, UserSchema } from '../../lib/core/contract.ts';
import { Rng } from '../../lib/core/rng.ts';
import { loadTruth, playProbability, respond } from '../../lib/sim/respond.ts';
import { generateWorld } from '../../lib/sim/world.ts';

const options = { users: 300, days: 10, seed: 7, start: '2026-09-01' };
let a: string;
let b: string;

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}
const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  a = mkdtempSync(join(tmpdir(), 'world-a-'));
  b = mkdtempSync(join(tmpdir(), 'world-b-'));
  await generateWorld(a, options);
  await generateWorld(b, options);
});
afterAll(() => {
  rmSync(a, { recursive: true, force: true });
  rmSync(b, { recursive: true, force: true });
});

describe('the world simulator', () => {
  it('writes identical bytes for the same options and seed', () => {
    expect(files(a)).toEqual(files(b));
    for (const f of files(a)) expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
  });

  it('writes date partitions, catalog, users, ground truth and a manifest whose counts match the files', () => {
    const manifest = DatasetManifestSchema.parse(JSON.parse(readFileSync(join(a, 'manifest.json'), 'utf8')));
    expect(manifest.seed).toBe(7);
    expect(manifest.partitions.map((p) => p.dt)).toEqual(Array.from({ length: 10 }, (_, i) => `2026-09-${String(i + 1).padStart(2, '0')}`));
    let events = 0;
    for (const p of manifest.partitions) for (const f of p.files) events += lines(join(a, f)).length;
    expect(events).toBe(manifest.counts.events);
    expect(lines(join(a, 'users', 'users.jsonl'))).toHaveLength(300);
    expect(lines(join(a, 'catalog', 'catalog.jsonl'))).toHaveLength(manifest.counts.items);
    expect(files(a)).toContain(join('truth', 'users.jsonl'));
  });

  it('writes rows that all satisfy the data contract, sorted by time per user', () => {
    for (const row of lines(join(a, 'catalog', 'catalog.jsonl'))) CatalogItemSchema.parse(row);
    for (const row of lines(join(a, 'users', 'users.jsonl'))) UserSchema.parse(row);
    const events = lines(join(a, 'events', 'dt=2026-09-05', 'part-00000.jsonl')).map((r) => ListeningEventSchema.parse(r));
    const last = new Map<string, string>();
    for (const e of events) {
      expect(e.timestamp >= (last.get(e.userId) ?? '')).toBe(true);
      last.set(e.userId, e.timestamp);
    }
  });

  it('has habits, releases, sign-ups and a heavy tail', () => {
    const all = files(a).filter((f) => f.startsWith('events')).flatMap((f) => lines(join(a, f)));
    expect(all.some((e) => e.eventType === 'resume')).toBe(true);
    const catalog = lines(join(a, 'catalog', 'catalog.jsonl'));
    const published = new Set(catalog.map((i) => String(i.publishedAt).slice(0, 10)));
    for (let d = 1; d <= 10; d++) expect(published.has(`2026-09-${String(d).padStart(2, '0')}`)).toBe(true);
    const signups = new Set(lines(join(a, 'users', 'users.jsonl')).map((u) => String(u.signupAt).slice(0, 10)).filter((d) => d >= '2026-09-01'));
    expect(signups.size).toBeGreaterThanOrEqual(8);
    const plays = new Map<string, number>();
    for (const e of all) if (e.eventType !== 'impression' && e.eventType !== 'skip') plays.set(String(e.itemId), (plays.get(String(e.itemId)) ?? 0) + 1);
    const counts = [...plays.values()].sort((x, y) => y - x);
    const top = counts.slice(0, Math.ceil(counts.length * 0.05)).reduce((s, n) => s + n, 0);
    expect(top / counts.reduce((s, n) => s + n, 0)).toBeGreaterThan(0.2);
  });

  it('draws onboarding picks from the user\'s own tastes', async () => {
    const truth = await loadTruth(a);
    const dims = JSON.parse(readFileSync(join(a, 'truth', 'params.json'), 'utf8')).dims as string[];
    let aligned = 0;
    let total = 0;
    for (const u of lines(join(a, 'users', 'users.jsonl'))) {
      const taste = truth.tastes.get(String(u.userId)) as Float32Array;
      for (const g of u.onboardingGenres as string[]) {
        total++;
        if ((taste[dims.indexOf(g)] ?? 0) > 0) aligned++;
      }
    }
    expect(aligned / total).toBeGreaterThan(0.75);
  });

  it('answers with plays more often for items close to the user\'s taste', async () => {
    const truth = await loadTruth(a);
    const [userId, taste] = [...truth.tastes][0] as [string, Float32Array];
    const ranked = [...truth.items].map(([id, item]) => [id, item.latent.reduce((s, v, d) => s + v * (taste[d] as number), 0)] as const).sort((x, y) => y[1] - x[1]);
    const close = ranked.slice(0, 20).map(([id]) => id);
    const far = ranked.slice(-20).map(([id]) => id);
    const mean = (ids: string[]) => ids.reduce((s, id) => s + playProbability(truth, userId, id), 0) / ids.length;
    expect(mean(close)).toBeGreaterThan(mean(far));
    const rng = new Rng(1);
    const responses = respond(truth, userId, close, rng);
    expect(responses).toHaveLength(20);
    expect(responses.every((r) => r === 'play' || r === 'skip' || r === 'none')).toBe(true);
  });
});
