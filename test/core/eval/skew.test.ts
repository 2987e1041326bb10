import { describe, expect, it } from 'vitest';
import { featureOf, measureSkew, type LoggedRequest } from '../../../lib/core/eval/skew.ts';
import { evaluatePredictions } from '../../../lib/core/eval/evaluate.ts';
import { decideGate, type ShelfGatePolicy } from '../../../lib/core/gate/policy.ts';
import type { Feature } from '../../../lib/core/models/recommender.ts';

const features = (country: string, genres: string[] = ['rock']): Feature[] => [
  [`country:${country}`, 1],
  ['device:mobile', 1],
  ...genres.map((g): Feature => [`genre:${g}`, 1]),
];
const logged = (userId: string, f: Feature[], at = 1000): LoggedRequest => ({
  requestId: `r-${userId}-${at}`,
  userId,
  at,
  transformVersion: 'serving-v',
  features: f,
});
const truth: Record<string, Feature[]> = { u1: features('SE'), u2: features('DE', ['jazz', 'pop']), u3: features('US') };
const recompute = (userId: string) => truth[userId];

describe('featureOf', () => {
  it.each([
    ['country:SE', 'country'],
    ['genre:hip:hop', 'genre'],
    ['bias', 'bias'],
  ])('%s belongs to %s', (name, feature) => {
    expect(featureOf(name)).toBe(feature);
  });
});

describe('measureSkew', () => {
  it('finds no skew when serving logged what the run computes, whatever the order of features', () => {
    const r = measureSkew([logged('u1', features('SE')), logged('u2', [...features('DE', ['pop', 'jazz'])].reverse())], recompute, 'run-v');
    expect(r.compared).toBe(2);
    expect(Object.values(r.features).every((f) => f.mismatches === 0)).toBe(true);
    expect(r.worst).toEqual({ feature: 'country', rate: 0 });
  });

  it('reports the mismatch rate of the one feature that drifted, with an example', () => {
    const r = measureSkew(
      [
        logged('u1', features('se')),
        logged('u2', features('DE', ['jazz', 'pop'])),
        logged('u3', features('us')),
        logged('u1', features('SE'), 2000),
      ],
      recompute,
      'run-v',
    );
    expect(r.features.country).toMatchObject({ compared: 4, mismatches: 2, rate: 0.5 });
    expect(r.features.country?.example).toEqual({
      requestId: 'r-u1-1000',
      userId: 'u1',
      served: 'country:se=1',
      recomputed: 'country:SE=1',
    });
    expect(r.features.device?.rate).toBe(0);
    expect(r.features.genre?.rate).toBe(0);
    expect(r.worst).toEqual({ feature: 'country', rate: 0.5 });
  });

  it('counts a feature missing on one side as a mismatch', () => {
    const r = measureSkew([logged('u1', features('SE', []))], recompute, 'run-v');
    expect(r.features.genre).toMatchObject({ compared: 1, mismatches: 1 });
    expect(r.features.genre?.example?.served).toBe('(none)');
  });

  it('does not compare users the run cannot know, and tallies transform versions', () => {
    const r = measureSkew([logged('anonymous-1', features('SE')), logged('u1', features('SE'))], recompute, 'run-v');
    expect(r).toMatchObject({ requests: 2, compared: 1, notComparable: 1, transformVersions: { 'serving-v': 2 } });
  });

  it('is empty for an empty log', () => {
    expect(measureSkew([], recompute, 'run-v')).toMatchObject({ requests: 0, compared: 0, features: {}, worst: null });
  });
});

describe('the skew guardrail of the gate', () => {
  const truthSets = new Map([
    ['a', new Map([['x', 1]])],
    ['b', new Map([['y', 1]])],
  ]);
  const report = evaluatePredictions(
    truthSets,
    [
      {
        name: 'candidate',
        lists: new Map([
          ['a', ['x']],
          ['b', ['y']],
        ]),
      },
    ],
    { k: 10, resamples: 20 },
  );
  const policy: ShelfGatePolicy = {
    primaryMetric: 'ndcg@10',
    minLiftOverBestBaseline: 0,
    maxRegressionVsLive: 0.02,
    guardrails: { maxFeatureSkew: 0.01, skewMinRequests: 3 },
  };
  const many = (country: (i: number) => string) =>
    Array.from({ length: 10 }, (_, i) => logged(['u1', 'u2', 'u3'][i % 3] as string, features(country(i)), i));
  const clean = measureSkew(
    many((i) => ['SE', 'DE', 'US'][i % 3] as string).map((r, i) => ({
      ...r,
      features: truth[['u1', 'u2', 'u3'][i % 3] as string] as Feature[],
    })),
    recompute,
    'run-v',
  );

  it('passes a run whose skew is within the threshold, saying so', () => {
    const decision = decideGate(report, policy, null, clean);
    expect(decision.pass).toBe(true);
    expect(decision.reasons.join('\n')).toMatch(/train\/serve skew within 1\.0% on every feature over 10 logged requests/);
  });

  it('fails a run whose skew on a feature is above the threshold, naming the feature and both values', () => {
    const skewed = measureSkew(
      many((i) => (i === 0 ? 'se' : (['SE', 'DE', 'US'][i % 3] as string))).map((r, i) =>
        i === 0 ? r : { ...r, features: truth[['u1', 'u2', 'u3'][i % 3] as string] as Feature[] },
      ),
      recompute,
      'run-v',
    );
    const decision = decideGate(report, policy, null, skewed);
    expect(decision.pass).toBe(false);
    expect(decision.reasons).toContain(
      'train/serve skew: feature "country" differs in 10.0% of 10 logged requests (served country:se=1, this run computes country:SE=1); at most 1.0% is allowed',
    );
  });

  it('does not judge skew when the request log could not be read, and says why', () => {
    const unread = { ...measureSkew([], recompute, 'run-v'), readError: 'AccessDenied: no access to requests/' };
    const decision = decideGate(report, policy, null, unread);
    expect(decision.pass).toBe(true);
    expect(decision.reasons).toContain(
      'train/serve skew not judged: the request log could not be read (AccessDenied: no access to requests/)',
    );
  });

  it('does not judge skew on too few logged requests, and says so', () => {
    const decision = decideGate(report, policy, null, measureSkew([logged('u1', features('se'))], recompute, 'run-v'));
    expect(decision.pass).toBe(true);
    expect(decision.reasons.join('\n')).toMatch(/skew not judged: 1 logged requests could be compared, at least 3 are needed/);
  });
});
