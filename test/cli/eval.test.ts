import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const F = 'test/fixtures/eval';
function shelves(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/shelves.mjs', 'eval', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const twoRuns = [
  '--truth',
  `${F}/truth.jsonl`,
  '--predictions',
  `model=${F}/model.jsonl`,
  '--predictions',
  `pop=${F}/pop.jsonl`,
  '--k',
  '2',
];

describe('shelves eval', () => {
  it('prints exactly one JSON object: k, runs with metrics and intervals, paired comparisons (hand-checked NDCG)', () => {
    const r = shelves(...twoRuns, '--json');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['k', 'runs', 'comparisons']);
    expect(out.k).toBe(2);
    expect(out.runs.map((x: { name: string }) => x.name)).toEqual(['model', 'pop']);
    const model = out.runs[0];
    expect(Object.keys(model)).toEqual(['name', 'users', 'metrics', 'ci']);
    expect(model.users).toBe(2); // u3 has no relevant items and is left out
    expect(Object.keys(model.metrics)).toEqual(['ndcg@2', 'precision@2', 'recall@2', 'map@2', 'mrr@2', 'hitrate@2', 'personalization']);
    expect(Object.keys(model.ci)).toEqual(['ndcg@2', 'precision@2', 'recall@2', 'map@2', 'mrr@2', 'hitrate@2']);
    // u1: [a, x] vs {a, b} -> 1 / (1 + 1/log2 3); u2 graded: [d, c] vs {c: 3, d: 1} -> (1 + 3/log2 3) / (3 + 1/log2 3)
    const u1 = 1 / (1 + 1 / Math.log2(3));
    const u2 = (1 + 3 / Math.log2(3)) / (3 + 1 / Math.log2(3));
    expect(model.metrics['ndcg@2']).toBeCloseTo((u1 + u2) / 2, 10);
    expect(model.metrics['precision@2']).toBeCloseTo(3 / 4, 12);
    expect(model.metrics['mrr@2']).toBe(1);
    const [lo, hi] = model.ci['ndcg@2'];
    expect(lo).toBeLessThanOrEqual(model.metrics['ndcg@2']);
    expect(hi).toBeGreaterThanOrEqual(model.metrics['ndcg@2']);
    // pop: u1 [x, y] misses; u2 [c] -> 3 / (3 + 1/log2 3).
    expect(out.runs[1].metrics['ndcg@2']).toBeCloseTo(3 / (3 + 1 / Math.log2(3)) / 2, 10);
    expect(out.comparisons).toHaveLength(6);
    const ndcg = out.comparisons.find((c: { metric: string }) => c.metric === 'ndcg@2');
    expect(Object.keys(ndcg)).toEqual(['candidate', 'against', 'metric', 'difference', 'ci', 'relativeLift', 'liftCi']);
    expect(ndcg).toMatchObject({ candidate: 'model', against: 'pop' });
    expect(ndcg.difference).toBeCloseTo(model.metrics['ndcg@2'] - out.runs[1].metrics['ndcg@2'], 12);
  });

  it('gives the same output for the same input and seed', () => {
    expect(shelves(...twoRuns, '--json', '--seed', '3').stdout).toBe(shelves(...twoRuns, '--json', '--seed', '3').stdout);
  });

  it('prints no comparisons for a single run', () => {
    const out = JSON.parse(shelves('--truth', `${F}/truth.jsonl`, '--predictions', `model=${F}/model.jsonl`, '--k', '3', '--json').stdout);
    expect(out.comparisons).toEqual([]);
    expect(out.runs[0].metrics['recall@3']).toBeCloseTo((1 + 1) / 2, 12);
  });

  it('adds coverage, diversity and freshness with a catalog', () => {
    const out = JSON.parse(shelves(...twoRuns, '--catalog', `${F}/catalog.jsonl`, '--now', '2026-11-01T00:00:00Z', '--json').stdout);
    const model = out.runs[0].metrics;
    // model top 2: [a, x], [d, c]: 4 distinct of 6; pairs news-news (same), sport-comedy (differ); a, x, c fresh of 4 slots.
    expect(model.coverage).toBeCloseTo(4 / 6, 12);
    expect(model.diversity).toBeCloseTo(1 / 2, 12);
    expect(model.freshness).toBeCloseTo(3 / 4, 12);
  });

  it('prints a readable table without --json', () => {
    const r = shelves(...twoRuns);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^2 users with relevant items \(1 without, left out\), k=2/);
    expect(r.stdout).toMatch(/\nrun\s+role\s+ndcg@2\s+precision@2/);
    expect(r.stdout).toMatch(/\nmodel\s+candidate\s+0\.7049 \[/);
    expect(r.stdout).toMatch(/model vs pop: ndcg@2 difference 0\.2918 \[/);
  });

  it.each([
    ['a bad JSON line', `m=${F}/badjson.jsonl`, /badjson\.jsonl:2: not valid JSON/],
    ['a user listed twice', `m=${F}/twice.jsonl`, /twice\.jsonl:2, field "userId": user "u1" is listed twice/],
    ['a missing file', `m=${F}/nope.jsonl`, /nope\.jsonl: cannot read: no such file/],
    ['an item listed twice', `m=${F}/dup.jsonl`, /dup\.jsonl:1, field "items": the list of user u1 names item "a" twice/],
    ['a record without items', `m=${F}/badfield.jsonl`, /badfield\.jsonl:1, field "items"/],
    ['a NAME=FILE without a name', `${F}/model.jsonl`, /--predictions takes NAME=FILE/],
  ])('exits non-zero on %s, naming the file and line, without a stack trace', (_t, prediction, message) => {
    const r = shelves('--truth', `${F}/truth.jsonl`, '--predictions', prediction, '--k', '2');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('rejects a k that is not a positive integer', () => {
    const r = shelves('--truth', `${F}/truth.jsonl`, '--predictions', `m=${F}/model.jsonl`, '--k', '0');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--k must be an integer ≥ 1, got "0"/);
  });
});
