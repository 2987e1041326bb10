/** Staged rollout steps compare arms as the one-shot canary check does: listeners are the units. */
import { describe, expect, it } from 'vitest';
import { compareArms, type ArmStats } from '../../../lib/core/gate/canary.ts';
import { DEFAULT_ROLLOUT_POLICY, decideRolloutStep, requiredImpressions } from '../../../lib/core/gate/rollout.ts';

/** An arm of `users` listeners with `impressions` each, whose plays are `playsOf(u)`. */
const arm = (users: number, impressions: number, playsOf: (u: number) => number): ArmStats => {
  const byUser = Array.from({ length: users }, (_, u) => [impressions, playsOf(u)] as const);
  return { impressions: users * impressions, plays: byUser.reduce((s, [, p]) => s + p, 0), byUser };
};
const pooled = (a: ArmStats): ArmStats => ({ impressions: a.impressions, plays: a.plays });

describe('a staged rollout step with listener-level statistics', () => {
  // Live: 4,000 listeners, heavy and light players alike (50%); canary: 1,000 listeners who happen to
  // include a few more light players (48%): an equal model by a sampling accident of listeners.
  const live = arm(4000, 10, (u) => (u % 2 === 0 ? 9 : 1));
  const canary = arm(1000, 10, (u) => (u % 50 < 24 ? 9 : 1));

  it('does not roll back an equal model for its listeners being lighter players, where the impression-level test does', () => {
    const byImpressions = decideRolloutStep({ live: pooled(live), canary: pooled(canary) }, 0.5);
    expect(byImpressions.action).toBe('rollback');
    const byListeners = decideRolloutStep({ live, canary }, 0.5);
    expect(byListeners.action).not.toBe('rollback');
    expect(byListeners.zScore).toBeGreaterThan(-1.96);
  });

  it('sizes the check by the design effect of correlated impressions', () => {
    const step = decideRolloutStep({ live, canary }, 0.5);
    const { designEffect } = compareArms(live, canary, 1.96);
    expect(designEffect).toBeGreaterThan(2);
    expect(step.requiredImpressions).toBe(Math.ceil(requiredImpressions(0.5, DEFAULT_ROLLOUT_POLICY) * designEffect));
    // 1,500 impressions an arm: enough for the binomial size (388), not for the inflated one: the step waits and says why.
    const small = decideRolloutStep(
      { live: arm(150, 10, (u) => (u % 2 === 0 ? 9 : 1)), canary: arm(150, 10, (u) => (u % 2 === 0 ? 9 : 1)) },
      0.5,
    );
    expect(small.action).toBe('wait');
    expect(small.reason).toMatch(/design effect \d/);
  });

  it('still rolls back a canary that is worse for its listeners beyond their spread', () => {
    const worse = arm(1000, 10, (u) => (u % 2 === 0 ? 6 : 1));
    const step = decideRolloutStep({ live, canary: worse }, 0.5);
    expect(step.action).toBe('rollback');
    expect(step.difference.hi).toBeLessThan(0);
  });

  it('gives the same interval as before without per-listener counts (binomial, impressions as units)', () => {
    const l = pooled(live);
    const c = pooled(canary);
    const { difference } = compareArms(l, c, 1.96);
    const pl = l.plays / l.impressions;
    const pc = c.plays / c.impressions;
    const se = Math.sqrt((pl * (1 - pl)) / l.impressions + (pc * (1 - pc)) / c.impressions);
    expect(difference.lo).toBeCloseTo(pc - pl - 1.96 * se, 12);
    expect(difference.hi).toBeCloseTo(pc - pl + 1.96 * se, 12);
  });
});
