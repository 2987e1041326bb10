import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluatePredictions, type PredictionRun, type RunRole } from '../../../lib/core/eval/evaluate.ts';
import { decideGate, GatePolicySchema, parseGatePolicy, type ShelfGatePolicy } from '../../../lib/core/gate/policy.ts';
import { GateDecisionSchema } from '../../../lib/wiring/pipeline.ts';

const USERS = 120;
const users = Array.from({ length: USERS }, (_, u) => `u${String(u).padStart(3, '0')}`);
const truth = new Map(users.map((u) => [u, new Map([[`r-${u}`, 1]])]));
/** Users in the DE slice: every fourth. */
const slices = new Map(users.map((u, i) => [u, { country: i % 4 === 0 ? 'DE' : 'SE' }]));

/** A run that ranks the relevant item first for the users `hits` selects, and a wrong item otherwise. */
function run(name: string, role: RunRole, hits: (i: number) => boolean): PredictionRun {
  return { name, role, lists: new Map(users.map((u, i) => [u, hits(i) ? [`r-${u}`, 'filler'] : [`x-${name}-${i % 3}`, 'filler']])) };
}

const policy: ShelfGatePolicy = {
  primaryMetric: 'ndcg@10',
  minLiftOverBestBaseline: 0.05,
  maxRegressionVsLive: 0.02,
  guardrails: { sliceTolerance: 0.1, sliceMinUsers: 20 },
};
const judge = (runs: PredictionRun[], p: ShelfGatePolicy = policy, catalogSize = 0) => {
  const report = evaluatePredictions(truth, runs, { k: 10, resamples: 300, slices, catalogSize });
  return decideGate(report, p);
};
const candidate = run('candidate', 'candidate', (i) => i % 5 !== 0); // 80% hits, in every slice
const popularity = run('popularity', 'baseline', (i) => i % 5 < 2); // 40%
const random = run('random', 'baseline', (i) => i % 10 === 0); // 10%

describe('decideGate', () => {
  it('passes a candidate that clearly beats the best baseline, saying there is no live model yet', () => {
    const decision = judge([candidate, random, popularity]);
    expect(decision.pass).toBe(true);
    expect(decision.liveVersion).toBeNull();
    expect(decision.primaryMetric).toBe('ndcg@10');
    expect(decision.reasons[0]).toBe('PASS: every rule of the gate holds');
    expect(decision.reasons).toContainEqual(
      expect.stringMatching(
        /^ndcg@10 0\.8000 beats the best baseline popularity \(0\.4000\) by 100\.0%; 95% interval of the difference \[0\.\d{4}, 0\.\d{4}\]$/,
      ),
    );
    expect(decision.reasons).toContain('no live model yet: the comparison with live is skipped');
    expect(GateDecisionSchema.parse(decision)).toEqual(decision);
  });

  it('fails a lift under the policy minimum, naming the metric, the values and the best baseline', () => {
    const close = run('candidate', 'candidate', (i) => i % 5 < 2 || i === 17); // 49 hits of 120 against 48
    const decision = judge([close, popularity, random]);
    expect(decision.pass).toBe(false);
    expect(decision.reasons).toContainEqual(
      expect.stringMatching(/^ndcg@10 0\.4083 is 2\.1% over the best baseline popularity \(0\.4000\); at least 5\.0% is required$/),
    );
  });

  it('fails a lift whose paired interval includes 0, even above the minimum', () => {
    // 48 hits vs 40, but on different users: the per-user difference is noisy.
    const other = run('candidate', 'candidate', (i) => i % 5 >= 3 || (i % 5 === 2 && i % 3 === 0));
    const decision = judge([other, popularity], { ...policy, guardrails: {} });
    expect(decision.pass).toBe(false);
    expect(decision.reasons.join('\n')).toMatch(
      /beats the best baseline popularity by \d+\.\d%, but the 95% interval of the per-user difference \[-0\.\d{4}, 0\.\d{4}\] includes 0: not distinguishable from noise/,
    );
  });

  it('fails a candidate that regresses against the live model beyond the allowed share, naming it', () => {
    const live = run('live v1', 'live', (i) => i % 10 !== 0); // 90%
    const decision = judge([candidate, popularity, live]);
    expect(decision.pass).toBe(false);
    expect(decision.liveVersion).toBe('live v1');
    expect(decision.reasons).toContain('ndcg@10 0.8000 is 11.1% below the live model live v1 (0.9000); at most 2.0% regression is allowed');
  });

  it('accepts a change against the live model within the allowed regression, with the version it is given', () => {
    const live = run('live', 'live', (i) => i % 5 !== 0);
    const report = evaluatePredictions(truth, [candidate, popularity, live], { k: 10, resamples: 200, slices });
    const decision = decideGate(report, policy, 'v7');
    expect(decision.pass).toBe(true);
    expect(decision.liveVersion).toBe('v7');
    expect(decision.reasons).toContain('ndcg@10 0.8000 is 0.0% above the live model live (0.8000)');
  });

  it('names a small regression against the live model that the policy allows', () => {
    const live = run('live', 'live', (i) => i % 5 !== 0 || i === 5); // 97 hits against the candidate's 96
    const decision = judge([candidate, popularity, live]);
    expect(decision.pass).toBe(true);
    expect(decision.reasons).toContain('ndcg@10 0.8000 is 1.0% below the live model live (0.8083), within the allowed 2.0% regression');
  });

  it('fails the coverage guardrail, naming both values', () => {
    const decision = judge([candidate, popularity], { ...policy, guardrails: { minCoverage: 0.5 } }, 1000);
    expect(decision.pass).toBe(false);
    // 96 relevant items + 'filler' + 3 wrong items = 100 distinct of 1000.
    expect(decision.reasons).toContain('catalog coverage 10.0% is under the guardrail 50.0%');
  });

  it('fails when a slice with enough users trails the best baseline beyond the tolerance, naming the slice', () => {
    // Wins overall but never hits in DE (every fourth user), where popularity hits 40%.
    const deBlind = run('candidate', 'candidate', (i) => i % 4 !== 0);
    const decision = judge([deBlind, popularity]);
    expect(decision.pass).toBe(false);
    expect(decision.reasons).toContainEqual(
      expect.stringMatching(
        /^slice country=DE \(30 users\): ndcg@10 0\.0000 trails the best baseline popularity \(0\.\d{4}\) by more than 10\.0%$/,
      ),
    );
  });

  it('ignores slices with fewer users than the policy minimum', () => {
    const deBlind = run('candidate', 'candidate', (i) => i % 4 !== 0);
    expect(judge([deBlind, popularity], { ...policy, guardrails: { sliceTolerance: 0.1, sliceMinUsers: 31 } }).pass).toBe(true);
  });

  it('fails when the evaluation lacks the primary metric, saying which k to use', () => {
    const report = evaluatePredictions(truth, [candidate, popularity], { k: 5, resamples: 20 });
    const decision = decideGate(report, policy);
    expect(decision.pass).toBe(false);
    expect(decision.reasons).toEqual([
      expect.stringMatching(/^the primary metric ndcg@10 is not in the evaluation \(it has ndcg@5, .*\): evaluate with the policy's k$/),
    ]);
  });
});

describe('the gate policy file', () => {
  it('declares a valid policy for every shelf', () => {
    const policyFile = parseGatePolicy(JSON.parse(readFileSync('lib/core/gate/default-policy.json', 'utf8')));
    expect(Object.keys(policyFile).sort()).toEqual(['playlists', 'podcasts', 'shortcuts']);
  });

  it.each([
    ['a negative lift', { minLiftOverBestBaseline: -0.1 }],
    ['an unknown metric', { primaryMetric: 'auc@10' }],
    ['a regression share above 1', { maxRegressionVsLive: 2 }],
  ])('rejects %s', (_t, change) => {
    const raw = JSON.parse(readFileSync('lib/core/gate/default-policy.json', 'utf8'));
    expect(GatePolicySchema.safeParse({ ...raw, podcasts: { ...raw.podcasts, ...change } }).success).toBe(false);
  });
});
