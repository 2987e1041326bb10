/**
 * Does offline predict online? On one simulated world, per shelf, model variants spanning quality are
 * measured twice:
 *
 * - offline: the pipeline's protocol (lib/core/transforms/protocol.ts) on the held-out logged events
 *   after the cut-off, scored by the evaluator (NDCG@10, recall@10, ..., coverage, freshness, ...);
 * - online: the same users at the same moment ask for the shelf as serving ranks it (the shelf's
 *   items published by then as candidates; no exclusion of what the user already played, as
 *   HomeService does; no fresh-content overlay, which is the same for every variant), and the
 *   simulated listeners of lib/sim/respond.ts (the world's ground truth) play, skip or ignore each
 *   item. Every variant's users draw the same random numbers (common random numbers), so differences
 *   between variants are not sampling noise of the listener.
 *
 * Then the rank correlation (Spearman, Kendall tau-b) of every offline metric with the online play and
 * skip rates, with bootstrap intervals over variants; a scatter plot and the disagreements go to an
 * HTML report (.shelves/bench/correlation.html), the figures to .shelves/bench/correlation.json.
 *
 * Size: BENCH_CORRELATION_USERS / _DAYS (default the default world, 3,000 users × 60 days),
 * BENCH_CORRELATION_REPLICATES (responses per user and variant, default 3).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shelvesHome } from '../lib/cli/_home.ts';
import type { CatalogItem, ListeningEvent, Shelf, User } from '../lib/core/contract.ts';
import type { EvalSet } from '../lib/core/eval/eval-set.ts';
import { evaluateRuns, type EvalRun } from '../lib/core/eval/evaluate.ts';
import { fitBaseline } from '../lib/core/models/fit.ts';
import { fitHybrid } from '../lib/core/models/hybrid/index.ts';
import type { Recommender, TrainingData } from '../lib/core/models/recommender.ts';
import { fitShortcutsRanker } from '../lib/core/models/shortcuts/model.ts';
import { shuffleInteractions, shuffleLabels } from '../lib/core/negative-control.ts';
import { renderCorrelationSection, disagreements, type ShelfCorrelation, type VariantMeasurement } from '../lib/core/report/correlation.ts';
import { Rng, hashString } from '../lib/core/rng.ts';
import { SHELF_CONFIG, shelfHybridSettings } from '../lib/core/shelf-settings.ts';
import { percentileInterval, resampleIndices, type Interval } from '../lib/core/stats/bootstrap.ts';
import { bootstrapCorrelation, rankPredictors, type CorrelationInterval } from '../lib/core/stats/correlation.ts';
import { buildShelfData, type ShelfData } from '../lib/core/transforms/protocol.ts';
import { loadTruth, respond, type Truth } from '../lib/sim/respond.ts';
import { DEFAULT_WORLD, generateWorld } from '../lib/sim/world.ts';

const DAY = 86_400_000;
const K = 10;
const SEED = 7;
const USER_RESAMPLES = 300;
const VARIANT_RESAMPLES = 2000;
const SHELF_TYPES: Readonly<Record<Shelf, readonly string[] | undefined>> = {
  podcasts: ['show'],
  playlists: ['playlist'],
  shortcuts: undefined,
};

interface Variant {
  readonly name: string;
  readonly model: Recommender;
}

interface World {
  readonly end: number;
  readonly events: ListeningEvent[];
  readonly catalog: CatalogItem[];
  readonly users: User[];
  readonly truth: Truth;
}

const lines = async <T>(f: string): Promise<T[]> =>
  (await readFile(f, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);

async function simulatedWorld(users: number, days: number): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-correlation-'));
  try {
    const manifest = await generateWorld(dir, { ...DEFAULT_WORLD, users, days });
    const events: ListeningEvent[] = [];
    for (const p of manifest.partitions) for (const f of p.files) events.push(...(await lines<ListeningEvent>(join(dir, f))));
    return {
      end: Date.parse(manifest.end),
      events,
      catalog: await lines<CatalogItem>(join(dir, 'catalog', 'catalog.jsonl')),
      users: await lines<User>(join(dir, 'users', 'users.jsonl')),
      truth: await loadTruth(dir),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The closed-form model of lib/core/models/ease, when that module exports a fitter. */
async function closedFormVariant(train: TrainingData): Promise<Variant | undefined> {
  const dir = new URL('../lib/core/models/ease/', import.meta.url);
  if (!existsSync(dir)) return undefined;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const mod = (await import(new URL(file, dir).href)) as Record<string, unknown>;
    const fit = Object.entries(mod).find(([name, v]) => /^fit/i.test(name) && typeof v === 'function');
    if (fit) return { name: 'ease', model: (fit[1] as (d: TrainingData, o?: object) => Recommender)(train, {}) };
  }
  return undefined;
}

async function variantsFor(shelf: Shelf, data: ShelfData): Promise<{ variants: Variant[]; notes: string[] }> {
  const notes: string[] = [];
  const train = data.train;
  if (shelf === 'shortcuts') {
    const examples = data.shortcutExamples;
    if (examples === undefined) throw new Error('the shortcuts protocol built no ranking examples');
    const ranker = (name: string, ex: typeof examples, trees?: number): Variant => ({
      name,
      model: fitShortcutsRanker(ex, { seed: SEED, ...(trees ? { trees, validationShare: 0 } : {}) }),
    });
    return {
      variants: [
        { name: 'random', model: fitBaseline('random', train, SEED) },
        { name: 'popularity', model: fitBaseline('popularity', train, SEED) },
        { name: 'popularity-segment', model: fitBaseline('popularity-segment', train, SEED) },
        { name: 'most-recent', model: fitBaseline('most-recent', train, SEED) },
        { name: 'most-frequent', model: fitBaseline('most-frequent', train, SEED) },
        ranker('ranker-1-tree', examples, 1),
        ranker('ranker-5-trees', examples, 5),
        ranker('ranker-full', examples),
        ranker('ranker-sabotaged', shuffleLabels(examples, SEED)),
      ],
      notes: ['the closed-form model ranks items across users; Shortcuts ranks a user’s own items, so it is not a Shortcuts variant'],
    };
  }
  const settings = shelfHybridSettings(shelf);
  const full = Number(SHELF_CONFIG[shelf].hyperparameters.epochs ?? 40);
  const hybrid = (epochs: number, dim: number, d: TrainingData = train): Recommender =>
    fitHybrid(d, { epochs, dim, seed: SEED, ...settings, ...(epochs < 5 ? { patience: epochs } : {}) });
  const variants: Variant[] = [
    { name: 'random', model: fitBaseline('random', train, SEED) },
    { name: 'popularity', model: fitBaseline('popularity', train, SEED) },
    { name: 'popularity-segment', model: fitBaseline('popularity-segment', train, SEED) },
    ...(shelf === 'podcasts'
      ? [
          { name: 'recent-popularity', model: fitBaseline('recent-popularity', train, SEED) },
          { name: 'newest', model: fitBaseline('newest', train, SEED) },
        ]
      : []),
    { name: 'hybrid-1-epoch', model: hybrid(1, 64) },
    { name: 'hybrid-3-epochs', model: hybrid(3, 64) },
    { name: `hybrid-${full}-epochs`, model: hybrid(full, 64) },
    { name: 'hybrid-dim-4', model: hybrid(full, 4) },
    { name: 'hybrid-sabotaged', model: hybrid(full, 64, shuffleInteractions(train, SEED)) },
  ];
  const ease = await closedFormVariant(train).catch((error: unknown) => {
    notes.push(`the closed-form model could not be fitted: ${(error as Error).message}`);
    return undefined;
  });
  if (ease) variants.push(ease);
  else if (notes.length === 0) notes.push('no closed-form (EASE / item-kNN) model exists in lib/core/models yet: not among the variants');
  return { variants, notes };
}

interface OnlineCounts {
  readonly plays: Float64Array;
  readonly skips: Float64Array;
  readonly impressions: Float64Array;
}

/** Every eval user asks for the shelf at the eval moment; the simulated listener answers `replicates` times. */
function simulateOnline(
  shelf: Shelf,
  set: EvalSet,
  model: Recommender,
  truth: Truth,
  publishedAt: ReadonlyMap<string, number>,
  replicates: number,
  excludePlayed: boolean,
): OnlineCounts {
  const n = set.cases.length;
  const counts = { plays: new Float64Array(n), skips: new Float64Array(n), impressions: new Float64Array(n) };
  const types = SHELF_TYPES[shelf];
  const byTime = new Map<number, readonly string[]>();
  set.cases.forEach((c, u) => {
    const now = c.context.now;
    let candidates: readonly string[] | undefined;
    if (types !== undefined) {
      candidates = byTime.get(now);
      if (candidates === undefined) {
        candidates = (set.candidates ?? []).filter((id) => (publishedAt.get(id) ?? Infinity) <= now);
        byTime.set(now, candidates);
      }
    }
    const shown = model
      .recommend(c.context, K, { ...(candidates ? { candidates } : {}), ...(excludePlayed ? { exclude: c.exclude } : {}) })
      .map((s) => s.itemId);
    // The same draws for every variant: the listener's randomness is per user, not per model.
    const rng = new Rng(hashString(`${shelf}:${c.context.userId}`));
    for (let r = 0; r < replicates; r++) {
      const answers = respond(truth, c.context.userId, shown, now, rng.fork(r));
      counts.impressions[u] = (counts.impressions[u] as number) + answers.length;
      for (const a of answers) {
        if (a === 'play') counts.plays[u] = (counts.plays[u] as number) + 1;
        else if (a === 'skip') counts.skips[u] = (counts.skips[u] as number) + 1;
      }
    }
  });
  return counts;
}

/** A ratio of sums (events / impressions) with its percentile interval over resampled users. */
function ratioInterval(events: Float64Array, impressions: Float64Array, samples: readonly Int32Array[]): Interval {
  const sum = (v: Float64Array): number => v.reduce((s, x) => s + x, 0);
  const total = sum(impressions);
  const point = total === 0 ? 0 : sum(events) / total;
  const resampled = Float64Array.from(samples, (idx) => {
    let e = 0;
    let i = 0;
    for (const u of idx) {
      e += events[u] as number;
      i += impressions[u] as number;
    }
    return i === 0 ? 0 : e / i;
  });
  return percentileInterval(point, resampled);
}

const fmt = (c: { value: number; lo: number; hi: number }): string => `${c.value.toFixed(3)} [${c.lo.toFixed(3)}, ${c.hi.toFixed(3)}]`;

export default async function bench(): Promise<Record<string, number | string>> {
  const started = performance.now();
  const users = Number(process.env.BENCH_CORRELATION_USERS ?? DEFAULT_WORLD.users);
  const days = Number(process.env.BENCH_CORRELATION_DAYS ?? DEFAULT_WORLD.days);
  const replicates = Number(process.env.BENCH_CORRELATION_REPLICATES ?? 3);
  const shelves = (process.env.BENCH_CORRELATION_SHELVES ?? 'podcasts,playlists,shortcuts').split(',') as Shelf[];
  const world = await simulatedWorld(users, days);
  const figures: Record<string, number | string> = { users, days, replicates, worldEvents: world.events.length };
  const publishedAt = new Map(world.catalog.map((i) => [i.itemId, Date.parse(i.publishedAt)]));
  const studies: ShelfCorrelation[] = [];

  for (const shelf of shelves) {
    const shelfStart = performance.now();
    const { testDays } = SHELF_CONFIG[shelf];
    const data = buildShelfData(shelf, {
      events: world.events,
      catalog: world.catalog,
      users: world.users,
      cutoff: world.end - testDays * DAY,
      testDays,
      snapshot: 'correlation',
    });
    const { variants, notes } = await variantsFor(shelf, data);
    for (const v of variants) v.model.indexItems?.(data.itemFeatures, data.train.items);
    const runs: EvalRun[] = variants.map((v, i) => ({ name: v.name, role: i === 0 ? 'candidate' : 'baseline', recommender: v.model }));
    const report = evaluateRuns(data.eval, runs, { k: K, seed: SEED, resamples: USER_RESAMPLES });
    const samples = resampleIndices(data.eval.cases.length, USER_RESAMPLES, SEED);
    const measured: VariantMeasurement[] = [];
    const discovery: number[] = [];
    for (const [i, v] of variants.entries()) {
      const r = report.runs[i];
      if (r === undefined) continue;
      const served = simulateOnline(shelf, data.eval, v.model, world.truth, publishedAt, replicates, false);
      const offline: Record<string, Interval> = { ...r.metrics };
      for (const [name, value] of Object.entries(r.beyond))
        if (name !== 'newItemRelevant') offline[name] = { mean: value, lo: value, hi: value };
      const impressions = served.impressions.reduce((s, x) => s + x, 0);
      measured.push({
        name: v.name,
        offline,
        playRate: ratioInterval(served.plays, served.impressions, samples),
        skipRate: ratioInterval(served.skips, served.impressions, samples),
        impressions,
      });
      if (shelf === 'podcasts') {
        const fresh = simulateOnline(shelf, data.eval, v.model, world.truth, publishedAt, replicates, true);
        discovery.push(
          fresh.plays.reduce((s, x) => s + x, 0) /
            Math.max(
              1,
              fresh.impressions.reduce((s, x) => s + x, 0),
            ),
        );
      }
    }
    const metricNames = Object.keys(measured[0]?.offline ?? {}).filter((m) =>
      // A metric that is the same for every variant predicts nothing; leave it out of the ranking.
      measured.some((v) => v.offline[m]?.mean !== measured[0]?.offline[m]?.mean),
    );
    const column = (m: string): number[] => measured.map((v) => v.offline[m]?.mean ?? 0);
    const play = measured.map((v) => v.playRate.mean);
    const skip = measured.map((v) => v.skipRate.mean);
    const options = { resamples: VARIANT_RESAMPLES, seed: SEED };
    const ranking = rankPredictors('spearman', Object.fromEntries(metricNames.map((m) => [m, column(m)])), play, options);
    const kendall: Record<string, CorrelationInterval> = {};
    const skipCorr: Record<string, CorrelationInterval> = {};
    for (const m of metricNames) {
      kendall[m] = bootstrapCorrelation('kendall', column(m), play, options);
      skipCorr[m] = bootstrapCorrelation('spearman', column(m), skip, options);
    }
    const primary = `ndcg@${K}`;
    const study: ShelfCorrelation = {
      shelf,
      users: data.eval.cases.length,
      variants: measured,
      playRate: ranking,
      kendall,
      skipRate: skipCorr,
      primaryMetric: primary,
      notes: [...notes, ...explain(shelf, measured, primary, discovery)],
    };
    studies.push(study);
    figures[`${shelf}.variants`] = measured.length;
    figures[`${shelf}.users`] = data.eval.cases.length;
    // Metrics that order the variants identically tie exactly; name them all.
    const top = ranking.ranked[0];
    figures[`${shelf}.bestPredictor`] = `${ranking.tiedWithBest.join(' = ') || 'none'} ${top ? fmt(top.correlation) : ''}`;
    if (ranking.marginOverRunnerUp)
      figures[`${shelf}.bestPredictor.marginOverNext`] = `${ranking.marginOverRunnerUp.runnerUp} ${fmt(ranking.marginOverRunnerUp)}`;
    for (const m of [primary, `recall@${K}`, 'coverage', 'freshness', 'novelty', 'personalization']) {
      const s = ranking.ranked.find((r) => r.predictor === m)?.correlation;
      if (s) figures[`${shelf}.spearman.${m}~playRate`] = fmt(s);
      if (kendall[m]) figures[`${shelf}.kendall.${m}~playRate`] = fmt(kendall[m]);
      if (skipCorr[m]) figures[`${shelf}.spearman.${m}~skipRate`] = fmt(skipCorr[m]);
    }
    for (const v of measured)
      figures[`${shelf}.${v.name}`] =
        `${primary} ${(v.offline[primary]?.mean ?? 0).toFixed(4)}, play ${(v.playRate.mean * 100).toFixed(2)}% [${(v.playRate.lo * 100).toFixed(2)}, ${(v.playRate.hi * 100).toFixed(2)}], skip ${(v.skipRate.mean * 100).toFixed(2)}%`;
    figures[`${shelf}.disagreeingPairs`] = disagreements(study).length;
    figures[`${shelf}.disagreeingPairsBeyondNoise`] = disagreements(study).filter((d) => d.clear).length;
    figures[`${shelf}.seconds`] = Number(((performance.now() - shelfStart) / 1000).toFixed(1));
  }
  const out = join(shelvesHome(), 'bench');
  mkdirSync(out, { recursive: true });
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>offline vs online</title><style>body{font-family:system-ui,sans-serif;margin:24px;max-width:1000px}table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head><body>${renderCorrelationSection(studies)}</body></html>\n`;
  writeFileSync(join(out, 'correlation.html'), html);
  writeFileSync(join(out, 'correlation-study.json'), `${JSON.stringify(studies, null, 1)}\n`);
  figures.report = join(out, 'correlation.html');
  figures.seconds = Number(((performance.now() - started) / 1000).toFixed(1));
  return figures;
}

/** Plain-language notes from the measurements: where offline and online part ways, and the mechanism. */
function explain(shelf: Shelf, vs: readonly VariantMeasurement[], primary: string, discovery: readonly number[]): string[] {
  const notes: string[] = [];
  const by = (name: string): VariantMeasurement | undefined => vs.find((v) => v.name === name);
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  const off = (v: VariantMeasurement | undefined): string => (v?.offline[primary]?.mean ?? 0).toFixed(4);
  const best = [...vs].sort((a, b) => (b.offline[primary]?.mean ?? 0) - (a.offline[primary]?.mean ?? 0))[0];
  const bestOnline = [...vs].sort((a, b) => b.playRate.mean - a.playRate.mean)[0];
  if (best && bestOnline && best.name !== bestOnline.name)
    notes.push(
      `the best variant offline (${best.name}, ${primary} ${off(best)}, play ${pct(best.playRate.mean)}) is not the best online (${bestOnline.name}, ${primary} ${off(bestOnline)}, play ${pct(bestOnline.playRate.mean)})`,
    );
  if (shelf === 'podcasts' && discovery.length === vs.length) {
    const served = bootstrapCorrelation(
      'spearman',
      vs.map((v) => v.offline[primary]?.mean ?? 0),
      vs.map((v) => v.playRate.mean),
      { resamples: VARIANT_RESAMPLES },
    );
    const fresh = bootstrapCorrelation(
      'spearman',
      vs.map((v) => v.offline[primary]?.mean ?? 0),
      discovery,
      { resamples: VARIANT_RESAMPLES },
    );
    const same = fresh.value === served.value;
    notes.push(
      `offline relevance counts only shows a user starts for the first time (shows played before are excluded), while serving does not exclude shows the user already follows and the simulated listener plays those as readily; applying the protocol's exclusions online too gives Spearman ${fmt(fresh)} against ${fmt(served)} as served: ${same ? 'the exclusion does not change how the variants are ordered' : 'the exclusion changes how the variants are ordered'}`,
    );
  }
  // Rank 1 = best; where a variant's online rank is clearly better than its offline rank, say why.
  const rank = (key: (v: VariantMeasurement) => number, v: VariantMeasurement): number => 1 + vs.filter((w) => key(w) > key(v)).length;
  const offRank = (v: VariantMeasurement): number => rank((w) => w.offline[primary]?.mean ?? 0, v);
  const onRank = (v: VariantMeasurement): number => rank((w) => w.playRate.mean, v);
  for (const v of vs.filter((w) => w.name.startsWith('popularity'))) {
    if (onRank(v) + 1 < offRank(v))
      notes.push(
        `${v.name} ranks ${onRank(v)} of ${vs.length} online but ${offRank(v)} offline (${primary} ${off(v)}, play ${pct(v.playRate.mean)}): the listener's play chance grows with item quality, which popularity tracks, while an offline hit needs the held-out session to contain that very item`,
      );
  }
  const sabotaged = vs.find((v) => v.name.endsWith('sabotaged'));
  const random = by('random');
  if (sabotaged && random) {
    const nearRandom = (sabotaged.offline[primary]?.mean ?? 0) < 2 * (random.offline[primary]?.mean ?? 0) + 0.01;
    notes.push(
      nearRandom
        ? `the sabotaged model (${primary} ${off(sabotaged)}, play ${pct(sabotaged.playRate.mean)}) sits with random (${off(random)}, ${pct(random.playRate.mean)}) both ways: offline and online agree it carries no signal`
        : `the sabotaged model (${primary} ${off(sabotaged)}, play ${pct(sabotaged.playRate.mean)}) stays far above random (${off(random)}, ${pct(random.playRate.mean)}) both ways: shuffled labels destroy the ordering of a user's own items, not the candidate set, which is already the user's familiar items`,
    );
  }
  if (shelf === 'shortcuts')
    notes.push(
      'Shortcuts relevance is what the user resumes in the next session; the simulated listener of lib/sim/respond.ts plays by taste and quality and does not model resuming (progress, new episodes, habitual hours), so online it cannot reward what the ranker learns from those signals: every variant that ranks the user’s own items lands within about a point of play rate of the others, and the offline order among them is not the online one',
    );
  return notes;
}
