/**
 * `npm run bench -- scale`: issue 11's proof at a million listeners. Generates a world (default
 * 1,000,000 users x 14 days), runs the retraining pipeline for all three shelves on it exactly as
 * `shelves pipeline --shelf all --data DIR` does, then the serving bench; reports each shelf's steps
 * with wall time and peak RSS, and pass/fail against the targets (three shelves within 30 minutes,
 * no step above 6 GB).
 *
 * Each phase runs in its own child process, so that neither the bench's memory nor one phase's
 * garbage counts in another's figures; each child reports its own peak RSS (ru_maxrss) at exit.
 *
 * Environment: SCALE_USERS, SCALE_DAYS (world size), SCALE_WORLD (a world folder to reuse, or to
 * generate into), SCALE_HOME (the local runtime's home; default a fresh folder under /tmp, removed
 * unless SCALE_KEEP_HOME=1), SCALE_SHELVES (default all), SCALE_WINDOW_DAYS / SCALE_EVAL_SAMPLE_USERS
 * (execution input), SCALE_CUTOFF (one training cut-off for every shelf; default the middle day of a world shorter
 * than the longest test window plus a week), SCALE_SERVE=0 (skip the serving bench).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SHELF_CONFIG } from '../lib/core/shelf-settings.ts';
import type { ShelfRunResult } from '../lib/local/pipeline.ts';
import { stepPeakBytes } from '../lib/local/pipeline.ts';
import type { BenchFigures } from './run.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PEAK_RSS_PRELOAD = join(ROOT, 'lib', 'local', 'child-peak-rss.mjs');
const MB = 1e6;

/** Issue 11's targets. */
export const SCALE_TARGETS = {
  /** All three shelves' pipelines, end to end. */
  pipelineMs: 30 * 60_000,
  /** Peak RSS of any one step. */
  stepBytes: 6e9,
} as const;

export interface ScaleOptions {
  readonly users: number;
  readonly days: number;
  readonly world: string;
  readonly home?: string;
  readonly keepHome: boolean;
  readonly shelves: string;
  readonly windowDays?: number;
  readonly evalSampleUsers?: number;
  /** One training cut-off for every shelf (ISO); default each shelf's own (end of data minus its test window). */
  readonly cutoff?: string;
  readonly serve: boolean;
  /** Receives every line the children print, prefixed with their phase. */
  readonly log: (line: string) => void;
}

/** What a child process did: exit, wall time, its own peak RSS, the log's last lines. */
interface ChildRun {
  readonly code: number | null;
  readonly signal: string | null;
  readonly wallMs: number;
  readonly peakRssBytes: number;
  readonly tail: readonly string[];
}

function optionsFromEnv(): ScaleOptions {
  const users = Number(process.env.SCALE_USERS ?? 1_000_000);
  const days = Number(process.env.SCALE_DAYS ?? 14);
  const optional = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);
  const windowDays = optional('SCALE_WINDOW_DAYS');
  const evalSampleUsers = optional('SCALE_EVAL_SAMPLE_USERS');
  return {
    users,
    days,
    world: process.env.SCALE_WORLD ?? join('/tmp', 'scale-bench', `w${users}x${days}`),
    ...(process.env.SCALE_HOME ? { home: process.env.SCALE_HOME } : {}),
    keepHome: process.env.SCALE_KEEP_HOME === '1' || process.env.SCALE_HOME !== undefined,
    shelves: process.env.SCALE_SHELVES ?? 'all',
    ...(windowDays !== undefined ? { windowDays } : {}),
    ...(evalSampleUsers !== undefined ? { evalSampleUsers } : {}),
    ...(process.env.SCALE_CUTOFF ? { cutoff: process.env.SCALE_CUTOFF } : {}),
    serve: process.env.SCALE_SERVE !== '0',
    log: (line) => process.stderr.write(`${line}\n`),
  };
}

/** Runs `node <args>` from the repository root with our peak-RSS preload; its lines go to `log` and `logFile`. */
function runChild(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  prefix: string,
  log: (line: string) => void,
  logFile: string,
): Promise<ChildRun> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const file = createWriteStream(logFile);
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', PEAK_RSS_PRELOAD, ...args], {
      cwd: ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    let peakKib = 0;
    const closed = [child.stdout, child.stderr, child.stdio[3]].map(
      (stream, i) =>
        new Promise<void>((end) => {
          const lines = createInterface({ input: stream as Readable });
          lines.on('line', (line) => {
            if (i === 2) {
              peakKib = Math.max(peakKib, Number(/"maxRssKib":(\d+)/.exec(line)?.[1] ?? 0));
              return;
            }
            file.write(`${line}\n`);
            log(`${prefix}${line}`);
            tail.push(line);
            if (tail.length > 40) tail.shift();
          });
          lines.on('close', end);
        }),
    );
    child.once('error', fail);
    child.once('close', (code, signal) => {
      void Promise.all(closed).then(() => {
        file.end();
        done({ code, signal, wallMs: performance.now() - started, peakRssBytes: peakKib * 1024, tail });
      });
    });
  });
}

interface WorldManifest {
  readonly start: string;
  readonly end: string;
  readonly counts: { readonly users: number; readonly items: number; readonly events: number; readonly partitions: number };
}

/** The step a run was in when it stopped: the last `[shelf] Step ...` line without its `done`. */
export function unfinishedStep(lines: readonly string[]): string | undefined {
  const open = new Map<string, string>();
  for (const line of lines) {
    const started = /^\s*\[(\w+)\] (\w+) \.\.\.$/.exec(line);
    if (started) open.set(`${started[1]}/${started[2]}`, line);
    const finished = /^\s*\[(\w+)\] (\w+) (done|failed)/.exec(line);
    if (finished) open.delete(`${finished[1]}/${finished[2]}`);
  }
  return [...open.keys()].at(-1);
}

/** Runs the scale bench with the given options; the figures are flat (`shortcuts.Train.seconds`, ...). */
export async function runScaleBench(options: ScaleOptions): Promise<BenchFigures> {
  const figures: BenchFigures = {};
  const [load1] = loadavg();
  figures['load.start'] = Number((load1 ?? 0).toFixed(1));
  const home = options.home ?? (await mkdtemp(join('/tmp', 'scale-bench-home-')));
  mkdirSync(home, { recursive: true });
  const logs = join(home, 'scale-logs');
  mkdirSync(logs, { recursive: true });
  figures.home = home;
  figures.world = options.world;
  try {
    // 1. The world.
    const manifestFile = join(options.world, 'manifest.json');
    if (existsSync(manifestFile)) {
      figures['world.reused'] = true;
    } else {
      options.log(`scale: generating ${options.users} users x ${options.days} days into ${options.world}`);
      const world = await runChild(
        ['bin/shelves.ts', 'world', '--users', String(options.users), '--days', String(options.days), '--out', options.world],
        {},
        '  world| ',
        options.log,
        join(logs, 'world.log'),
      );
      figures['world.reused'] = false;
      figures['world.seconds'] = world.wallMs / 1000;
      figures['world.peakRssMB'] = Math.round(world.peakRssBytes / MB);
      if (world.code !== 0) {
        figures['world.failed'] = `exit ${world.signal ?? world.code}: ${world.tail.at(-1) ?? ''}`;
        figures.pass = false;
        return figures;
      }
    }
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as WorldManifest;
    figures['world.users'] = manifest.counts.users;
    figures['world.items'] = manifest.counts.items;
    figures['world.events'] = manifest.counts.events;
    figures['world.partitions'] = manifest.counts.partitions;
    if (typeof figures['world.seconds'] === 'number')
      figures['world.eventsPerSecond'] = Math.round(manifest.counts.events / figures['world.seconds']);

    // A world shorter than the longest test window plus a week of training (Playlists: 14 + 7 days) has
    // no training data for that shelf at the default cut-off (end minus the test window): every shelf
    // then cuts at the world's middle day (training before it, evaluation after), and the figures say so.
    const longestTest = Math.max(...Object.values(SHELF_CONFIG).map((c) => c.testDays));
    const worldDays = Math.round((Date.parse(manifest.end) - Date.parse(manifest.start)) / 86_400_000);
    const cutoff =
      options.cutoff ??
      (worldDays < longestTest + 7
        ? new Date(Date.parse(manifest.start) + Math.floor(worldDays / 2) * 86_400_000).toISOString()
        : undefined);
    if (cutoff !== undefined) figures['pipeline.cutoff'] = cutoff;

    // 2. The pipeline, as `shelves pipeline --shelf all --data DIR` runs it.
    const report = join(home, 'pipeline-report.json');
    const runId = `scale-${Date.now().toString(36)}`;
    options.log(`scale: pipeline (${options.shelves}) on ${options.world}, home ${home}, run ${runId}`);
    const pipeline = await runChild(
      [
        'bin/shelves.ts',
        'pipeline',
        '--shelf',
        options.shelves,
        '--data',
        options.world,
        '--run-id',
        runId,
        '--report',
        report,
        ...(options.windowDays !== undefined ? ['--window-days', String(options.windowDays)] : []),
        ...(options.evalSampleUsers !== undefined ? ['--eval-sample-users', String(options.evalSampleUsers)] : []),
        ...(cutoff !== undefined ? ['--cutoff', cutoff] : []),
      ],
      { SHELVES_HOME: home },
      '  pipeline| ',
      options.log,
      join(logs, 'pipeline.log'),
    );
    figures['pipeline.wallSeconds'] = pipeline.wallMs / 1000;
    figures['pipeline.processPeakRssMB'] = Math.round(pipeline.peakRssBytes / MB);
    figures['pipeline.exit'] = pipeline.signal ?? pipeline.code ?? 'unknown';
    const results = existsSync(report) ? (JSON.parse(await readFile(report, 'utf8')) as ShelfRunResult[]) : [];
    let shelvesMs = 0;
    let worst = { where: '', bytes: 0 };
    for (const result of results) {
      shelvesMs += result.totalMs;
      figures[`${result.shelf}.outcome`] = result.outcome;
      figures[`${result.shelf}.seconds`] = result.totalMs / 1000;
      if (result.error) figures[`${result.shelf}.error`] = `${result.error.Error}: ${result.error.message.slice(0, 300)}`;
      for (const [step, ms] of Object.entries(result.stepMs)) {
        figures[`${result.shelf}.${step}.seconds`] = ms / 1000;
        const memory = result.stepMemory[step];
        if (memory === undefined) continue;
        const peak = stepPeakBytes(memory);
        figures[`${result.shelf}.${step}.peakRssMB`] = Math.round(peak / MB);
        if (memory.jobPeakBytes === undefined) figures[`${result.shelf}.${step}.growthMB`] = Math.round(memory.growthBytes / MB);
        // A Parallel's own span covers its branches (in this process): the branches are the steps.
        if (peak > worst.bytes && !(step === 'TrainAll')) worst = { where: `${result.shelf}/${step}`, bytes: peak };
      }
    }
    const expected = options.shelves === 'all' ? 3 : options.shelves.split(',').length;
    const complete = results.length === expected && results.every((r) => r.status === 'SUCCEEDED');
    if (!complete) {
      const stopped = unfinishedStep(pipeline.tail);
      figures['pipeline.failed'] =
        results.length < expected
          ? `the pipeline process ended (${figures['pipeline.exit']}) with ${results.length} of ${expected} shelves done${stopped ? `, during ${stopped}` : ''}: ${pipeline.tail.find((l) => l.startsWith('error:')) ?? pipeline.tail.at(-1) ?? ''}`
          : results
              .filter((r) => r.status !== 'SUCCEEDED')
              .map((r) => `${r.shelf}: ${r.error?.Error ?? r.outcome}`)
              .join('; ');
    }
    figures['pipeline.shelvesSeconds'] = shelvesMs / 1000;
    figures['pipeline.uploadAndOtherSeconds'] = (pipeline.wallMs - shelvesMs) / 1000;
    figures['target.worstStep'] = worst.where === '' ? 'none' : `${worst.where} ${Math.round(worst.bytes / MB)} MB`;
    figures['target.shelvesWithin30Min'] = complete && shelvesMs <= SCALE_TARGETS.pipelineMs;
    figures['target.noStepAbove6GB'] = worst.bytes <= SCALE_TARGETS.stepBytes && pipeline.peakRssBytes > 0;

    // 3. The serving bench (bench/serve.bench.ts): one container with the world's catalog and its listeners in the user-state table.
    if (options.serve) {
      options.log('scale: serving bench');
      const listeners = manifest.counts.users > 30_000 ? `30000,${manifest.counts.users}` : String(manifest.counts.users);
      const catalogFile = join(options.world, 'catalog', 'catalog.jsonl');
      const serve = await runChild(
        ['bench/run.ts', 'serve'],
        {
          SHELVES_HOME: home,
          SERVE_BENCH_USERS: process.env.SERVE_BENCH_USERS ?? listeners,
          ...(existsSync(catalogFile) ? { SERVE_BENCH_CATALOG: catalogFile } : {}),
        },
        '  serve| ',
        options.log,
        join(logs, 'serve.log'),
      );
      figures['serve.exit'] = serve.signal ?? serve.code ?? 'unknown';
      figures['serve.processPeakRssMB'] = Math.round(serve.peakRssBytes / MB);
      const serveFile = join(home, 'bench', 'serve.json');
      if (existsSync(serveFile)) {
        const served = JSON.parse(await readFile(serveFile, 'utf8')) as { figures: BenchFigures };
        for (const [k, v] of Object.entries(served.figures)) figures[`serve.${k}`] = v;
      }
    }
    figures.pass = figures['target.shelvesWithin30Min'] === true && figures['target.noStepAbove6GB'] === true;
    options.log(stepTable(results));
    return figures;
  } finally {
    const [loadEnd] = loadavg();
    figures['load.end'] = Number((loadEnd ?? 0).toFixed(1));
    if (!options.keepHome) await rm(home, { recursive: true, force: true });
  }
}

/** One row per shelf and step: seconds and peak RSS, the training job's own marked `job`. */
export function stepTable(results: readonly ShelfRunResult[]): string {
  const lines = [
    `\n${'shelf'.padEnd(10)} ${'step'.padEnd(26)} ${'seconds'.padStart(9)} ${'peak RSS MB'.padStart(12)}  (+growth / process)`,
  ];
  for (const result of results) {
    for (const [step, ms] of Object.entries(result.stepMs)) {
      const memory = result.stepMemory[step];
      const peak = memory ? Math.round(stepPeakBytes(memory) / MB).toLocaleString('en-US') : '-';
      const note = memory === undefined ? '' : memory.jobPeakBytes !== undefined ? 'job' : `+${Math.round(memory.growthBytes / MB)}`;
      lines.push(`${result.shelf.padEnd(10)} ${step.padEnd(26)} ${(ms / 1000).toFixed(1).padStart(9)} ${peak.padStart(12)}  ${note}`);
    }
    lines.push(`${result.shelf.padEnd(10)} ${'(total)'.padEnd(26)} ${(result.totalMs / 1000).toFixed(1).padStart(9)}`);
  }
  return lines.join('\n');
}

export default function bench(): Promise<BenchFigures> {
  return runScaleBench(optionsFromEnv());
}
