/**
 * Staged rollout: a canary's share of traffic climbs through configured steps (default 5% -> 25% ->
 * 50% -> 100%). At each step the canary monitor checks the play rates of both arms over that step's
 * own feedback and decides:
 *
 * - wait: fewer impressions per arm than the check needs. The need comes from a two-proportion power
 *   calculation: enough impressions to detect a relative change of `minDetectableEffect` in live's
 *   play rate with a two-sided test at `alpha` and the given `power` (Fleiss, no continuity
 *   correction; never fewer than `minImpressions`);
 * - rollback: the canary is significantly worse than live (z < −z(1 − alpha/2)), at any step;
 * - advance (to a step below 100%): the canary is not worse by the effect we care about: the lower
 *   bound of the (1 − alpha) interval of canary − live is above −MDE × live's rate (non-inferiority);
 * - promote (the step to 100%): only when the canary is significantly better than live; a model no
 *   better than live holds at its step, saying by how much it differs and with what interval;
 * - hold: enough data, but not the evidence to take the next step (reason given).
 *
 * Impressions of one user are not independent (a user sees ten items per shelf), so the interval is
 * somewhat narrower than the truth; the floor `minImpressions` and a modest alpha keep that in check.
 */
import { ConfigError } from '../errors.ts';
import { compareArms, wilson, type ArmStats, type Rate } from './canary.ts';

export interface RolloutPolicy {
  /** Canary weights in increasing order, each in (0, 1]; the last is 1 (full rollout = promotion). */
  readonly steps: readonly number[];
  /** Relative change of live's play rate the check must be able to detect (0.2 = 20%). */
  readonly minDetectableEffect: number;
  /** Two-sided significance level; default 0.05. */
  readonly alpha: number;
  /** Power of the check at the minimum detectable effect; default 0.8. */
  readonly power: number;
  /** Floor of impressions per arm, also what live needs before its rate sizes the check; default 300. */
  readonly minImpressions: number;
}

export const DEFAULT_ROLLOUT_POLICY: RolloutPolicy = {
  steps: [0.05, 0.25, 0.5, 1],
  minDetectableEffect: 0.2,
  alpha: 0.05,
  power: 0.8,
  minImpressions: 300,
};

/** Validates a rollout policy; a ConfigError names what is wrong and what was expected. */
export function checkRolloutPolicy(policy: RolloutPolicy): RolloutPolicy {
  const s = policy.steps;
  const increasing = s.every((w, i) => w > 0 && w <= 1 && (i === 0 || w > (s[i - 1] as number)));
  if (s.length === 0 || !increasing || s[s.length - 1] !== 1)
    throw new ConfigError(`rollout steps ${JSON.stringify(s)}: expected increasing weights in (0, 1] ending with 1`);
  if (!(policy.minDetectableEffect > 0))
    throw new ConfigError(`rollout minDetectableEffect ${policy.minDetectableEffect}: expected a relative change > 0`);
  if (!(policy.alpha > 0 && policy.alpha < 1) || !(policy.power > 0 && policy.power < 1))
    throw new ConfigError(`rollout alpha ${policy.alpha} and power ${policy.power}: expected both in (0, 1)`);
  return policy;
}

/**
 * The standard normal quantile (inverse CDF) for p in (0, 1), by Acklam's rational approximation
 * (relative error < 1.2e-9); ±Infinity at 0 and 1.
 */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number): number =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/**
 * Trials per arm to tell rate p1 from p2 with a two-sided test at `alpha` with `power` (Fleiss'
 * formula without continuity correction, rounded up):
 *   n = (z(1−α/2)·sqrt(2·p̄(1−p̄)) + z(power)·sqrt(p1(1−p1) + p2(1−p2)))² / (p1 − p2)²,  p̄ = (p1 + p2)/2.
 * Infinity when p1 = p2.
 */
export function sampleSizePerArm(p1: number, p2: number, alpha = 0.05, power = 0.8): number {
  if (p1 === p2) return Infinity;
  const bar = (p1 + p2) / 2;
  const za = normalQuantile(1 - alpha / 2);
  const zb = normalQuantile(power);
  const root = za * Math.sqrt(2 * bar * (1 - bar)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return Math.ceil((root * root) / ((p1 - p2) * (p1 - p2)));
}

/** Impressions per arm the check at a step needs, given live's play rate. */
export function requiredImpressions(liveRate: number, policy: RolloutPolicy): number {
  const target = Math.min(1, liveRate * (1 + policy.minDetectableEffect));
  const n = liveRate > 0 && liveRate < 1 ? sampleSizePerArm(liveRate, target, policy.alpha, policy.power) : Infinity;
  return Math.max(policy.minImpressions, Number.isFinite(n) ? n : policy.minImpressions);
}

/** The step after the canary's current weight (the smallest configured weight above it). */
export function nextStep(weight: number, policy: RolloutPolicy): number {
  return policy.steps.find((s) => s > weight + 1e-9) ?? 1;
}

export type RolloutAction = 'advance' | 'promote' | 'hold' | 'wait' | 'rollback';

export interface RolloutDecision {
  readonly action: RolloutAction;
  /** The canary's weight after the decision (1 on promote, 0 on rollback). */
  readonly weight: number;
  /** Impressions per arm this step's check needs (0 before live has enough data to size it). */
  readonly requiredImpressions: number;
  readonly live: Rate;
  readonly canary: Rate;
  readonly zScore: number;
  /** canary − live play rate with its (1 − alpha) Wald interval. */
  readonly difference: { readonly value: number; readonly lo: number; readonly hi: number };
  readonly reason: string;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const signed = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} pts`;

/**
 * Decides one step of a staged rollout from the feedback of the current step (both arms over the same
 * period). `weight` is the canary's current share of traffic.
 */
export function decideRolloutStep(
  stats: { readonly live: ArmStats; readonly canary: ArmStats },
  weight: number,
  policy: RolloutPolicy = DEFAULT_ROLLOUT_POLICY,
): RolloutDecision {
  checkRolloutPolicy(policy);
  const { live, canary } = stats;
  const z = normalQuantile(1 - policy.alpha / 2);
  const l = wilson(live.plays, live.impressions, z);
  const c = wilson(canary.plays, canary.impressions, z);
  // The same comparison as the one-shot canary check: listeners as the units when the arms carry
  // per-listener counts, so a few listeners who play less do not roll back an equal model.
  const { zScore, difference, designEffect } = compareArms(live, canary, z);
  const diff = difference.value;
  const target = nextStep(weight, policy);
  const at = `at ${pct(weight)} of traffic`;
  const summary = `canary ${pct(c.rate)} [${pct(c.lo)}, ${pct(c.hi)}] on ${canary.impressions} impressions vs live ${pct(l.rate)} [${pct(l.lo)}, ${pct(l.hi)}] on ${live.impressions}; difference ${signed(diff)} [${signed(difference.lo)}, ${signed(difference.hi)}]`;
  const base = { live: l, canary: c, zScore, difference };
  if (live.impressions < policy.minImpressions)
    return {
      ...base,
      action: 'wait',
      weight,
      requiredImpressions: 0,
      reason: `${at}: waiting for ${policy.minImpressions} live impressions to size the check (have ${live.impressions})`,
    };
  // Correlated impressions carry less information: the binomial sample size grows by live's design effect.
  const needed = Math.ceil(requiredImpressions(l.rate, policy) * designEffect);
  const sizing = `${needed} impressions per arm detect a ${pct(policy.minDetectableEffect)} relative change of live's ${pct(l.rate)} (alpha ${policy.alpha}, power ${policy.power}${designEffect > 1 ? `, design effect ${designEffect.toFixed(2)} of listeners' correlated impressions` : ''})`;
  if (canary.impressions < needed || live.impressions < needed)
    return { ...base, action: 'wait', weight, requiredImpressions: needed, reason: `${at}: not enough data yet; ${sizing}: ${summary}` };
  if (zScore < -z)
    return {
      ...base,
      action: 'rollback',
      weight: 0,
      requiredImpressions: needed,
      reason: `${at}: canary is significantly worse than live (z = ${zScore.toFixed(2)}): ${summary}`,
    };
  if (target >= 1) {
    if (zScore > z)
      return {
        ...base,
        action: 'promote',
        weight: 1,
        requiredImpressions: needed,
        reason: `${at}: canary is significantly better than live (z = ${zScore.toFixed(2)}), taking all traffic: ${summary}`,
      };
    return {
      ...base,
      action: 'hold',
      weight,
      requiredImpressions: needed,
      reason: `${at}: holding, canary is no better than live (z = ${zScore.toFixed(2)}, a significant gain is needed to take all traffic): ${summary}`,
    };
  }
  const margin = -policy.minDetectableEffect * l.rate;
  if (difference.lo > margin)
    return {
      ...base,
      action: 'advance',
      weight: target,
      requiredImpressions: needed,
      reason: `${at}: canary is not worse than live by ${pct(policy.minDetectableEffect)} or more (lower bound ${signed(difference.lo)} > ${signed(margin)}), advancing to ${pct(target)}: ${summary}`,
    };
  return {
    ...base,
    action: 'hold',
    weight,
    requiredImpressions: needed,
    reason: `${at}: holding, a drop of ${pct(policy.minDetectableEffect)} or more cannot be ruled out yet (lower bound ${signed(difference.lo)} <= ${signed(margin)}): ${summary}`,
  };
}
