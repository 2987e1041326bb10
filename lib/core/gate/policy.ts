/**
 * The deployment gate, declared per shelf (lib/core/gate/default-policy.json) and decided on an evaluation
 * report. Like TFX's evaluator it applies an absolute bar (beat the best baseline by a margin that is
 * not noise) and a change threshold against the live model, and says so when there is no live model.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import type { EvaluationReport, RunReport } from '../eval/evaluate.ts';
import type { SkewReport } from '../eval/skew.ts';

export const ShelfGatePolicySchema = z.strictObject({
  /** Metric key as in the report, such as "ndcg@10". */
  primaryMetric: z.string().regex(/^(ndcg|precision|recall|map|mrr|hitrate)@\d+$/),
  /** Relative lift the candidate needs over the best baseline (0.05 = 5%); its paired interval must also exclude 0. */
  minLiftOverBestBaseline: z.number().min(0),
  /**
   * Baselines that are evaluated and reported but do not block a deploy: strong simple models (ease)
   * whose lead says the candidate is not worth its cost, while the candidate may still be the one to
   * ship for what they cannot do (new items). The decision says so when one outranks the candidate.
   */
  advisoryBaselines: z.array(z.string().min(1)).optional(),
  /** Largest relative drop against the live model that is still allowed (0.02 = 2%). */
  maxRegressionVsLive: z.number().min(0).max(1),
  guardrails: z.strictObject({
    minCoverage: z.number().min(0).max(1).optional(),
    minDiversity: z.number().min(0).max(1).optional(),
    minFreshness: z.number().min(0).max(1).optional(),
    /** A slice may trail the best baseline by at most this relative share... */
    sliceTolerance: z.number().min(0).max(1).optional(),
    /** ...when it has at least this many users. Default 30. */
    sliceMinUsers: z.number().int().positive().optional(),
    /**
     * Train/serve skew: the largest share of logged requests whose served features may differ from
     * the run's recomputation, per feature (lib/core/eval/skew.ts)...
     */
    maxFeatureSkew: z.number().min(0).max(1).optional(),
    /** ...judged once at least this many logged requests could be compared. Default 50. */
    skewMinRequests: z.number().int().positive().optional(),
  }),
});
export type ShelfGatePolicy = z.infer<typeof ShelfGatePolicySchema>;

export const GatePolicySchema = z.strictObject({
  shortcuts: ShelfGatePolicySchema,
  podcasts: ShelfGatePolicySchema,
  playlists: ShelfGatePolicySchema,
});
export type GatePolicy = z.infer<typeof GatePolicySchema>;

/** Validates a policy document (parsed JSON); errors name the field. */
export function parseGatePolicy(raw: unknown, source = 'gate policy'): GatePolicy {
  const parsed = GatePolicySchema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(`${source}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export interface GateDecision {
  readonly pass: boolean;
  readonly reasons: string[];
  readonly primaryMetric: string;
  readonly liveVersion: string | null;
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : 'infinitely');
const f4 = (x: number): string => x.toFixed(4);

/**
 * Decides pass or fail, giving every reason in plain words (each names the metric, the values and
 * the baseline, live model or slice). `liveVersion` is the live model's version id; by default the
 * live run's name, or null when the report has no live run.
 */
export function decideGate(
  report: EvaluationReport,
  policy: ShelfGatePolicy,
  liveVersion: string | null = report.runs.find((r) => r.role === 'live')?.name ?? null,
  skew?: SkewReport,
): GateDecision {
  const m = policy.primaryMetric;
  const reasons: string[] = [];
  let pass = true;
  const fail = (reason: string): void => {
    pass = false;
    reasons.push(reason);
  };
  const candidate = report.runs.find((r) => r.role === 'candidate');
  if (candidate === undefined) return { pass: false, reasons: ['no candidate in the evaluation'], primaryMetric: m, liveVersion };
  if (candidate.metrics[m] === undefined) {
    const available = Object.keys(candidate.metrics).join(', ') || 'none';
    return {
      pass: false,
      reasons: [`the primary metric ${m} is not in the evaluation (it has ${available}): evaluate with the policy's k`],
      primaryMetric: m,
      liveVersion,
    };
  }
  const value = (r: RunReport): number => r.metrics[m]?.mean ?? 0;
  const advisory = new Set(policy.advisoryBaselines ?? []);
  const allBaselines = report.runs.filter((r) => r.role === 'baseline').sort((a, b) => value(b) - value(a));
  const baselines = allBaselines.filter((r) => !advisory.has(r.name));
  const best = baselines[0];
  if (report.users === 0) fail('the evaluation set has no users with relevant items, so nothing can be judged');

  if (best !== undefined) {
    const cmp = report.comparisons.find((c) => c.against === best.name && c.metric === m);
    const lift = value(best) > 0 ? (value(candidate) - value(best)) / value(best) : value(candidate) > 0 ? Infinity : 0;
    const lo = cmp?.difference.lo ?? 0;
    if (lift < policy.minLiftOverBestBaseline)
      fail(
        `${m} ${f4(value(candidate))} is ${pct(lift)} over the best baseline ${best.name} (${f4(value(best))}); at least ${pct(policy.minLiftOverBestBaseline)} is required`,
      );
    else if (!(lo > 0))
      fail(
        `${m} beats the best baseline ${best.name} by ${pct(lift)}, but the 95% interval of the per-user difference [${f4(cmp?.difference.lo ?? 0)}, ${f4(cmp?.difference.hi ?? 0)}] includes 0: not distinguishable from noise`,
      );
    else
      reasons.push(
        `${m} ${f4(value(candidate))} beats the best baseline ${best.name} (${f4(value(best))}) by ${pct(lift)}; 95% interval of the difference [${f4(lo)}, ${f4(cmp?.difference.hi ?? 0)}]`,
      );
    for (const other of baselines.slice(1)) {
      if (value(candidate) <= value(other)) fail(`${m} ${f4(value(candidate))} does not beat baseline ${other.name} (${f4(value(other))})`);
    }
  } else reasons.push('no baselines were evaluated');
  for (const simple of allBaselines.filter((r) => advisory.has(r.name))) {
    const lead = value(candidate) > 0 ? (value(simple) - value(candidate)) / value(candidate) : 0;
    reasons.push(
      value(simple) >= value(candidate)
        ? `advisory: the simple model ${simple.name} (${f4(value(simple))}) scores ${pct(lead)} above the candidate on ${m}: the candidate is not worth its cost on this metric (advisory baselines do not block a deploy)`
        : `advisory: the candidate beats the simple model ${simple.name} (${f4(value(simple))}) on ${m} by ${pct(-lead)}`,
    );
  }

  const live = report.runs.find((r) => r.role === 'live');
  if (live === undefined) reasons.push('no live model yet: the comparison with live is skipped');
  else {
    const change = value(live) > 0 ? (value(candidate) - value(live)) / value(live) : 0;
    if (change < -policy.maxRegressionVsLive)
      fail(
        `${m} ${f4(value(candidate))} is ${pct(-change)} below the live model ${live.name} (${f4(value(live))}); at most ${pct(policy.maxRegressionVsLive)} regression is allowed`,
      );
    else if (change >= 0)
      reasons.push(`${m} ${f4(value(candidate))} is ${pct(change)} above the live model ${live.name} (${f4(value(live))})`);
    else
      reasons.push(
        `${m} ${f4(value(candidate))} is ${pct(-change)} below the live model ${live.name} (${f4(value(live))}), within the allowed ${pct(policy.maxRegressionVsLive)} regression`,
      );
  }

  const g = policy.guardrails;
  const beyond = candidate.beyond;
  if (g.minCoverage !== undefined && (beyond.coverage ?? 0) < g.minCoverage)
    fail(`catalog coverage ${pct(beyond.coverage ?? 0)} is under the guardrail ${pct(g.minCoverage)}`);
  if (g.minDiversity !== undefined && (beyond.diversity ?? 0) < g.minDiversity)
    fail(`category diversity ${f4(beyond.diversity ?? 0)} is under the guardrail ${f4(g.minDiversity)}`);
  if (g.minFreshness !== undefined && (beyond.freshness ?? 0) < g.minFreshness)
    fail(`freshness ${pct(beyond.freshness ?? 0)} is under the guardrail ${pct(g.minFreshness)}`);
  if (g.sliceTolerance !== undefined && best !== undefined) {
    const minUsers = g.sliceMinUsers ?? 30;
    for (const [dim, values] of Object.entries(candidate.slices)) {
      for (const [label, stats] of Object.entries(values)) {
        if (stats.users < minUsers) continue;
        const c = stats.metrics[m] ?? 0;
        const b = best.slices[dim]?.[label]?.metrics[m] ?? 0;
        if (b > 0 && c < b * (1 - g.sliceTolerance))
          fail(
            `slice ${dim}=${label} (${stats.users} users): ${m} ${f4(c)} trails the best baseline ${best.name} (${f4(b)}) by more than ${pct(g.sliceTolerance)}`,
          );
      }
    }
  }
  if (g.maxFeatureSkew !== undefined) {
    const minRequests = g.skewMinRequests ?? 50;
    if (skew?.readError !== undefined) reasons.push(`train/serve skew not judged: the request log could not be read (${skew.readError})`);
    else if (skew === undefined || skew.compared < minRequests)
      reasons.push(
        `train/serve skew not judged: ${skew?.compared ?? 0} logged requests could be compared, at least ${minRequests} are needed`,
      );
    else {
      const over = Object.entries(skew.features).filter(([, f]) => f.rate > (g.maxFeatureSkew as number));
      for (const [feature, f] of over)
        fail(
          `train/serve skew: feature "${feature}" differs in ${pct(f.rate)} of ${f.compared} logged requests (served ${f.example?.served ?? '?'}, this run computes ${f.example?.recomputed ?? '?'}); at most ${pct(g.maxFeatureSkew)} is allowed`,
        );
      if (over.length === 0)
        reasons.push(
          `train/serve skew within ${pct(g.maxFeatureSkew)} on every feature over ${skew.compared} logged requests (worst: ${skew.worst ? `${skew.worst.feature} ${pct(skew.worst.rate)}` : 'none'})`,
        );
    }
  }
  if (pass) reasons.unshift('PASS: every rule of the gate holds');
  return { pass, reasons, primaryMetric: m, liveVersion };
}
