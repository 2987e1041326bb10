/**
 * The canary decision from online feedback: play rate (plays / impressions) per variant with Wilson
 * 95% intervals and a two-proportion z-test. Promote when the canary has enough data and is not worse
 * beyond the tolerance; roll back when it is significantly worse or worse beyond the tolerance; wait
 * otherwise. Every decision carries its reason in plain words.
 */
import { DataQualityError } from '../errors.ts';

export interface ArmStats {
  readonly impressions: number;
  readonly plays: number;
  /** [impressions, plays] per listener, when known: the comparison then treats listeners as the units. */
  readonly byUser?: readonly (readonly [number, number])[];
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

/** Wilson score interval of a proportion: rate and [lo, hi] within [0, 1]; [0, 1] for 0 trials. */
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

/** Both arms of a canary, over the same period. */
export interface CanaryStats {
  readonly live: ArmStats;
  readonly canary: ArmStats;
}

/**
 * The z statistic of the canary's rate minus live's, with the pooled standard error; 0 when either
 * arm has no impressions or the pooled rate is 0 or 1 (no evidence either way).
 */
export function twoProportionZ(live: ArmStats, canary: ArmStats): number {
  if (live.impressions === 0 || canary.impressions === 0) return 0;
  const pooled = (live.plays + canary.plays) / (live.impressions + canary.impressions);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / live.impressions + 1 / canary.impressions));
  return se > 0 ? (canary.plays / canary.impressions - live.plays / live.impressions) / se : 0;
}

/**
 * Variance of an arm's play rate (plays / impressions) with listeners as clusters (the ratio
 * estimator's linearization, n/(n-1) small-sample factor), or undefined with fewer than 2 listeners.
 * One listener's impressions are correlated (a shelf shows ten items at once), so the binomial
 * variance over impressions understates the noise and a test on it rolls back equal models too often.
 */
export function clusteredVariance(arm: ArmStats): number | undefined {
  const users = arm.byUser;
  if (users === undefined || users.length < 2 || arm.impressions === 0) return undefined;
  const rate = arm.plays / arm.impressions;
  let sum = 0;
  for (const [impressions, plays] of users) sum += (plays - rate * impressions) ** 2;
  return ((users.length / (users.length - 1)) * sum) / arm.impressions ** 2;
}

/**
 * z of canary minus live play rate with listener-level variances when both arms have them (the
 * binomial variance is a floor), else the pooled two-proportion z.
 */
export function clusteredZ(live: ArmStats, canary: ArmStats): number {
  const vl = clusteredVariance(live);
  const vc = clusteredVariance(canary);
  if (vl === undefined || vc === undefined) return twoProportionZ(live, canary);
  const pl = live.plays / live.impressions;
  const pc = canary.plays / canary.impressions;
  const binomial = (p: number, n: number) => (p * (1 - p)) / n;
  const se = Math.sqrt(Math.max(vl, binomial(pl, live.impressions)) + Math.max(vc, binomial(pc, canary.impressions)));
  return se > 0 ? (pc - pl) / se : 0;
}

/** The canary's play rate minus live's: the z statistic, the (two-sided, `z`) interval and live's design effect. */
export interface ArmComparison {
  readonly zScore: number;
  readonly difference: { readonly value: number; readonly lo: number; readonly hi: number };
  /** Live's listener-level over binomial variance (at least 1; 1 without per-listener counts): how much more data a check needs. */
  readonly designEffect: number;
}

/**
 * The one comparison of two arms, shared by the one-shot canary check and every step of a staged
 * rollout: listeners are the units when both arms have per-listener counts (binomial variance as a
 * floor), impressions otherwise. Infinite interval when an arm has no impressions.
 */
export function compareArms(live: ArmStats, canary: ArmStats, z: number): ArmComparison {
  const pl = live.impressions > 0 ? live.plays / live.impressions : 0;
  const pc = canary.impressions > 0 ? canary.plays / canary.impressions : 0;
  const value = pc - pl;
  const binomial = (p: number, n: number) => (p * (1 - p)) / n;
  const vl = clusteredVariance(live);
  const vc = clusteredVariance(canary);
  const clustered = vl !== undefined && vc !== undefined;
  const se =
    live.impressions > 0 && canary.impressions > 0
      ? Math.sqrt(
          (clustered ? Math.max(vl, binomial(pl, live.impressions)) : binomial(pl, live.impressions)) +
            (clustered ? Math.max(vc, binomial(pc, canary.impressions)) : binomial(pc, canary.impressions)),
        )
      : Number.POSITIVE_INFINITY;
  const bl = live.impressions > 0 ? binomial(pl, live.impressions) : 0;
  const designEffect = vl !== undefined && bl > 0 ? Math.max(1, vl / bl) : 1;
  return { zScore: clusteredZ(live, canary), difference: { value, lo: value - z * se, hi: value + z * se }, designEffect };
}

/** The arm's impressions shrunk by its design effect (listener-level over binomial variance, at least 1), for intervals. */
function effectiveArm(arm: ArmStats): ArmStats {
  const v = clusteredVariance(arm);
  if (v === undefined || arm.impressions === 0) return arm;
  const p = arm.plays / arm.impressions;
  const binomial = (p * (1 - p)) / arm.impressions;
  const effect = binomial > 0 ? Math.max(1, v / binomial) : 1;
  const impressions = Math.max(1, Math.round(arm.impressions / effect));
  return { impressions, plays: Math.min(impressions, Math.round(p * impressions)) };
}

function checkArm(name: string, arm: ArmStats): void {
  const ok =
    Number.isInteger(arm.impressions) &&
    Number.isInteger(arm.plays) &&
    arm.impressions >= 0 &&
    arm.plays >= 0 &&
    arm.plays <= arm.impressions;
  if (!ok)
    throw new DataQualityError(
      `canary statistics: the ${name} arm has ${arm.plays} plays on ${arm.impressions} impressions; expected whole numbers with 0 <= plays <= impressions`,
    );
}

/**
 * Promote, roll back or wait. Wait until each arm has `minImpressions`; then roll back when the canary
 * is significantly worse (z < −policy.z) or even its Wilson upper bound trails live's rate by more
 * than the tolerance; promote otherwise (not worse, with enough data). Accepts ({ live, canary }, policy)
 * or (live, canary, policy).
 */
export function decideCanary(stats: CanaryStats, policy?: CanaryPolicy): CanaryDecision;
export function decideCanary(live: ArmStats, canary: ArmStats, policy?: CanaryPolicy): CanaryDecision;
export function decideCanary(first: CanaryStats | ArmStats, second?: ArmStats | CanaryPolicy, third?: CanaryPolicy): CanaryDecision {
  const pair = 'live' in first;
  const live = pair ? first.live : first;
  const canary = pair ? first.canary : (second as ArmStats);
  const policy = (pair ? (second as CanaryPolicy | undefined) : third) ?? DEFAULT_CANARY_POLICY;
  checkArm('live', live);
  checkArm('canary', canary);
  // Intervals and the test treat listeners as the units when the arms say who saw what.
  const el = effectiveArm(live);
  const ec = effectiveArm(canary);
  const l = { ...wilson(el.plays, el.impressions, policy.z), rate: live.impressions > 0 ? live.plays / live.impressions : 0 };
  const c = { ...wilson(ec.plays, ec.impressions, policy.z), rate: canary.impressions > 0 ? canary.plays / canary.impressions : 0 };
  const { zScore } = compareArms(live, canary, policy.z);
  const summary = `canary play rate ${pct(c.rate)} [${pct(c.lo)}, ${pct(c.hi)}] on ${canary.impressions} impressions vs live ${pct(l.rate)} [${pct(l.lo)}, ${pct(l.hi)}] on ${live.impressions}`;
  if (live.impressions < policy.minImpressions || canary.impressions < policy.minImpressions) {
    return {
      action: 'wait',
      reason: `not enough data yet (${policy.minImpressions} impressions per arm needed): ${summary}`,
      live: l,
      canary: c,
      zScore,
    };
  }
  if (zScore < -policy.z)
    return {
      action: 'rollback',
      reason: `canary is significantly worse (z = ${zScore.toFixed(2)}): ${summary}`,
      live: l,
      canary: c,
      zScore,
    };
  // Confidently worse beyond the tolerance: even the canary's upper bound trails live by more than it.
  if (c.hi < l.rate * (1 - policy.tolerance))
    return {
      action: 'rollback',
      reason: `canary's play rate is at most ${pct(c.hi)}, more than ${pct(policy.tolerance)} under live's ${pct(l.rate)}: ${summary}`,
      live: l,
      canary: c,
      zScore,
    };
  return {
    action: 'promote',
    reason: `canary is not worse than live (z = ${zScore.toFixed(2)}, tolerance ${pct(policy.tolerance)}): ${summary}`,
    live: l,
    canary: c,
    zScore,
  };
}
