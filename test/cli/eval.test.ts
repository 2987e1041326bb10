import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const F = 'test/fixtures/eval';
function shelves(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/shelves.mjs', 'eval', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('shelves eval', () => {
  it('prints one JSON object with metrics, intervals and paired comparisons (hand-checked NDCG)', () => {
    const r = shelves('--truth', `${F}/truth.jsonl`, '--predictions', `model=${F}/model.jsonl`, '--predictions', `pop=${F}/pop.jsonl`, '--k', '2', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.k).toBe(2);
    expect(out.runs.map((x: { name: string }) => x.name)).toEqual(['model', 'pop']);
    const model = out.runs[0];
    expect(model.users).toBe(2); // u3 has no relevant items and is left out
    expect(Object.keys(model.metrics)).toEqual(['ndcg@2', 'precision@2', 'recall@2', 'map@2', 'mrr@2', 'hitrate@2']);
    // u1: [a, x] vs {a, b} -> 1 / (1 + 1/log2 3); u2 graded: [d, c] vs {c: 3, d: 1} -> (1 + 3/log2 3) / (3 + 1/log2 3)
    const u1 = 1 / (1 + 1 / Math.log2(3));
    const u2 = (1 + 3 / Math.log2(3)) / (3 + 1 / Math.log2(3));
    expect(model.metrics['ndcg@2']).toBeCloseTo((u1 + u2) / 2, 10);
    expect(model.ci['ndcg@2'][0]).toBeLessThanOrEqual(model.metrics['ndcg@2']);
    expect(out.comparisons.find((c: { metric: string }) => c.metric === 'ndcg@2')).toMatchObject({ a: 'model', b: 'pop' });
  });

  it.each([
    ['a bad JSON line', `m=${F}/badjson.jsonl`, /badjson\.jsonl:2: not valid JSON/],
    ['a user listed twice', `m=${F}/twice.jsonl`, /twice\.jsonl:2, field "userId": user "u1" is listed twice/],
    ['a missing file', `m=${F}/nope.jsonl`, /nope\.jsonl: cannot read: no such file/],
    ['an item listed twice', `m=${F}/dup.jsonl`, /dup\.jsonl: the list of user u1 names item "a" twice/],
  ])('exits non-zero on %s, naming the file and line', (_t, prediction, message) => {
    const r = shelves('--truth', `${F}/truth.jsonl`, '--predictions', prediction, '--k', '2');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
