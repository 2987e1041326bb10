/**
 * The machine-readable report: the evaluation (every run's metrics with intervals, beyond-accuracy
 * metrics, slices, paired comparisons) and, when decided, the gate's decision. Times are ISO strings;
 * non-finite numbers never appear (a lift without a defined baseline is null).
 */
import { z } from 'zod';
import type { EvaluationReport } from '../eval/evaluate.ts';
import type { GateDecision } from '../gate/policy.ts';

export const REPORT_SCHEMA_VERSION = '1.0.0';

const Finite = z.number().refine(Number.isFinite, 'expected a finite number');
export const IntervalSchema = z.strictObject({ mean: Finite, lo: Finite, hi: Finite });
const Role = z.enum(['candidate', 'live', 'baseline']);

export const RunReportSchema = z.strictObject({
  name: z.string(),
  role: Role,
  kind: z.string(),
  users: z.number().int().nonnegative(),
  usersWithoutPrediction: z.number().int().nonnegative(),
  metrics: z.record(z.string(), IntervalSchema),
  beyond: z.record(z.string(), Finite),
  slices: z.record(
    z.string(),
    z.record(z.string(), z.strictObject({ users: z.number().int().positive(), metrics: z.record(z.string(), Finite) })),
  ),
});

export const ComparisonSchema = z.strictObject({
  candidate: z.string(),
  against: z.string(),
  role: Role,
  metric: z.string(),
  difference: IntervalSchema,
  relativeLift: Finite.nullable(),
  liftInterval: IntervalSchema.nullable(),
});

/** Same shape as GateDecisionSchema in lib/wiring/pipeline.ts (the core does not import it). */
export const ReportGateDecisionSchema = z.strictObject({
  pass: z.boolean(),
  reasons: z.array(z.string()),
  primaryMetric: z.string(),
  liveVersion: z.string().nullable(),
});

export const EvaluationReportSchema = z.strictObject({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  shelf: z.string(),
  k: z.number().int().positive(),
  users: z.number().int().nonnegative(),
  usersWithoutRelevant: z.number().int().nonnegative(),
  evaluatedAt: z.iso.datetime(),
  seed: z.number().int(),
  resamples: z.number().int().nonnegative(),
  confidence: z.literal(0.95),
  runs: z.array(RunReportSchema),
  comparisons: z.array(ComparisonSchema),
  decision: ReportGateDecisionSchema.optional(),
  /** The users scored: a deterministic sample (by hash of user id and seed) of the population with a relevant item. */
  sample: z
    .strictObject({ users: z.number().int().nonnegative(), population: z.number().int().nonnegative(), seed: z.number().int() })
    .optional(),
});
export type EvaluationReportDocument = z.infer<typeof EvaluationReportSchema>;

/** The report as a plain document (validated against EvaluationReportSchema). */
export function toReportDocument(report: EvaluationReport, decision?: GateDecision): EvaluationReportDocument {
  const finite = (x: number): number => (Number.isFinite(x) ? x : 0);
  const doc = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    shelf: report.shelf,
    k: report.k,
    users: report.users,
    usersWithoutRelevant: report.usersWithoutRelevant,
    evaluatedAt: new Date(report.evaluatedAt).toISOString(),
    seed: report.seed,
    resamples: report.resamples,
    confidence: 0.95 as const,
    runs: report.runs.map((r) => ({
      name: r.name,
      role: r.role,
      kind: r.kind,
      users: r.users,
      usersWithoutPrediction: r.usersWithoutPrediction,
      metrics: { ...r.metrics },
      beyond: Object.fromEntries(Object.entries(r.beyond).map(([key, v]) => [key, finite(v)])),
      slices: Object.fromEntries(
        Object.entries(r.slices).map(([dim, values]) => [
          dim,
          Object.fromEntries(Object.entries(values).map(([v, s]) => [v, { users: s.users, metrics: { ...s.metrics } }])),
        ]),
      ),
    })),
    comparisons: report.comparisons.map((c) => ({ ...c })),
    ...(report.sample ? { sample: { ...report.sample } } : {}),
    ...(decision
      ? {
          decision: {
            pass: decision.pass,
            reasons: [...decision.reasons],
            primaryMetric: decision.primaryMetric,
            liveVersion: decision.liveVersion,
          },
        }
      : {}),
  };
  return EvaluationReportSchema.parse(doc);
}

/** The report as pretty JSON text (stable key order, so the same evaluation gives the same bytes). */
export function renderJsonReport(report: EvaluationReport, decision?: GateDecision): string {
  return `${JSON.stringify(toReportDocument(report, decision), null, 2)}\n`;
}
