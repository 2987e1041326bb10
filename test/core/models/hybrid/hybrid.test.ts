import { describe, expect, it } from 'vitest';
import { ConfigError, InputError } from '../../../../lib/core/errors.ts';
import { OptionError } from '../../../../lib/core/models/option-error.ts';
import { manifestJson } from '../../../../lib/core/models/artifact.ts';
import {
  fitHybrid,
  HybridRecommender,
  loadHybrid,
  type HybridOptions,
  type HybridProgress,
} from '../../../../lib/core/models/hybrid/index.ts';
import { negativesFor } from '../../../../lib/core/models/hybrid/fit.ts';
import { groupPrecision, plantedWorld } from './planted.ts';

const world = plantedWorld();
const users = [...world.groupOf.keys()].filter((id) => id.startsWith('u'));
const FAST = { dim: 16, epochs: 15, seed: 3 } as const;

/** A fit of `epochs` epochs that all run (no refit), with its validation curve (one metric an epoch). */
const fitWithCurve = (epochs: number, options: HybridOptions = {}) => {
  const curve: number[] = [];
  const model = fitHybrid(world.data, {
    ...FAST,
    epochs,
    minEpochs: epochs,
    refit: false,
    ...options,
    onProgress: (p) => curve.push(p.metric as number),
  });
  return { model, curve };
};
const warp = fitHybrid(world.data, { ...FAST, loss: 'warp' });

describe('fitHybrid', () => {
  it.each([
    ['warp', 'adagrad'],
    ['bpr', 'adagrad'],
    ['warp', 'adam'],
    ['warp', 'adagrad-rowwise'],
    ['bpr', 'adagrad-rowwise'],
  ] as const)('learns the planted groups with %s loss and %s (precision@5 well above the 0.5 of chance)', (loss, optimizer) => {
    const model = fitHybrid(world.data, { ...FAST, loss, optimizer });
    expect(model.kind).toBe(loss === 'warp' ? 'hybrid-warp' : 'hybrid-bpr');
    expect(groupPrecision((u) => model.recommend({ userId: u, now: 0 }, 5), users, world.groupOf)).toBeGreaterThan(0.9);
  });

  it('learns the planted groups with row-wise Adagrad at a size that is not whole SIMD lanes (the JS kernel)', () => {
    const model = fitHybrid(world.data, { ...FAST, dim: 6, optimizer: 'adagrad-rowwise' });
    expect((model.save().manifest.extra as { training: { kernel: string } }).training.kernel).toBe('js');
    expect(groupPrecision((u) => model.recommend({ userId: u, now: 0 }, 5), users, world.groupOf)).toBeGreaterThan(0.9);
  });

  it('gives a cold user with features the items of their group', () => {
    for (const g of [0, 1]) {
      const recs = warp.recommend(
        {
          userId: 'never-seen',
          now: 0,
          features: [
            [`group:${g}`, 1],
            ['unknown:feature', 1],
          ],
        },
        5,
      );
      expect(recs).toHaveLength(5);
      for (const r of recs) expect(world.groupOf.get(r.itemId)).toBe(g);
    }
  });

  it('ranks an item added by indexItems for the group whose feature it has', () => {
    const model = fitHybrid(world.data, { ...FAST, loss: 'warp' });
    const count = model.indexItems(
      new Map([
        [
          'new-show',
          [
            ['genre:0', 1],
            ['genre:unheard-of', 1],
          ],
        ],
        ['featureless', [['nothing:known', 1]]],
      ]),
    );
    expect(count).toBe(1);
    expect(model.knownItems()).toContain('new-show');
    expect(model.knownItems()).not.toContain('featureless');
    const otherGroup = world.items.filter((id) => world.groupOf.get(id) === 1);
    const candidates = ['new-show', ...otherGroup];
    for (const u of users.filter((id) => world.groupOf.get(id) === 0).slice(0, 20)) {
      expect(model.recommend({ userId: u, now: 0 }, 1, { candidates })[0]?.itemId).toBe('new-show');
    }
  });

  it('produces identical artifact bytes for the same data and seed, and different bytes for another seed', () => {
    const a = fitHybrid(world.data, { ...FAST, epochs: 3 }).save();
    const b = fitHybrid(world.data, { ...FAST, epochs: 3 }).save();
    const c = fitHybrid(world.data, { ...FAST, epochs: 3, seed: 4 }).save();
    expect(manifestJson(b.manifest)).toBe(manifestJson(a.manifest));
    expect(Buffer.from(b.payload).equals(Buffer.from(a.payload))).toBe(true);
    expect(Buffer.from(c.payload).equals(Buffer.from(a.payload))).toBe(false);
  });

  it('reports every epoch, and runs them all without a validation split', () => {
    const seen: HybridProgress[] = [];
    const model = fitHybrid(world.data, { ...FAST, epochs: 4, validationShare: 0, onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.epoch)).toEqual([1, 2, 3, 4]);
    expect(seen.every((p) => p.metric === undefined && p.samples > 0 && Number.isFinite(p.loss))).toBe(true);
    expect(model.save().manifest.extra.training).toMatchObject({ epochsRun: 4, bestEpoch: 4, validationUsers: 0 });
  });

  it.each([
    [{}, 200],
    [{ validationUserShare: 0.1 }, 50],
    [{ maxValidationUsers: 80 }, 80],
  ])('validates on every eligible user by default, within the budget: %o gives %i users', (options, users) => {
    // 200 users with 12 items each: all eligible; 60 items make the scoring budget far above 200 users.
    const model = fitHybrid(world.data, { ...FAST, epochs: 2, ...options });
    expect(model.save().manifest.extra.training).toMatchObject({ validationUsers: users });
  });

  it('caps validation users by the scoring budget: max(2M, positives) user-item scores per check', () => {
    // 2,000 items: the budget is 2M / 2,000 = 1,000 users, more than the 300 here; 25,000 items: 80.
    const wide = plantedWorld({ users: 300, items: 2000, perUser: 6 });
    const training = (m: ReturnType<typeof fitHybrid>) => m.save().manifest.extra.training as { validationUsers: number };
    expect(training(fitHybrid(wide.data, { ...FAST, epochs: 1 })).validationUsers).toBe(300);
    const wider = plantedWorld({ users: 300, items: 25_000, perUser: 6 });
    expect(training(fitHybrid(wider.data, { ...FAST, epochs: 1 })).validationUsers).toBe(80);
  });

  it('counts only rises of at least minImprovement as progress, and still keeps the best epoch', () => {
    // No rise of NDCG can reach 1: progress stops at epoch 1, so the run stops after 1 + patience epochs.
    const seen: HybridProgress[] = [];
    const model = fitHybrid(world.data, {
      ...FAST,
      epochs: 40,
      patience: 2,
      minEpochs: 1,
      minImprovement: 1,
      refit: false,
      onProgress: (p) => seen.push(p),
    });
    const training = model.save().manifest.extra.training as { epochsRun: number; bestEpoch: number; validationValue: number };
    expect(training.epochsRun).toBe(3);
    expect(seen.length).toBe(3);
    expect(training.validationValue).toBe(Math.max(...seen.map((p) => p.metric as number)));
    expect(fitHybrid(world.data, { ...FAST, epochs: 6, minImprovement: 0 }).save().manifest.extra.training).toMatchObject({ epochsRun: 6 });
  });

  it('keeps the best epoch and stops after `patience` epochs without improvement', () => {
    const seen: HybridProgress[] = [];
    const model = fitHybrid(world.data, {
      ...FAST,
      epochs: 40,
      patience: 2,
      minEpochs: 1,
      refit: false,
      validationTolerance: 0,
      onProgress: (p) => seen.push(p),
    });
    const last = seen.at(-1) as HybridProgress;
    const training = model.save().manifest.extra.training as { bestEpoch: number; epochsRun: number; validationValue: number };
    expect(training.epochsRun).toBe(seen.length);
    expect(training.bestEpoch).toBe(last.bestEpoch);
    expect(training.validationValue).toBe(Math.max(...seen.map((p) => p.metric as number)));
    if (seen.length < 40) expect(seen.length - training.bestEpoch).toBe(2);
  });

  it('keeps the last epoch within validationTolerance of the best (default 1%, patience 5)', () => {
    // The same run (same seed, same epochs) kept under three tolerances: which epoch is kept follows
    // from its validation curve alone.
    const kept = (tolerance?: number): { bestEpoch: number; curve: number[]; params: string } => {
      const { model: m, curve } = fitWithCurve(9, tolerance !== undefined ? { validationTolerance: tolerance } : {});
      const t = m.save().manifest.extra.training as { bestEpoch: number };
      return { bestEpoch: t.bestEpoch, curve, params: JSON.stringify(m.recommend({ userId: users[0] as string, now: 0 }, 5)) };
    };
    const lastWithin = (curve: number[], tol: number): number => {
      const top = Math.max(...curve);
      return Math.max(...curve.map((v, e) => (v >= top * (1 - tol) ? e + 1 : 0)));
    };
    const exact = kept(0);
    const loose = kept(0.2);
    const byDefault = kept();
    expect(exact.curve).toEqual(loose.curve);
    expect(exact.bestEpoch).toBe(exact.curve.lastIndexOf(Math.max(...exact.curve)) + 1);
    expect(loose.bestEpoch).toBe(lastWithin(loose.curve, 0.2));
    expect(byDefault.bestEpoch).toBe(lastWithin(byDefault.curve, 0.01));
    // This curve's top is not its last epoch (else the tolerance could not show): a looser tolerance
    // keeps a later epoch, and that epoch's model, not the best one's.
    expect(exact.bestEpoch).toBeLessThan(loose.bestEpoch);
    expect(loose.params).not.toBe(exact.params);
    const resolved = fitHybrid(world.data, { ...FAST, epochs: 1 }).save().manifest.hyperparameters as Record<string, unknown>;
    expect([resolved.patience, resolved.validationTolerance]).toEqual([5, 0.01]);
  });

  it('compares epochs by validation NDCG@50 by default (BPR: its best epoch itself), NDCG@k with validationCutoff', () => {
    // The same run (same seed, same epochs: the same parameters at every epoch) measured at three cut-offs.
    const run = (options: HybridOptions) => {
      const { model: m, curve } = fitWithCurve(4, options);
      const { hyperparameters, extra } = m.save().manifest;
      return {
        curve,
        hp: hyperparameters as Record<string, unknown>,
        training: extra.training as { validationMetric: string; validationUsers: number },
      };
    };
    const byDefault = run({});
    expect([byDefault.hp.validationCutoff, byDefault.hp.validationTolerance, byDefault.training.validationMetric]).toEqual([
      50,
      0.01,
      'ndcg@50',
    ]);
    const bpr = run({ loss: 'bpr', epochs: 1, minEpochs: 1 });
    expect([bpr.hp.validationCutoff, bpr.hp.validationTolerance]).toEqual([50, 0]);
    const at10 = run({ validationCutoff: 10 });
    expect(at10.training.validationMetric).toBe('ndcg@10');
    expect(at10.curve).not.toEqual(byDefault.curve);
    // NDCG@1 with binary relevance is 1 or 0 per user: the mean times the users is a whole number.
    const at1 = run({ validationCutoff: 1 });
    for (const v of at1.curve) {
      const hits = v * at1.training.validationUsers;
      expect(Math.abs(hits - Math.round(hits))).toBeLessThan(1e-9);
    }
    expect(() => fitHybrid(world.data, { ...FAST, validationCutoff: 0 })).toThrow(/validationCutoff/);
  });

  it("draws negatives by catalog size within a budget: WARP's maxSampled 10 and BPR's 5 up to ~1,700 items, more beyond (negativesFor)", () => {
    expect(negativesFor(1682)).toEqual({ maxSampled: 10, bprNegatives: 5 });
    expect(negativesFor(9066)).toEqual({ maxSampled: 53, bprNegatives: 10 });
    expect(negativesFor(1_000_000)).toEqual({ maxSampled: 100, bprNegatives: 20 });
    // An epoch draws at most what 10 / 5 draw at 1M rows: 1M rows keep them (the speed target's file), 200k rows may take 5 times as many.
    expect(negativesFor(20_000, 1_000_000)).toEqual({ maxSampled: 10, bprNegatives: 5 });
    expect(negativesFor(20_000, 200_000)).toEqual({ maxSampled: 50, bprNegatives: 20 });
    // A fit resolves them from its own catalog (recorded in the artifact), unless set.
    const catalog = (items: number) => ({
      interactions: Array.from({ length: items }, (_, i) => ({ userId: `u${i % 50}`, itemId: `i${i}`, ts: i, weight: 1 })),
      cutoff: items + 1,
      snapshot: 's',
      transformVersion: 't',
    });
    const hp = (m: ReturnType<typeof fitHybrid>) => m.save().manifest.hyperparameters as { maxSampled: number; bprNegatives: number };
    expect(hp(fitHybrid(catalog(200), { ...FAST, epochs: 1 }))).toMatchObject({ maxSampled: 10, bprNegatives: 5 });
    expect(hp(fitHybrid(catalog(5100), { ...FAST, epochs: 1 }))).toMatchObject({ maxSampled: 30, bprNegatives: 6 });
    expect(hp(fitHybrid(catalog(5100), { ...FAST, epochs: 1, maxSampled: 7, bprNegatives: 2 }))).toMatchObject({
      maxSampled: 7,
      bprNegatives: 2,
    });
  });

  it('defaults BPR to rate 0.1 on data with metadata features and 0.07 without; WARP to 0.05 either way', () => {
    const rate = (m: ReturnType<typeof fitHybrid>) => (m.save().manifest.hyperparameters as { learningRate: number }).learningRate;
    const bare = { ...world.data, userFeatures: undefined, itemFeatures: undefined };
    expect(rate(fitHybrid(world.data, { ...FAST, epochs: 1, loss: 'bpr' }))).toBe(0.1);
    expect(rate(fitHybrid(bare, { ...FAST, epochs: 1, loss: 'bpr' }))).toBe(0.07);
    expect(rate(fitHybrid(bare, { ...FAST, epochs: 1, loss: 'bpr', learningRate: 0.2 }))).toBe(0.2);
    expect(rate(fitHybrid(bare, { ...FAST, epochs: 1, loss: 'warp' }))).toBe(0.05);
  });

  it("gives BPR with metadata features an identity share of 0.5 and 15 minimum epochs, WARP 0.7; 'lightfm' keeps LightFM's weights", () => {
    const hp = (m: ReturnType<typeof fitHybrid>) => m.save().manifest.hyperparameters as { identityShare?: number; minEpochs: number };
    const bare = { ...world.data, userFeatures: undefined, itemFeatures: undefined };
    const bpr = fitHybrid(world.data, { ...FAST, epochs: 1, loss: 'bpr' });
    expect(hp(bpr)).toMatchObject({ identityShare: 0.5, minEpochs: 15 });
    expect(hp(fitHybrid(bare, { ...FAST, epochs: 1, loss: 'bpr' })).minEpochs).toBe(8);
    const warp = hp(fitHybrid(world.data, { ...FAST, epochs: 1, loss: 'warp' }));
    expect(warp.minEpochs).toBe(8);
    expect(warp.identityShare).toBe(0.7);
    const lightfm = fitHybrid(world.data, { ...FAST, epochs: 1, loss: 'bpr', identityShare: 'lightfm' });
    expect(hp(lightfm).identityShare).toBeUndefined();
    // The share changes the representation where it differs from LightFM's weight (one unit feature
    // gives the identity 1/2 either way): with two features per item, 1/3 against 0.5.
    const two = {
      ...world.data,
      itemFeatures: new Map([...(world.data.itemFeatures ?? new Map())].map(([id, f]) => [id, [...f, ['catalog', 1] as const]])),
    };
    const user = world.data.interactions[0]?.userId as string;
    const scores = (options: HybridOptions) =>
      fitHybrid(two, { ...FAST, epochs: 1, loss: 'bpr', ...options })
        .recommend({ userId: user, now: 0 }, 5)
        .map((r) => r.score);
    expect(scores({})).toEqual(scores({ identityShare: 0.5 }));
    expect(scores({})).not.toEqual(scores({ identityShare: 'lightfm' }));
  });

  it('runs at least minEpochs epochs before early stopping may stop, and still keeps the best epoch', () => {
    // A rate so low that validation NDCG cannot move: with patience 1 the run would stop after 2 epochs.
    const flat = { ...FAST, epochs: 40, patience: 1, minImprovement: 1, learningRate: 1e-9, refit: false };
    const training = (m: ReturnType<typeof fitHybrid>) =>
      m.save().manifest.extra.training as { epochsRun: number; bestEpoch: number; validationValue: number };
    expect(training(fitHybrid(world.data, { ...flat, minEpochs: 1 })).epochsRun).toBe(2);
    const seen: HybridProgress[] = [];
    const guarded = training(fitHybrid(world.data, { ...flat, minEpochs: 7, onProgress: (p) => seen.push(p) }));
    expect(guarded.epochsRun).toBe(7);
    expect(seen.map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(guarded.validationValue).toBe(Math.max(...seen.map((p) => p.metric as number)));
    // Past the minimum, patience decides as before; a minimum above `epochs` runs them all.
    expect(training(fitHybrid(world.data, { ...flat, minEpochs: 7, patience: 9 })).epochsRun).toBe(10);
    expect(training(fitHybrid(world.data, { ...flat, epochs: 4, minEpochs: 7 })).epochsRun).toBe(4);
  });

  it('defaults to row-wise Adagrad once the embedding tables reach 8 MB (on any number of threads), per-dimension below', () => {
    const optimizer = (m: HybridRecommender) => (m.save().manifest.hyperparameters as { optimizer: string }).optimizer;
    const one = { epochs: 1, validationShare: 0, seed: 3 } as const;
    // 32,768 feature rows × 64 dims × 4 bytes = 8 MB: planted users and items plus the two genre features.
    const large = plantedWorld({ users: 32_800, items: 60, perUser: 2 });
    expect(optimizer(fitHybrid(large.data, { ...one, dim: 64 }))).toBe('adagrad-rowwise');
    expect(optimizer(fitHybrid(large.data, { ...one, dim: 32 }))).toBe('adagrad');
    expect(optimizer(fitHybrid(large.data, { ...one, dim: 64, threads: 2 }))).toBe('adagrad-rowwise');
    expect(optimizer(fitHybrid(large.data, { ...one, dim: 64, optimizer: 'adagrad' }))).toBe('adagrad');
    expect(optimizer(fitHybrid(world.data, { ...one, dim: 64 }))).toBe('adagrad');
  });

  describe('refit on all positives after early stopping', () => {
    type Training = {
      epochsRun: number;
      bestEpoch: number;
      validationValue: number;
      validationUsers: number;
      refitEpochs?: number;
      trainPositives: number;
    };
    const training = (m: HybridRecommender) => m.save().manifest.extra.training as Training;
    const options = { ...FAST, epochs: 12, patience: 2, minEpochs: 1 } as const;

    it('trains again on every positive for the best epoch count when the validation split holds out a material share (auto)', () => {
      const seen: HybridProgress[] = [];
      const model = fitHybrid(world.data, { ...options, onProgress: (p) => seen.push(p) });
      const validating = seen.filter((p) => p.refit !== true);
      const refitting = seen.filter((p) => p.refit === true);
      const t = training(model);
      // The validation run's figures are kept; the refit ran bestEpoch epochs, after the validation epochs.
      expect(t.epochsRun).toBe(validating.length);
      expect(t.refitEpochs).toBe(t.bestEpoch);
      expect(refitting.map((p) => p.epoch)).toEqual(Array.from({ length: t.bestEpoch }, (_, e) => e + 1));
      expect(seen.indexOf(refitting[0] as HybridProgress)).toBe(validating.length);
      expect(refitting.every((p) => p.metric === undefined)).toBe(true);
      // The refit is the no-validation fit of that many epochs, to the bit, on more positives than the validation run's.
      const plain = fitHybrid(world.data, { ...options, epochs: t.bestEpoch, validationShare: 0 });
      expect(Buffer.from(model.save().payload).equals(Buffer.from(plain.save().payload))).toBe(true);
      const validated = fitHybrid(world.data, { ...options, refit: false });
      expect(t.trainPositives).toBeGreaterThan(training(validated).trainPositives);
      expect(t.validationValue).toBe(training(validated).validationValue);
    });

    it('keeps the validation run when refit is false, or when auto and the held-out pairs are under 1% of the positives', () => {
      const off = training(fitHybrid(world.data, { ...options, refit: false }));
      expect(off.refitEpochs).toBeUndefined();
      const few = training(fitHybrid(world.data, { ...options, maxValidationUsers: 1 }));
      expect(few.validationUsers).toBe(1);
      expect(few.refitEpochs).toBeUndefined();
      const forced = training(fitHybrid(world.data, { ...options, maxValidationUsers: 1, refit: true }));
      expect(forced.refitEpochs).toBe(forced.bestEpoch);
    });

    it("holds out a seeded random sample of each validation user's items with validationHoldout random", () => {
      const a = fitHybrid(world.data, { ...options, validationHoldout: 'random', refit: false });
      const b = fitHybrid(world.data, { ...options, validationHoldout: 'random', refit: false });
      const recent = fitHybrid(world.data, { ...options, validationHoldout: 'recent', refit: false });
      expect(training(a)).toEqual(training(b));
      expect(training(a).validationValue).not.toBe(training(recent).validationValue);
      expect(() => fitHybrid(world.data, { ...options, validationHoldout: 'oldest' as 'recent' })).toThrow(OptionError);
    });
  });

  it.each([
    [{ dim: 0 }, 'dim', 0, 'an integer 1..1024'],
    [{ epochs: 1.5 }, 'epochs', 1.5, 'an integer >= 1'],
    [{ learningRate: -1 }, 'learningRate', -1, 'a number > 0'],
    [{ validationShare: 0.9 }, 'validationShare', 0.9, 'a number >= 0 and <= 0.5'],
    [{ minEpochs: 0 }, 'minEpochs', 0, 'an integer >= 1'],
  ])('rejects the option %o with an OptionError naming %s, the value and the range', (options, name, value, expected) => {
    const error = (() => {
      try {
        fitHybrid(world.data, options);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(OptionError);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ name: 'OptionError', model: 'hybrid', option: name, received: value, expected });
    expect((error as Error).message).toBe(`hybrid option ${name} is ${value}, expected ${expected}`);
  });

  it('rejects training data without interactions', () => {
    expect(() => fitHybrid({ ...world.data, interactions: [] })).toThrow(InputError);
  });

  it('scores users and items known only from their feature rows', () => {
    const data = {
      ...world.data,
      userFeatures: new Map([...(world.data.userFeatures ?? []), ['feature-only-user', [['group:1', 1]] as const]]),
      itemFeatures: new Map([...(world.data.itemFeatures ?? []), ['feature-only-item', [['genre:1', 1]] as const]]),
    };
    const model = fitHybrid(data, FAST);
    expect(model.knownItems()).toContain('feature-only-item');
    expect(model.knownUsers()).toContain('feature-only-user');
    const recs = model.recommend({ userId: 'feature-only-user', now: 0 }, 5);
    expect(recs.every((r) => world.groupOf.get(r.itemId) === 1 || r.itemId === 'feature-only-item')).toBe(true);
  });
});

describe('HybridRecommender', () => {
  it('loads back from its artifact with identical recommendations', () => {
    const loaded = loadHybrid(warp.save());
    const contexts = [
      ...users.slice(0, 10).map((userId) => ({ userId, now: 0 })),
      { userId: 'cold', now: 0, features: [['group:0', 1]] as const },
    ];
    for (const context of contexts) {
      expect(loaded.recommend(context, 8)).toEqual(warp.recommend(context, 8));
    }
    expect(loaded.knownItems()).toEqual(warp.knownItems());
  });

  it('keeps items added after loading when saved again, leaving the loaded artifact untouched', () => {
    const artifact = warp.save();
    const before = Buffer.from(artifact.payload);
    const loaded = loadHybrid(artifact);
    loaded.indexItems(new Map([['late', [['genre:1', 1]]]]));
    expect(Buffer.from(artifact.payload).equals(before)).toBe(true);
    const again = loadHybrid(loaded.save());
    expect(again.knownItems()).toContain('late');
    expect(again.recommend({ userId: 'u0001', now: 0 }, 5, { candidates: ['late', 'i000'] })).toEqual(
      loaded.recommend({ userId: 'u0001', now: 0 }, 5, { candidates: ['late', 'i000'] }),
    );
  });

  it('never returns excluded items', () => {
    const full = warp.recommend({ userId: 'u0000', now: 0 }, 5);
    const exclude = new Set(full.slice(0, 3).map((r) => r.itemId));
    const recs = warp.recommend({ userId: 'u0000', now: 0 }, 5, { exclude });
    expect(recs).toHaveLength(5);
    expect(recs.some((r) => exclude.has(r.itemId))).toBe(false);
    expect(recs.slice(0, 2)).toEqual(full.slice(3, 5));
  });

  it('ranks only the candidates, ignoring unknown and repeated ids', () => {
    const candidates = ['i001', 'i002', 'i001', 'not-an-item', 'i003'];
    const recs = warp.recommend({ userId: 'u0000', now: 0 }, 10, { candidates });
    expect(recs.map((r) => r.itemId).sort()).toEqual(['i001', 'i002', 'i003']);
    expect(recs.map((r) => r.score)).toEqual([...recs.map((r) => r.score)].sort((a, b) => b - a));
  });

  it.each([0, -1])('returns nothing for k = %i', (k) => {
    expect(warp.recommend({ userId: 'u0000', now: 0 }, k)).toEqual([]);
  });

  it('breaks ties by item id, also for items added out of id order', () => {
    const model = tieModel(['b', 'd', 'f']);
    expect(model.recommend({ userId: 'nobody', now: 0 }, 3).map((r) => r.itemId)).toEqual(['b', 'd', 'f']);
    model.indexItems(
      new Map([
        ['a', [['x', 1]]],
        ['c', [['x', 1]]],
      ]),
    );
    expect(model.recommend({ userId: 'nobody', now: 0 }, 4).map((r) => r.itemId)).toEqual(['a', 'b', 'c', 'd']);
  });
});

/** A model whose every score is 0: only the tie-break orders its items. */
function tieModel(itemIds: string[]): HybridRecommender {
  const dim = 2;
  return new HybridRecommender({
    kind: 'hybrid-warp',
    dim,
    userIds: [],
    userRep: new Float32Array(0),
    userFeatureNames: [],
    userFeatureEmb: new Float32Array(0),
    itemIds,
    itemRep: new Float32Array(itemIds.length * dim),
    itemBias: new Float32Array(itemIds.length),
    itemFromFeatures: new Uint8Array(itemIds.length),
    itemFeatureNames: ['x'],
    itemFeatureEmb: new Float32Array(dim),
    itemFeatureBias: new Float32Array(1),
    info: { hyperparameters: {}, transformVersion: 't', dataSnapshot: 's', trainedAt: 0, seed: 0, training: {} },
  });
}
