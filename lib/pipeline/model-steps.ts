/**
 * The pipeline's model steps: TrainBaselines (fit every dummy model of the shelf on the same training
 * channel as the candidate) and Evaluate (candidate, live model and baselines on the same evaluation
 * set; gate; reports; the version recorded in the registry).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadPrefix, joinS3Uri, putObjectBytes } from '../aws/s3-uri.ts';
import type { EndpointStore } from '../aws/endpoints.ts';
import type { ModelRegistry } from '../aws/registry.ts';
import type { Shelf } from '../core/contract.ts';
import { evaluateRuns, type EvalRun, type EvaluationReport } from '../core/eval/evaluate.ts';
import { buildShelfData, type ShelfData, type ShelfDataOptions } from '../core/transforms/protocol.ts';
import { decideGate, type GatePolicy } from '../core/gate/policy.ts';
import { BASELINES_BY_SHELF, fitBaseline, STRONG_BASELINES_BY_SHELF } from '../core/models/fit.ts';
import { loadRecommender } from '../core/models/load.ts';
import type { Recommender } from '../core/models/recommender.ts';
import { renderHtmlReport } from '../core/report/html.ts';
import { renderJsonReport } from '../core/report/json.ts';
import { renderVersionHistorySection } from '../core/report/correlation.ts';
import { renderSkewSection } from '../core/report/skew.ts';
import { wilson } from '../core/gate/canary.ts';
import { bootstrapCorrelation } from '../core/stats/correlation.ts';
import { measureServingSkew } from './skew-step.ts';
import { DEFAULT_EVAL_SAMPLE_USERS, SHELF_CONFIG } from '../core/shelf-settings.ts';
import type { BaselinesResult, EvaluationResult, RunContext, TrainingResult, ValidatedData } from '../wiring/pipeline.ts';
import { readArtifactUri, writeArtifactUri } from './artifact-store.ts';
import { readShelfInput } from './shelf-input.ts';

/**
 * The shelf's data as a step needs it: the channels' events as columns (lib/pipeline/shelf-input.ts),
 * the test window only when evaluating, and only the parts the step reads (ShelfDataOptions).
 */
async function shelfDataFor(data: ValidatedData, shelf: Shelf, withEval: boolean, options: ShelfDataOptions): Promise<ShelfData> {
  const dirs = await Promise.all([fetchChannelDir(data.trainUri), ...(withEval ? [fetchChannelDir(data.evalUri)] : [])]);
  try {
    return buildShelfData(shelf, await readShelfInput(dirs[0] as string, dirs[1]), options);
  } finally {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** Downloads a channel prefix into a fresh temporary folder (the caller removes it). */
async function fetchChannelDir(uri: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shelves-channel-'));
  await downloadPrefix(uri, dir);
  return dir;
}

/**
 * The dummy models a run trains beside its candidate: the shelf's heuristics, plus the strong simple
 * models (ease) when the run asks (hyperparameter strongBaselines) — except one the candidate itself
 * is (algo=ease), which would only be compared with its own twin.
 */
export function baselinesToTrain(shelf: Shelf, hyperparameters: Readonly<Record<string, string>>): string[] {
  const strong = hyperparameters.strongBaselines === 'true' ? STRONG_BASELINES_BY_SHELF[shelf] : [];
  return [...BASELINES_BY_SHELF[shelf], ...strong.filter((name) => name !== hyperparameters.algo)];
}

export async function trainBaselines(run: RunContext, data: ValidatedData): Promise<BaselinesResult> {
  // Baselines fit on the training data alone: no evaluation cases, no ranker examples.
  const shelfData = await shelfDataFor(data, run.shelf, false, { eval: false, examples: false });
  const seed = Number(run.hyperparameters.seed ?? 7);
  const baselines = [];
  for (const name of baselinesToTrain(run.shelf, run.hyperparameters)) {
    const model = fitBaseline(name, shelfData.train, seed);
    const uri = `${joinS3Uri(run.artifactsPrefix, 'baselines', name)}/`;
    await writeArtifactUri(uri, model.save());
    baselines.push({ name, kind: model.kind, uri });
  }
  return { baselines };
}

/** Gives a recommender the catalog as serving would: new items by features, item metadata for the Shortcuts transforms. */
export function prepareForServing(model: Recommender, shelfData: ShelfData): Recommender {
  model.indexItems?.(shelfData.itemFeatures, shelfData.train.items);
  return model;
}

export interface EvaluateDeps {
  readonly registry: ModelRegistry;
  readonly endpoints: EndpointStore;
  readonly policy: GatePolicy;
  readonly now: () => Date;
  readonly resamples?: number;
}

/** Summary rows of a report's primary metric. */
export function summarize(report: EvaluationReport, metric: string): EvaluationResult['summary'] {
  return report.runs.map((r) => ({
    name: r.name,
    role: r.role,
    metric,
    value: r.metrics[metric]?.mean ?? 0,
    lo: r.metrics[metric]?.lo ?? 0,
    hi: r.metrics[metric]?.hi ?? 0,
  }));
}

export async function evaluateCandidate(
  run: RunContext,
  data: ValidatedData,
  training: readonly [TrainingResult, BaselinesResult],
  deps: EvaluateDeps,
): Promise<EvaluationResult> {
  const shelf: Shelf = run.shelf;
  const policy = deps.policy[shelf];
  const seed = Number(run.hyperparameters.seed ?? 7);
  // A deterministic sample of users (execution input, else the shelf's setting) bounds Evaluate's cost:
  // only the sampled users' cases (contexts, histories) are built.
  const sampleUsers = run.evalSampleUsers ?? SHELF_CONFIG[shelf].evalSampleUsers ?? DEFAULT_EVAL_SAMPLE_USERS;
  const shelfData = await shelfDataFor(data, shelf, true, { eval: { sampleUsers, seed }, examples: false });
  const modelUri = training[0].ModelArtifacts.S3ModelArtifacts;
  const candidate = prepareForServing(loadRecommender(await readArtifactUri(modelUri)), shelfData);
  const runs: EvalRun[] = [{ name: 'candidate', role: 'candidate', recommender: candidate }];
  const endpoint = await deps.endpoints.getEndpoint(shelf);
  const live = endpoint.liveVersion ? await deps.registry.getVersion(shelf, endpoint.liveVersion) : null;
  if (live !== null && live.versionId !== run.versionId) {
    runs.push({
      name: `live (${live.versionId})`,
      role: 'live',
      recommender: prepareForServing(loadRecommender(await readArtifactUri(live.artifactUri)), shelfData),
    });
  }
  for (const b of training[1].baselines)
    runs.push({ name: b.name, role: 'baseline', recommender: prepareForServing(loadRecommender(await readArtifactUri(b.uri)), shelfData) });

  const report = evaluateRuns(shelfData.eval, runs, {
    k: SHELF_CONFIG[shelf].k,
    seed,
    ...(deps.resamples ? { resamples: deps.resamples } : {}),
    // The candidate's and live model's lists are re-ranked as serving re-ranks them (shelf setting).
    ...(SHELF_CONFIG[shelf].diversity ? { diversity: SHELF_CONFIG[shelf].diversity } : {}),
    sampleUsers,
  });
  // Train/serve skew: serving's logged features against this run's transforms (lib/pipeline/skew-step.ts).
  const skew = await measureServingSkew(run.rawPrefix, {
    userFeatures: shelfData.userFeatures,
    users: shelfData.train.users ?? new Map(),
    transformVersion: data.transformVersion,
  });
  const decision = decideGate(report, policy, live?.versionId ?? null, skew);
  const reportPrefix = joinS3Uri(run.artifactsPrefix, 'report');
  const reportUri = joinS3Uri(reportPrefix, 'report.html');
  await putObjectBytes(joinS3Uri(reportPrefix, 'report.json'), renderJsonReport(report, decision), 'application/json');
  const sections = [
    renderSkewSection(skew, policy.guardrails.maxFeatureSkew),
    await versionHistorySection(deps.registry, shelf, policy.primaryMetric),
  ];
  await putObjectBytes(
    reportUri,
    renderHtmlReport(report, decision, `${shelf}: ${run.versionId}${sampleNote(report)}`, sections),
    'text/html',
  );
  const c = report.runs[0];
  const metrics: Record<string, number> = {};
  for (const [name, interval] of Object.entries(c?.metrics ?? {})) metrics[name] = interval.mean;
  for (const [name, value] of Object.entries(c?.beyond ?? {})) metrics[name] = value;
  metrics.users = report.users;
  await deps.registry.putVersion({
    shelf,
    versionId: run.versionId,
    runId: run.runId,
    kind: candidate.kind,
    status: 'evaluated',
    artifactUri: modelUri,
    reportUri,
    metrics,
    decision: { pass: decision.pass, reasons: decision.reasons },
    dataSnapshot: data.dataSnapshot,
    transformVersion: data.transformVersion,
    createdAt: deps.now().toISOString(),
  });
  return { versionId: run.versionId, modelUri, reportUri, decision, summary: summarize(report, policy.primaryMetric) };
}

/** The report's look back at earlier versions: offline primary metric beside online play rate (registry versionHistory). */
async function versionHistorySection(registry: ModelRegistry, shelf: Shelf, primaryMetric: string): Promise<string> {
  const rows = (await registry.versionHistory(shelf)).map((h) => {
    const { impressions, plays } = h.onlineTotal;
    const rate = impressions > 0 ? wilson(plays, impressions) : null;
    return {
      versionId: h.version.versionId,
      status: h.version.status,
      offline: h.version.metrics[primaryMetric],
      impressions,
      plays,
      playRate: rate === null ? null : { mean: rate.rate, lo: rate.lo, hi: rate.hi },
    };
  });
  const both = rows.filter((r) => r.offline !== undefined && r.playRate !== null);
  const correlation =
    both.length >= 3
      ? bootstrapCorrelation(
          'spearman',
          both.map((r) => r.offline as number),
          both.map((r) => r.playRate?.mean ?? 0),
        )
      : null;
  return renderVersionHistorySection(rows, primaryMetric, correlation);
}

/** The report title's note on a user sample, when the evaluation scored fewer users than it had. */
function sampleNote(report: EvaluationReport): string {
  const sample = report.sample;
  return sample === undefined || sample.users === sample.population
    ? ''
    : ` (a sample of ${sample.users} of ${sample.population} users, seed ${sample.seed})`;
}
