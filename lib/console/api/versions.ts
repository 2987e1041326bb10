/**
 * Versions and metrics over time, per shelf: every registered version in the order it was created,
 * with its offline metric against each baseline and the live model of its run (report.json, with 95%
 * intervals), the gate's decision in one line (and in full), its online play rate per variant from the
 * logged feedback (Wilson intervals, as the canary monitor judges), the endpoint's decisions and its
 * live / canary / previous pointers.
 */
import type { EndpointRecord } from '../../aws/endpoints.ts';
import { formatS3Uri, listKeys } from '../../aws/s3-uri.ts';
import type { EndpointEvent } from '../../aws/registry.ts';
import type { Shelf } from '../../core/contract.ts';
import { wilson } from '../../core/gate/canary.ts';
import { EvaluationReportSchema, type EvaluationReportDocument } from '../../core/report/json.ts';
import type { FeedbackEvent } from '../../api/schemas.ts';
import { PREFIXES } from '../../wiring/resources.ts';
import type { ConsoleContext } from './context.ts';
import { summarizeGate, type GateSummary } from './gate-summary.ts';
import { PromiseCache, readJsonLines, readText } from './s3-reads.ts';

export interface MetricPoint {
  /** 'candidate' (the version itself), 'live (<id>)' or a baseline's name. */
  readonly name: string;
  readonly role: 'candidate' | 'live' | 'baseline';
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
}

export interface OnlineArm {
  readonly variant: string;
  readonly impressions: number;
  readonly plays: number;
  readonly rate: number;
  readonly lo: number;
  readonly hi: number;
}

export interface VersionRow {
  readonly versionId: string;
  readonly runId: string;
  readonly kind: string;
  readonly status: string;
  readonly statusReason: string | null;
  readonly createdAt: string;
  readonly reportUri: string;
  readonly gate: GateSummary;
  readonly metric: string;
  /** The primary metric of every model of the version's evaluation; empty when its report cannot be read. */
  readonly points: readonly MetricPoint[];
  readonly online: readonly OnlineArm[];
}

export interface ShelfVersions {
  readonly shelf: Shelf;
  readonly endpoint: EndpointRecord;
  readonly versions: readonly VersionRow[];
  readonly events: readonly EndpointEvent[];
}

const reports = new PromiseCache<EvaluationReportDocument | null>();

/** The machine-readable report beside a version's report.html. */
export function readReport(reportUri: string): Promise<EvaluationReportDocument | null> {
  const uri = reportUri.replace(/report\.html$/, 'report.json');
  return reports.get(uri, async () => {
    try {
      return EvaluationReportSchema.parse(JSON.parse(await readText(uri)));
    } catch {
      return null; // a version registered by hand, or an older report: shown without offline points
    }
  });
}

/** Impressions and plays per shelf, model version and variant, over every feedback object. */
export async function onlineStats(rawBucket: string): Promise<Map<string, { impressions: number; plays: number }>> {
  const stats = new Map<string, { impressions: number; plays: number }>();
  for (const key of await listKeys(formatS3Uri(rawBucket, PREFIXES.feedback))) {
    if (key.endsWith('/')) continue;
    for (const e of await readJsonLines<FeedbackEvent>(formatS3Uri(rawBucket, key))) {
      if (e.shelf === undefined || e.modelVersion === undefined) continue;
      const k = `${e.shelf}|${e.modelVersion}|${e.variant ?? 'live'}`;
      const s = stats.get(k) ?? { impressions: 0, plays: 0 };
      if (e.eventType === 'impression') s.impressions++;
      else if (e.eventType === 'play') s.plays++;
      stats.set(k, s);
    }
  }
  return stats;
}

/** Every version of a shelf with its offline and online figures, oldest first. */
export async function shelfVersions(ctx: ConsoleContext, shelf: Shelf): Promise<ShelfVersions> {
  const [endpoint, versions, events, online] = await Promise.all([
    ctx.endpoints.getEndpoint(shelf),
    ctx.registry.listVersions(shelf),
    ctx.registry.listEvents(shelf),
    onlineStats(ctx.rawBucket),
  ]);
  const rows: VersionRow[] = [];
  for (const v of [...versions].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.versionId.localeCompare(b.versionId))) {
    const report = await readReport(v.reportUri);
    const metric = report?.decision?.primaryMetric ?? 'ndcg@10';
    const points: MetricPoint[] = [];
    for (const run of report?.runs ?? []) {
      const m = run.metrics[metric];
      if (m !== undefined) points.push({ name: run.name, role: run.role, mean: m.mean, lo: m.lo, hi: m.hi });
    }
    const arms: OnlineArm[] = [];
    for (const variant of ['live', 'canary', 'fallback']) {
      const s = online.get(`${shelf}|${v.versionId}|${variant}`);
      if (s === undefined || s.impressions === 0) continue;
      const r = wilson(s.plays, s.impressions);
      arms.push({ variant, impressions: s.impressions, plays: s.plays, rate: r.rate, lo: r.lo, hi: r.hi });
    }
    rows.push({
      versionId: v.versionId,
      runId: v.runId,
      kind: v.kind,
      status: v.status,
      statusReason: v.statusReason ?? null,
      createdAt: v.createdAt,
      reportUri: v.reportUri,
      gate: summarizeGate(v.decision),
      metric,
      points,
      online: arms,
    });
  }
  return { shelf, endpoint, versions: rows, events };
}
