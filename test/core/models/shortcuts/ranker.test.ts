import { describe, expect, it } from 'vitest';
import { fitRanker, rankerArrays, rankerFromArrays, type RankerModel } from '../../../../lib/core/models/shortcuts/ranker.ts';
import type { RankingExamples } from '../../../../lib/core/models/shortcuts/types.ts';
import { RECENCY, SYNTHETIC_FEATURES, syntheticExamples, top1Accuracy } from './synthetic.ts';

const train = syntheticExamples(400, 1);
const test = syntheticExamples(300, 2);
const model = fitRanker(train, { seed: 9 });
const scoresOf = (m: RankerModel, examples: RankingExamples) => m.score(examples.features, examples.labels.length);
const bytes = (m: RankerModel) =>
  Object.entries(rankerArrays(m))
    .map(([name, a]) => `${name}:${Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64')}`)
    .join('|');

describe('fitRanker (LambdaRank boosted trees)', () => {
  it('beats "most recent first" on held-out groups where the choice depends on hour affinity and frequency', () => {
    const mostRecent = top1Accuracy(
      test,
      Array.from({ length: test.labels.length }, (_, r) => -(test.features[r * SYNTHETIC_FEATURES.length + RECENCY] as number)),
    );
    const learned = top1Accuracy(test, scoresOf(model, test));
    expect(mostRecent).toBeLessThan(0.3);
    expect(learned).toBeGreaterThan(0.75);
    expect(learned - mostRecent).toBeGreaterThan(0.5);
  });

  it('builds 80 trees of depth 4 without a validation split', () => {
    const full = fitRanker(train, { seed: 9, validationShare: 0 });
    expect(full.depth).toBe(4);
    expect(full.splitFeature.length).toBe(80 * 15);
    expect(full.leafValue.length).toBe(80 * 16);
    expect(full.training).toEqual({ treesKept: 80, validationGroups: 0, validationNdcg: null });
  });

  it('by default holds out 10% of the groups and keeps the trees up to the best held-out NDCG@10', () => {
    const { treesKept, validationGroups, validationNdcg } = model.training;
    expect(validationGroups).toBe(40);
    expect(treesKept).toBeGreaterThanOrEqual(1);
    expect(treesKept).toBeLessThanOrEqual(80);
    expect(model.splitFeature.length).toBe(treesKept * 15);
    expect(model.leafValue.length).toBe(treesKept * 16);
    expect(validationNdcg).toBeGreaterThan(0.5);
    // Less patience never keeps more trees; the same seed keeps the same ones.
    expect(fitRanker(train, { seed: 9, patience: 1 }).training.treesKept).toBeLessThanOrEqual(treesKept);
    expect(bytes(fitRanker(train, { seed: 9 }))).toBe(bytes(model));
  });

  it('splits its first stump on the most informative feature', () => {
    const stump = fitRanker(train, { seed: 9, trees: 1, depth: 1 });
    expect(stump.splitFeature[0]).toBe(SYNTHETIC_FEATURES.indexOf('hourAffinity'));
    // A row whose hour affinity is above the threshold scores the right leaf, below it the left one.
    const threshold = stump.splitThreshold[0] as number;
    const s = stump.score(Float32Array.from([0, threshold, 0, 0, 0, threshold + 0.01, 0, 0]), 2);
    expect([s[0], s[1]]).toEqual([stump.leafValue[0], stump.leafValue[1]]);
    expect(s[1]).toBeGreaterThan(s[0] as number);
  });

  it('fits to identical bytes from the same examples and seed, and differs by seed when subsampling', () => {
    expect(bytes(fitRanker(train, { seed: 9 }))).toBe(bytes(model));
    const a = fitRanker(train, { seed: 1, subsample: 0.5, trees: 5 });
    expect(bytes(fitRanker(train, { seed: 1, subsample: 0.5, trees: 5 }))).toBe(bytes(a));
    expect(bytes(fitRanker(train, { seed: 2, subsample: 0.5, trees: 5 }))).not.toBe(bytes(a));
  });

  it('round-trips through its typed arrays with identical scores', () => {
    const loaded = rankerFromArrays(rankerArrays(model), SYNTHETIC_FEATURES.length, model.depth);
    expect(scoresOf(loaded, test)).toEqual(scoresOf(model, test));
  });

  it('learns nothing from groups without a preferred row: every score is zero', () => {
    const flat: RankingExamples = { ...train, labels: new Float32Array(train.labels.length) };
    expect(new Set(scoresOf(fitRanker(flat, { seed: 9, trees: 3 }), test))).toEqual(new Set([0]));
  });
});
