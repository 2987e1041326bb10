import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogItemSchema, DatasetManifestSchema, ListeningEventSchema, UserSchema } from '../../lib/core/contract.ts';
import { Rng } from '../../lib/core/rng.ts';
import { loadTruth, playProbability, respond } from '../../lib/sim/respond.ts';
import { openDataset } from '../../lib/io/dataset.ts';
import { generateWorld } from '../../lib/sim/world.ts';

const options = { users: 300, days: 10, seed: 7, start: '2026-09-01' };
let a: string;
let b: string;

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}
const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

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

  it('reads back through the dataset reader at the default 1% limit with no rejects: every event names a known user and item and none is after the end', async () => {
    const dataset = await openDataset(a);
    const catalog = await dataset.readCatalog();
    const users = await dataset.readUsers();
    expect([catalog.rejects, users.rejects]).toEqual([[], []]);
    const stream = dataset.streamEvents({
      knownItems: new Set(catalog.rows.map((i) => i.itemId)),
      knownUsers: new Set(users.rows.map((u) => u.userId)),
      dedupe: true,
    });
    let events = 0;
    for await (const event of stream) if (event.userId !== '') events++;
    expect(events).toBe(dataset.manifest?.counts.events);
    expect(stream.reports.map((r) => r.rejected)).toEqual(Array.from({ length: 10 }, () => 0));
  });

  it('writes rows that all satisfy the data contract, each partition sorted by time and within its day', () => {
    const catalog = lines(join(a, 'catalog', 'catalog.jsonl')).map((r) => CatalogItemSchema.parse(r));
    const users = new Map(
      lines(join(a, 'users', 'users.jsonl'))
        .map((r) => UserSchema.parse(r))
        .map((u) => [u.userId, u]),
    );
    const durations = new Map(catalog.map((i) => [i.itemId, i.durationMs]));
    const manifest = DatasetManifestSchema.parse(JSON.parse(readFileSync(join(a, 'manifest.json'), 'utf8')));
    for (const p of manifest.partitions) {
      const events = lines(join(a, p.files[0] as string)).map((r) => ListeningEventSchema.parse(r));
      expect(events.map((e) => e.timestamp)).toEqual(events.map((e) => e.timestamp).sort());
      for (const e of events) {
        expect(e.timestamp.slice(0, 10)).toBe(p.dt);
        expect(e.localHour).toBe(new Date(e.timestamp).getUTCHours());
        const user = users.get(e.userId);
        expect(user).toBeDefined();
        expect([e.country, e.device]).toEqual([user?.country, user?.device]);
        expect(e.timestamp >= (user?.signupAt ?? '')).toBe(true);
        expect(e.msPlayed).toBeLessThanOrEqual(durations.get(e.itemId) ?? Infinity);
        expect(durations.has(e.itemId)).toBe(true);
      }
    }
  });

  it('has mostly plays, with impressions, skips, saves and completions among them', () => {
    const all = files(a)
      .filter((f) => f.startsWith('events'))
      .flatMap((f) => lines(join(a, f)));
    const byType = new Map<string, number>();
    for (const e of all) byType.set(String(e.eventType), (byType.get(String(e.eventType)) ?? 0) + 1);
    for (const type of ['impression', 'play', 'skip', 'save', 'resume', 'complete']) expect(byType.get(type) ?? 0, type).toBeGreaterThan(0);
    expect((byType.get('play') ?? 0) + (byType.get('resume') ?? 0) + (byType.get('complete') ?? 0)).toBeGreaterThan(all.length / 2);
  });

  it('has habits, releases, sign-ups and a heavy tail', () => {
    const all = files(a)
      .filter((f) => f.startsWith('events'))
      .flatMap((f) => lines(join(a, f)));
    expect(all.some((e) => e.eventType === 'resume')).toBe(true);
    const catalog = lines(join(a, 'catalog', 'catalog.jsonl'));
    const days = Array.from({ length: 10 }, (_, i) => `2026-09-${String(i + 1).padStart(2, '0')}`);
    for (const type of ['show', 'episode', 'playlist']) {
      const published = new Set(catalog.filter((i) => i.type === type).map((i) => String(i.publishedAt).slice(0, 10)));
      for (const day of days) expect(published.has(day), `${type} on ${day}`).toBe(true);
    }
    const signups = new Set(lines(join(a, 'users', 'users.jsonl')).map((u) => String(u.signupAt).slice(0, 10)));
    for (const day of days) expect(signups.has(day), `sign-ups on ${day}`).toBe(true);
    const existing = lines(join(a, 'users', 'users.jsonl')).filter((u) => String(u.signupAt) < '2026-09-01').length;
    expect(existing).toBe(240);
    const plays = new Map<string, number>();
    for (const e of all) {
      if (e.eventType === 'impression' || e.eventType === 'skip' || e.eventType === 'save') continue;
      const item = String(e.itemId).replace(/-ep\d+$/, ''); // an episode's plays count for its show
      plays.set(item, (plays.get(item) ?? 0) + 1);
    }
    const counts = [...plays.values()].sort((x, y) => y - x);
    const top = counts.slice(0, Math.ceil(counts.length * 0.01)).reduce((s, n) => s + n, 0);
    expect(top / counts.reduce((s, n) => s + n, 0)).toBeGreaterThan(0.1);
  });

  it("repeats familiar listening at the user's habitual hour", () => {
    const hours = new Map<string, number[]>();
    for (const f of files(a).filter((f) => f.startsWith('events'))) {
      for (const e of lines(join(a, f))) {
        if (e.eventType !== 'play' && e.eventType !== 'resume' && e.eventType !== 'complete') continue;
        const key = `${String(e.userId)} ${String(e.itemId).replace(/-ep\d+$/, '')}`;
        (hours.get(key) ?? hours.set(key, []).get(key))?.push(Number(e.localHour));
      }
    }
    let near = 0;
    let total = 0;
    for (const hs of hours.values()) {
      if (hs.length < 3) continue;
      const counts = new Map<number, number>();
      for (const h of hs) counts.set(h, (counts.get(h) ?? 0) + 1);
      const mode = ([...counts].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0] as [number, number])[0];
      for (const h of hs) {
        total++;
        if (Math.min(Math.abs(h - mode), 24 - Math.abs(h - mode)) <= 2) near++;
      }
    }
    expect(total).toBeGreaterThan(100);
    expect(near / total).toBeGreaterThan(0.6);
  });

  it("lets an item's primary category predict who plays it, for items released during the world too", async () => {
    const truth = await loadTruth(a);
    const dims = JSON.parse(readFileSync(join(a, 'truth', 'params.json'), 'utf8')).dims as string[];
    const catalog = new Map(lines(join(a, 'catalog', 'catalog.jsonl')).map((i) => [String(i.itemId), i]));
    let players = 0;
    let population = 0;
    let n = 0;
    for (const f of files(a).filter((f) => f.startsWith('events'))) {
      for (const e of lines(join(a, f))) {
        if (e.eventType !== 'play') continue;
        const item = catalog.get(String(e.itemId));
        if (item === undefined || String(item.publishedAt) < '2026-09-01') continue;
        const d = dims.indexOf((item.categories as string[])[0] as string);
        players += (truth.tastes.get(String(e.userId)) as Float32Array)[d] as number;
        population += truth.meanTaste[d] as number;
        n++;
      }
    }
    expect(n).toBeGreaterThan(50);
    expect(players / n).toBeGreaterThan(2 * (population / n));
  });

  it("draws onboarding picks from the user's own tastes", async () => {
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

  it("answers with plays more often for items close to the user's taste", async () => {
    const truth = await loadTruth(a);
    const [userId, taste] = [...truth.tastes][0] as [string, Float32Array];
    const ranked = [...truth.items]
      .map(([id, item]) => [id, item.latent.reduce((s, v, d) => s + v * (taste[d] as number), 0)] as const)
      .sort((x, y) => y[1] - x[1]);
    const close = ranked.slice(0, 20).map(([id]) => id);
    const far = ranked.slice(-20).map(([id]) => id);
    const mean = (ids: string[]) => ids.reduce((s, id) => s + playProbability(truth, userId, id), 0) / ids.length;
    expect(mean(close)).toBeGreaterThan(mean(far));
    const now = Date.parse('2026-09-11T00:00:00Z');
    const plays = (ids: string[]) => {
      const rng = new Rng(1);
      let n = 0;
      for (let round = 0; round < 50; round++) n += respond(truth, userId, ids, now, rng).filter((r) => r === 'play').length;
      return n;
    };
    expect(plays(close)).toBeGreaterThan(plays(far));
    const responses = respond(truth, userId, close, now, new Rng(2));
    expect(responses).toHaveLength(20);
    expect(responses.every((r) => r === 'play' || r === 'skip' || r === 'none')).toBe(true);
  });

  it('never plays an item before it is published, and answers for unknown users with the mean taste', async () => {
    const truth = await loadTruth(a);
    const [userId] = [...truth.tastes.keys()] as [string];
    const best = [...truth.items]
      .sort((x, y) => y[1].quality - x[1].quality)
      .slice(0, 10)
      .map(([id]) => id);
    const before = Date.parse('2020-01-01T00:00:00Z');
    const rng = new Rng(3);
    for (let round = 0; round < 20; round++) expect(respond(truth, userId, best, before, rng)).not.toContain('play');
    expect(playProbability(truth, 'nobody', best[0] as string)).toBeCloseTo(
      playProbability({ ...truth, tastes: new Map([['nobody', truth.meanTaste]]) }, 'nobody', best[0] as string),
    );
  });

  it('gives a different world for a different seed', async () => {
    const c = mkdtempSync(join(tmpdir(), 'world-c-'));
    try {
      await generateWorld(c, { ...options, users: 50, days: 2, seed: 8 });
      expect(readFileSync(join(c, 'users', 'users.jsonl'), 'utf8')).not.toBe(
        `${readFileSync(join(a, 'users', 'users.jsonl'), 'utf8')
          .split('\n')
          .slice(0, 50)
          .join('\n')}\n`,
      );
    } finally {
      rmSync(c, { recursive: true, force: true });
    }
  });
});
