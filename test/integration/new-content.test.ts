/**
 * A new content type mid-world: from day 20 on, shows of one podcast category are published under a
 * category the catalog never had ("audio-drama"; listeners answer them exactly as before, the
 * ground truth is unchanged). The run before it appeared cannot know the new category's feature; its
 * items reach that model only through the features it does know (publisher, language, type), as
 * serving's indexItems gives them. The next run trains on the days since and learns the feature: its
 * recall@10 on the new category's shows, in the same test window for both, is higher.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogItem, ListeningEvent, User } from '../../lib/core/contract.ts';
import { evaluateRuns } from '../../lib/core/eval/evaluate.ts';
import type { EvalSet } from '../../lib/core/eval/eval-set.ts';
import { fitHybrid } from '../../lib/core/models/hybrid/index.ts';
import type { Feature } from '../../lib/core/models/recommender.ts';
import { buildShelfData } from '../../lib/core/transforms/protocol.ts';
import { generateWorld } from '../../lib/sim/world.ts';

const DAY = 86_400_000;
const START = Date.parse('2026-09-01T00:00:00Z');
const NEW_CATEGORY = 'audio-drama';
const APPEARS = START + 20 * DAY;
let dir: string;
let events: ListeningEvent[];
let catalog: CatalogItem[];
let users: User[];
let renamed: string;

const lines = async <T>(f: string): Promise<T[]> =>
  (await readFile(f, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shelves-new-content-'));
  const manifest = await generateWorld(dir, { users: 1500, days: 40, seed: 31, start: '2026-09-01' });
  events = [];
  for (const p of manifest.partitions) for (const f of p.files) events.push(...(await lines<ListeningEvent>(join(dir, f))));
  users = await lines<User>(join(dir, 'users', 'users.jsonl'));
  const original = await lines<CatalogItem>(join(dir, 'catalog', 'catalog.jsonl'));
  // The category whose shows published from day 20 on are listened to most becomes the new one for those shows.
  const lateShows = new Map(original.filter((i) => i.type === 'show' && Date.parse(i.publishedAt) >= APPEARS).map((i) => [i.itemId, i]));
  const counts = new Map<string, number>();
  for (const e of events) {
    const show = lateShows.get(e.itemId) ?? lateShows.get(e.itemId.replace(/-ep\d+$/, ''));
    if (show !== undefined && e.eventType !== 'impression')
      counts.set(show.categories[0] ?? '', (counts.get(show.categories[0] ?? '') ?? 0) + 1);
  }
  renamed = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? '';
  catalog = original.map((i) =>
    i.type === 'show' && Date.parse(i.publishedAt) >= APPEARS && i.categories[0] === renamed
      ? { ...i, categories: [NEW_CATEGORY, ...i.categories.slice(1)] }
      : i,
  );
}, 240_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The evaluation set restricted to relevant shows of the new category (users without one left out). */
function onlyNewCategory(set: EvalSet, ids: ReadonlySet<string>): EvalSet {
  return {
    ...set,
    cases: set.cases
      .map((c) => ({ ...c, relevant: new Map([...c.relevant].filter(([id]) => ids.has(id))) }))
      .filter((c) => c.relevant.size > 0),
  };
}

describe('a new content category mid-world', () => {
  it("is learned by the next run: its recall@10 beats the run before's in the same window", () => {
    const newShows = new Set(catalog.filter((i) => i.categories[0] === NEW_CATEGORY).map((i) => i.itemId));
    expect(newShows.size).toBeGreaterThanOrEqual(3);
    const testCutoff = START + 33 * DAY;
    const window = buildShelfData('podcasts', { events, catalog, users, cutoff: testCutoff, testDays: 7, snapshot: 'next' });
    const before = buildShelfData('podcasts', {
      events: events.filter((e) => Date.parse(e.timestamp) < APPEARS),
      catalog,
      users,
      cutoff: APPEARS,
      testDays: 7,
      snapshot: 'before',
    });
    // The run before never saw the new category's feature in training.
    const trainedFeatures = new Set(
      [...(before.train.itemFeatures ?? new Map<string, readonly Feature[]>()).values()].flatMap((f) => f.map(([name]) => name)),
    );
    expect(trainedFeatures.has(`cat:${NEW_CATEGORY}`)).toBe(false);
    expect(window.itemFeatures.get([...newShows][0] as string)?.some(([name]) => name === `cat:${NEW_CATEGORY}`)).toBe(true);

    const options = { epochs: 20, seed: 7, identityDropout: 0.2 };
    const previous = fitHybrid(before.train, options);
    const next = fitHybrid(window.train, options);
    // Both models meet the new shows as serving does: indexed from their catalog features.
    for (const m of [previous, next]) m.indexItems(window.itemFeatures);
    const set = onlyNewCategory(window.eval, newShows);
    expect(set.cases.length).toBeGreaterThanOrEqual(20);
    const report = evaluateRuns(
      set,
      [
        { name: 'next run', role: 'candidate', recommender: next },
        { name: 'run before', role: 'baseline', recommender: previous },
      ],
      { k: 10, resamples: 300 },
    );
    const recall = (name: string) => report.runs.find((r) => r.name === name)?.metrics['recall@10']?.mean ?? 0;
    const difference = report.comparisons.find((c) => c.against === 'run before' && c.metric === 'recall@10')?.difference;
    process.stdout.write(
      `new category "${NEW_CATEGORY}" (was "${renamed}", ${newShows.size} shows, ${set.cases.length} users): recall@10 run before ${recall('run before').toFixed(4)}, next run ${recall('next run').toFixed(4)}, difference ${difference?.mean.toFixed(4)} [${difference?.lo.toFixed(4)}, ${difference?.hi.toFixed(4)}]\n`,
    );
    expect(recall('next run')).toBeGreaterThan(recall('run before'));
    expect(difference?.lo).toBeGreaterThan(0);
  }, 240_000);
});
