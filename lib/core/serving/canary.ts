/**
 * The canary decision from online feedback: play rate (plays / impressions) per variant with Wilson
 * 95% intervals and a two-proportion z-test. Promote when the canary has enough data and is not worse
 * beyond the tolerance; roll back when it is significantly worse or worse beyond the tolerance; wait
 * otherwise. Every decision carries its reason in plain words.
 */

export interface ArmStats {
  readonly impressions: number;
  readonly plays: number;
}

export interface CanaryPolicy {
  /** Impressions each arm needs before any decision; default 300. */
  readonly minImpressions: number;
  /** Relative drop of the canary's play rate that is tolerated; default 0.05. */
  readonly tolerance: number;
  /** |z| beyond which a difference is significant; default 1.96. */
  readonly z: number;
}

export const DEFAULT_CANARY_POLICY: CanaryPolicy = { minImpressions: 300, tolerance: 0.05, z: 1.96 };

export interface Rate {
  readonly rate: number;
  readonly lo: number;
  readonly hi: number;
}

/** Wilson score interval of a proportion. */
export function wilson(successes: number, trials: number, z = 1.96): Rate {
  if (trials === 0) return { rate: 0, lo: 0, hi: 1 };
  const p = successes / trials;
  const d = 1 + (z * z) / trials;
  const centre = (p + (z * z) / (2 * trials)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + (z * z) / (4 * trials * trials))) / d;
  return { rate: p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

export interface CanaryDecision {
  readonly action: 'promote' | 'rollback' | 'wait';
  readonly reason: string;
  readonly live: Rate;
  readonly canary: Rate;
  readonly zScore: number;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

export function decideCanary(live: ArmStats, canary: ArmStats, policy: CanaryPolicy = DEFAULT_CANARY_POLICY): CanaryDecision {
  const l = wilson(live.plays, live.impressions);
  const c = wilson(canary.plays, canary.impressions);
  const pooled = (live.plays + canary.plays) / Math.max(1, live.impressions + canary.impressions);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / Math.max(1, live.impressions) + 1 / Math.max(1, canary.impressions)));
  const zScore = se > 0 ? (c.rate - l.rate) / se : 0;
  const summary = `canary play rate ${pct(c.rate)} [${pct(c.lo)}, ${pct(c.hi)}] on ${canary.impressions} impressions vs live ${pct(l.rate)} [${pct(l.lo)}, ${pct(l.hi)}] on ${live.impressions}`;
  if (live.impressions < policy.minImpressions || canary.impressions < policy.minImpressions) {
    return { action: 'wait', reason: `not enough data yet (${policy.minImpressions} impressions per arm needed): ${summary}`, live: l, canary: c, zScore };
  }
  if (zScore < -policy.z) return { action: 'rollback', reason: `canary is significantly worse (z = ${zScore.toFixed(2)}): ${summary}`, live: l, canary: c, zScore };
  // Confidently worse beyond the tolerance: even the canary's upper bound trails live by more than it.
  if (c.hi < l.rate * (1 - policy.tolerance)) return { action: 'rollback', reason: `canary's play rate is at most ${pct(c.hi)}, more than ${pct(policy.tolerance)} under live's ${pct(l.rate)}: ${summary}`, live: l, canary: c, zScore };
  return { action: 'promote', reason: `canary is not worse than live (z = ${zScore.toFixed(2)}, tolerance ${pct(policy.tolerance)}): ${summary}`, live: l, canary: c, zScore };
}
