/** The canary comparison with listeners as the units: correlated impressions do not roll back equal models. */
import { describe, expect, it } from 'vitest';
import { clusteredVariance, clusteredZ, decideCanary, twoProportionZ, type ArmStats } from '../../../lib/core/gate/canary.ts';

/** An arm of `users` listeners with `impressions` each, whose plays are `playsOf(u)`. */
const arm = (users: number, impressions: number, playsOf: (u: number) => number): ArmStats => {
  const byUser = Array.from({ length: users }, (_, u) => [impressions, playsOf(u)] as const);
  return { impressions: users * impressions, plays: byUser.reduce((s, [, p]) => s + p, 0), byUser };
};

describe('the clustered canary comparison', () => {
  it('has the binomial variance when every listener plays alike', () => {
    const same = arm(50, 10, () => 5);
    expect(clusteredVariance(same)).toBeCloseTo(0, 12); // no spread between listeners
    expect(clusteredZ(same, same)).toBe(0);
  });

  it('is wider than the binomial when listeners differ (heavy and light players)', () => {
    const mixed = arm(100, 10, (u) => (u % 2 === 0 ? 9 : 1));
    const binomial = (0.5 * 0.5) / mixed.impressions;
    expect(clusteredVariance(mixed)).toBeGreaterThan(4 * binomial);
  });

  it('does not call a canary worse when its few listeners happen to be light players, where the binomial test does', () => {
    // Live: 400 listeners half heavy, half light (50%); canary: 100 listeners a little lighter (45%).
    const live = arm(400, 10, (u) => (u % 2 === 0 ? 9 : 1));
    const canary = arm(100, 10, (u) => (u % 20 < 9 ? 9 : 1));
    expect(
      twoProportionZ({ impressions: live.impressions, plays: live.plays }, { impressions: canary.impressions, plays: canary.plays }),
    ).toBeLessThan(-1.96);
    expect(clusteredZ(live, canary)).toBeGreaterThan(-1.96);
    expect(decideCanary(live, canary).action).toBe('promote');
  });

  it('still rolls back a canary that is worse for its listeners beyond their spread', () => {
    const live = arm(400, 10, (u) => (u % 2 === 0 ? 6 : 4));
    const canary = arm(100, 10, () => 1);
    expect(clusteredZ(live, canary)).toBeLessThan(-1.96);
    expect(decideCanary(live, canary).action).toBe('rollback');
  });

  it('falls back to the two-proportion test without listener counts', () => {
    const live = { impressions: 1000, plays: 500 };
    const canary = { impressions: 1000, plays: 440 };
    expect(clusteredZ(live, canary)).toBe(twoProportionZ(live, canary));
  });
});
