/**
 * Runs: each pipeline run of a shelf with its steps and their durations, its data quality and its
 * report. Durations come from what the run left behind, in AWS and locally alike: the registry's run
 * record (start, finish) and the write times of each step's outputs in the features and artifacts
 * buckets (BuildFeatures: clean partitions and rejects; ValidateData: the train / eval channels; Train:
 * the model archive; TrainBaselines: the baseline artifacts; Evaluate: the report). A step's duration
 * is the time from the step before it finished (the run's start for the first; the end of both
 * parallel training branches for Evaluate) to its last write; a step that wrote nothing has none.
 * Data quality is ValidateData's tally (quality.json beside the run's features) when the run wrote
 * one; otherwise it is counted from the outputs: rows accepted (lines of the clean partitions and
 * channels) and rejected by reason (the rejects files, one JSON line per rejected row with its reason).
 */
import type { RunRecord } from '../../aws/registry.ts';
import type { Shelf } from '../../core/contract.ts';
import { type ConsoleContext, runPrefix } from './context.ts';
import { listWithTimes, PromiseCache, readJsonLines, readText, type ObjectInfo } from './s3-reads.ts';

export interface RunStep {
  readonly name: string;
  /** Milliseconds, or null when the step wrote nothing (not reached, or skipped). */
  readonly ms: number | null;
}

export interface RunRow {
  readonly runId: string;
  readonly status: string;
  readonly attempt: number;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly totalMs: number | null;
  readonly reason: string | null;
  readonly versionId: string | null;
  readonly steps: readonly RunStep[];
  /** The console path of the run's report.html, when the run wrote one. */
  readonly report: string | null;
}

export interface FileQuality {
  readonly file: string;
  readonly read: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly rejectedByReason: Readonly<Record<string, number>>;
}

const latest = (objects: readonly ObjectInfo[], test: (key: string) => boolean): number | null => {
  let at: number | null = null;
  for (const o of objects) if (test(o.key) && (at === null || o.modified > at)) at = o.modified;
  return at;
};

/** The steps of a run and their durations, from the run record and its outputs' write times. */
export function runSteps(run: RunRecord, features: readonly ObjectInfo[], artifacts: readonly ObjectInfo[]): RunStep[] {
  const start = Date.parse(run.startedAt);
  // Clean partitions live under a content key shared by every run (runs/_clean/): BuildFeatures ends when
  // its map run's ResultWriter writes the run's build-features/ results (older runs: their own clean/).
  const built = latest(artifacts, (k) => /\/build-features\//.test(k)) ?? latest(features, (k) => /\/(clean|rejects)\//.test(k));
  const validated = latest(features, (k) => /\/(train|eval)\//.test(k));
  const trained = latest(artifacts, (k) => /\/output\/model\.tar\.gz$/.test(k) || /\/model\/[^/]+$/.test(k));
  const baselines = latest(artifacts, (k) => /\/baselines\//.test(k));
  const evaluated = latest(artifacts, (k) => /\/report\//.test(k));
  const finished = run.finishedAt ? Date.parse(run.finishedAt) : null;
  const span = (from: number | null, to: number | null): number | null => (from === null || to === null ? null : Math.max(0, to - from));
  const trainedAll = trained === null || baselines === null ? null : Math.max(trained, baselines);
  const last = [evaluated, trainedAll, validated, built].find((t) => t !== null) ?? start;
  const final =
    run.status === 'deployed'
      ? 'Deploy'
      : run.status === 'rejected'
        ? 'RecordRejection'
        : run.status === 'failed'
          ? 'RecordFailure'
          : 'running';
  return [
    { name: 'BuildFeatures', ms: span(start, built) },
    { name: 'ValidateData', ms: span(built, validated) },
    { name: 'Train', ms: span(validated, trained) },
    { name: 'TrainBaselines', ms: span(validated, baselines) },
    // PublishServingState runs between training and Evaluate and writes outside the run's prefixes: counted here.
    { name: 'PublishServingState+Evaluate', ms: span(trainedAll, evaluated) },
    { name: final, ms: span(last ?? null, finished) },
  ];
}

/** Every run of a shelf, newest first, with its steps. */
export async function shelfRuns(ctx: ConsoleContext, shelf: Shelf): Promise<RunRow[]> {
  const runs = await ctx.registry.listRuns(shelf);
  const rows: RunRow[] = [];
  for (const run of [...runs].sort((a, b) => b.startedAt.localeCompare(a.startedAt))) {
    const [features, artifacts] = await Promise.all([
      listWithTimes(runPrefix(ctx.featuresBucket, shelf, run.runId)),
      listWithTimes(runPrefix(ctx.artifactsBucket, shelf, run.runId)),
    ]);
    const hasReport = artifacts.some((o) => o.key.endsWith('/report/report.html'));
    rows.push({
      runId: run.runId,
      status: run.status,
      attempt: run.attempt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt ?? null,
      totalMs: run.finishedAt ? Date.parse(run.finishedAt) - Date.parse(run.startedAt) : null,
      reason: run.reason ?? null,
      versionId: run.versionId ?? null,
      steps: runSteps(run, features, artifacts),
      report: hasReport ? `api/report?shelf=${encodeURIComponent(shelf)}&runId=${encodeURIComponent(run.runId)}` : null,
    });
  }
  return rows;
}

const countLines = async (uri: string): Promise<number> => (await readText(uri)).split('\n').filter((l) => l.trim() !== '').length;
const qualities = new PromiseCache<FileQuality[]>(50);

/** Rows read, accepted and rejected by reason, per input file of a run (finished runs are cached). */
export async function runQuality(ctx: ConsoleContext, shelf: Shelf, runId: string): Promise<FileQuality[]> {
  const load = async (): Promise<FileQuality[]> => {
    const prefix = runPrefix(ctx.featuresBucket, shelf, runId);
    // ValidateData's own tally, when the run wrote one; else it is counted again from the outputs.
    const written = await readText(`${prefix}quality.json`).then(
      (text) => (JSON.parse(text) as { reports?: FileQuality[] }).reports,
      () => undefined,
    );
    if (written !== undefined)
      return written.map((r) => ({
        file: r.file.replace(/^s3:\/\/[^/]+\//, ''),
        read: r.read,
        accepted: r.accepted,
        rejected: r.rejected,
        rejectedByReason: r.rejectedByReason,
      }));
    const bucket = `s3://${ctx.featuresBucket}/`;
    const objects = await listWithTimes(prefix);
    const files = new Map<string, { accepted: number; rejectedByReason: Record<string, number> }>();
    const entry = (file: string) => files.get(file) ?? files.set(file, { accepted: 0, rejectedByReason: {} }).get(file)!;
    for (const o of objects) {
      const clean = /\/clean\/(dt=[^/]+)\//.exec(o.key);
      if (clean) entry(`events/${clean[1] as string}`).accepted += await countLines(bucket + o.key);
      const channel = /\/train\/(catalog|users)\.jsonl$/.exec(o.key);
      if (channel) entry(channel[1] as string).accepted += await countLines(bucket + o.key);
      const rejects = /\/rejects\/(.+)\.jsonl$/.exec(o.key);
      if (rejects) {
        const name = rejects[1] as string;
        const file = name.startsWith('dt=') ? `events/${name}` : name;
        const tally = entry(file).rejectedByReason;
        for (const r of await readJsonLines<{ reason?: string }>(bucket + o.key))
          tally[r.reason ?? 'unknown'] = (tally[r.reason ?? 'unknown'] ?? 0) + 1;
      }
    }
    return [...files]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([file, f]) => {
        const rejected = Object.values(f.rejectedByReason).reduce((s, n) => s + n, 0);
        return { file, read: f.accepted + rejected, accepted: f.accepted, rejected, rejectedByReason: f.rejectedByReason };
      });
  };
  const run = await ctx.registry.getRun(shelf, runId);
  // A running run's outputs still change: read afresh until it has finished.
  return run?.status === 'running' || run === null ? load() : qualities.get(`${shelf}/${runId}/${run.attempt}`, load);
}
