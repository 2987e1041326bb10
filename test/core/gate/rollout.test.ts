import { describe, expect, it } from 'vitest';
import {
  checkRolloutPolicy,
  decideRolloutStep,
  DEFAULT_ROLLOUT_POLICY,
  nextStep,
  normalQuantile,
  requiredImpressions,
  sampleSizePerArm,
  type RolloutPolicy,
} from '../../../lib/core/gate/rollout.ts';
import { ConfigError } from '../../../lib/core/errors.ts';

const policy: RolloutPolicy = { ...DEFAULT_ROLLOUT_POLICY, minDetectableEffect: 0.5 };
const arm = (impressions: number, rate: number) => ({ impressions, plays: Math.round(impressions * rate) });

describe('normalQuantile', () => {
  it.each([
    [0.5, 0],
    [0.975, 1.959963985],
    [0.8, 0.841621234],
    [0.01, -2.326347874],
    [0.999, 3.090232306],
  ])('z(%f) = %f', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 7);
  });

  it('is infinite at the ends', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
  });
});

describe('sampleSizePerArm', () => {
  it('gives the textbook 686 per group for 10% vs 15% (alpha 0.05 two-sided, power 0.8)', () => {
    // (1.96·sqrt(2·0.125·0.875) + 0.8416·sqrt(0.09 + 0.1275))² / 0.05² = 685.6 -> 686
    expect(sampleSizePerArm(0.1, 0.15)).toBe(686);
  });

  it('is symmetric, grows as the effect shrinks, and is infinite for no effect', () => {
    expect(sampleSizePerArm(0.15, 0.1)).toBe(686);
    expect(sampleSizePerArm(0.1, 0.12)).toBeGreaterThan(sampleSizePerArm(0.1, 0.15));
    expect(sampleSizePerArm(0.1, 0.1)).toBe(Infinity);
  });

  it('needs more trials for more power and a stricter alpha', () => {
    expect(sampleSizePerArm(0.1, 0.15, 0.05, 0.9)).toBeGreaterThan(686);
    expect(sampleSizePerArm(0.1, 0.15, 0.01, 0.8)).toBeGreaterThan(686);
  });
});

describe('requiredImpressions', () => {
  it('sizes the check from live rate and the relative minimum detectable effect, with a floor', () => {
    expect(requiredImpressions(0.1, policy)).toBe(sampleSizePerArm(0.1, 0.15));
    expect(requiredImpressions(0.9, { ...policy, minImpressions: 5000 })).toBe(5000);
  });
});

describe('nextStep', () => {
  it.each([
    [0.05, 0.25],
    [0.2, 0.25],
    [0.25, 0.5],
    [0.5, 1],
  ])('after %f comes %f', (w, next) => {
    expect(nextStep(w, DEFAULT_ROLLOUT_POLICY)).toBe(next);
  });
});

describe('checkRolloutPolicy', () => {
  it.each([[[0.5, 0.25, 1]], [[0.05, 0.5]], [[]], [[0, 1]]])('refuses steps %j', (steps) => {
    expect(() => checkRolloutPolicy({ ...policy, steps })).toThrow(ConfigError);
  });
});

describe('decideRolloutStep', () => {
  it('waits for live data before it can size the check', () => {
    const d = decideRolloutStep({ live: arm(100, 0.1), canary: arm(10, 0.1) }, 0.05, policy);
    expect(d.action).toBe('wait');
    expect(d.reason).toMatch(/300 live impressions/);
  });

  it('waits until both arms have the impressions the power calculation asks for, saying how many', () => {
    const d = decideRolloutStep({ live: arm(5000, 0.1), canary: arm(600, 0.1) }, 0.05, policy);
    expect(d).toMatchObject({ action: 'wait', weight: 0.05, requiredImpressions: 686 });
    expect(d.reason).toMatch(/686 impressions per arm detect a 50\.00% relative change of live's 10\.00%/);
  });

  it('rolls back a significantly worse canary at the first step', () => {
    const d = decideRolloutStep({ live: arm(5000, 0.1), canary: arm(700, 0.04) }, 0.05, policy);
    expect(d).toMatchObject({ action: 'rollback', weight: 0 });
    expect(d.reason).toMatch(/significantly worse/);
  });

  it('advances a canary that is not worse by the effect of interest', () => {
    const d = decideRolloutStep({ live: arm(5000, 0.1), canary: arm(800, 0.1) }, 0.05, policy);
    expect(d).toMatchObject({ action: 'advance', weight: 0.25 });
    expect(d.difference.lo).toBeGreaterThan(-0.05);
  });

  it('holds when a drop of the effect size cannot be ruled out, without calling it worse', () => {
    const d = decideRolloutStep({ live: arm(5000, 0.1), canary: arm(4000, 0.092) }, 0.25, DEFAULT_ROLLOUT_POLICY);
    expect(d.action).toBe('hold');
    expect(d.reason).toMatch(/cannot be ruled out/);
  });

  it('promotes to all traffic only when the canary is significantly better', () => {
    const better = decideRolloutStep({ live: arm(3000, 0.1), canary: arm(3000, 0.13) }, 0.5, policy);
    expect(better).toMatchObject({ action: 'promote', weight: 1 });
    const same = decideRolloutStep({ live: arm(3000, 0.1), canary: arm(3000, 0.102) }, 0.5, policy);
    expect(same).toMatchObject({ action: 'hold', weight: 0.5 });
    expect(same.reason).toMatch(/no better than live/);
  });

  it('states the rates, their intervals and the difference with its interval in every reason', () => {
    const d = decideRolloutStep({ live: arm(3000, 0.1), canary: arm(3000, 0.102) }, 0.5, policy);
    expect(d.reason).toMatch(/canary 10\.20% \[\d+\.\d+%, \d+\.\d+%\] on 3000 impressions vs live 10\.00%/);
    expect(d.reason).toMatch(/difference \+0\.20 pts \[-\d\.\d+ pts, \+\d\.\d+ pts\]/);
  });
});
