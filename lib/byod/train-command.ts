/** The work of `shelves train` (lib/cli/train.ts holds only the option definitions). */
import { createHash } from 'node:crypto';
import { InputError } from '../core/errors.ts';
import { HybridRecommender } from '../core/models/hybrid/model.ts';
import { type HybridTrainingData, isColumns } from '../core/models/hybrid/problem.ts';
import type { FeatureRows, Recommender, TrainingData } from '../core/models/recommender.ts';
import { writeArtifactDir, writeArtifactPartsDir } from '../io/artifact-files.ts';
import type { TrainCommandOptions } from './options.ts';
import { count, interactionsOf, parseFeaturesCsv, type Warnings } from './formats.ts';
import { readInteractionsFile } from './interactions-csv.ts';
import { printWarnings, readText } from './read-input.ts';
import { writeSeenFile } from './seen-file.ts';

/** Version of the BYOD "transforms" (none: features are used as given). */
export const BYOD_TRANSFORM_VERSION = 'byod@1';

export async function runTrain(options: TrainCommandOptions): Promise<void> {
  const started = performance.now();
  // Each phase's wall time and this process's CPU time (all threads): on a shared machine wall time
  // includes waiting for a core, CPU time does not (it still grows when caches are contended).
  const phases: [string, number, number][] = [];
  let mark = started;
  let cpuMark = process.cpuUsage();
  const phase = (name: string): void => {
    const now = performance.now();
    const cpu = process.cpuUsage(cpuMark);
    phases.push([name, now - mark, (cpu.user + cpu.system) / 1000]);
    mark = now;
    cpuMark = process.cpuUsage();
  };
  // The file streams through the parser and the hash 1 MiB at a time (never whole in memory).
  const hash = createHash('sha256');
  const { columns, warnings, latest } = readInteractionsFile(options.interactions, (chunk) => hash.update(chunk));
  printWarnings(options.interactions, warnings);
  phase('read');

  const userFeatures = await readFeatures(options.userFeatures, 'user', () => new Set(columns.userIds), hash);
  const itemFeatures = await readFeatures(options.itemFeatures, 'item', () => new Set(columns.itemIds), hash);
  const data: HybridTrainingData = {
    interactions: columns,
    ...(userFeatures !== undefined ? { userFeatures } : {}),
    ...(itemFeatures !== undefined ? { itemFeatures } : {}),
    cutoff: latest,
    snapshot: `sha256:${hash.digest('hex').slice(0, 16)}`,
    transformVersion: BYOD_TRANSFORM_VERSION,
  };
  const hybrid = options.algo === 'hybrid-warp' || options.algo === 'hybrid-bpr';
  // EASE uses user features (as extra columns of its item-item regression), not item features.
  const ease = options.algo === 'ease';
  if (ease && itemFeatures !== undefined) process.stderr.write('warning: ease does not use item features; --item-features ignored\n');
  else if (!hybrid && !ease && (userFeatures !== undefined || itemFeatures !== undefined)) {
    process.stderr.write(`warning: ${options.algo} does not use features; --user-features/--item-features ignored\n`);
  }
  process.stderr.write(
    `training ${options.algo} on ${columns.user.length} interactions (${columns.userIds.length} users, ${columns.itemIds.length} items)\n`,
  );
  phase('features');

  const model = await fitChosen(options, data, phase);
  // No IVF index in the artifact: `shelves recommend` builds one when it scans a catalog that large
  // (serving's artifacts carry one, built by the pipeline); training does not pay for it.
  if (model instanceof HybridRecommender) {
    model.annMinItems = Number.POSITIVE_INFINITY;
    // The same bytes as model.save(), written from the model's arrays without packing a copy first.
    await writeArtifactPartsDir(options.out, model.artifactParts());
  } else await writeArtifactDir(options.out, model.save());
  phase('save');
  await writeSeenFile(options.out, columns, hybrid && userFeatures !== undefined ? userFeatures.keys() : []);
  phase('seen');
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`wrote ${options.algo} model (${model.knownItems().length} items) to ${options.out} in ${seconds}s\n`);
  process.stderr.write(
    `phases: ${phases.map(([name, ms, cpuMs]) => `${name} ${(ms / 1000).toFixed(2)}s (cpu ${(cpuMs / 1000).toFixed(2)})`).join(', ')}\n`,
  );
}

async function fitChosen(options: TrainCommandOptions, data: HybridTrainingData, phase: (name: string) => void): Promise<Recommender> {
  switch (options.algo) {
    case 'hybrid-warp':
    case 'hybrid-bpr': {
      const { trainHybrid } = await import('../train/train-hybrid.ts');
      // Early stopping's validation metric (HybridOptions.validationCutoff: the CLI keeps the default).
      const { VALIDATION_CUTOFF } = await import('../core/models/hybrid/fit.ts');
      return trainHybrid(data, {
        loss: options.algo === 'hybrid-warp' ? 'warp' : 'bpr',
        seed: options.seed,
        threads: options.threads,
        identityDropout: options.identityDropout ?? defaultIdentityDropout(data),
        ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
        ...(options.dim !== undefined ? { dim: options.dim } : {}),
        onPrepared: () => phase('prepare'),
        onProgress: (p) => {
          const metric =
            p.metric === undefined ? '' : ` validation ndcg@${VALIDATION_CUTOFF} ${p.metric.toFixed(4)} (best epoch ${p.bestEpoch})`;
          const rate = p.samplesPerSecond > 0 ? ` ${Math.round(p.samplesPerSecond / 1000)}k positives/s` : '';
          const refit = p.refit === true ? 'refit on all positives, ' : '';
          process.stderr.write(`${refit}epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}${metric}${rate}\n`);
          phase(`${refit === '' ? '' : 'refit '}epoch ${p.epoch}`);
        },
      });
    }
    // Imported when chosen: every module costs start-up time (tsx loads each one on demand).
    case 'ease': {
      const { fitEase } = await import('../core/models/ease/index.ts');
      return fitEase(withObjects(data), { lambda: options.lambda ?? 'auto' });
    }
    case 'popularity': {
      const { fitPopularity } = await import('../core/models/baselines/popularity.ts');
      return fitPopularity(withObjects(data));
    }
    case 'random': {
      const { fitRandom } = await import('../core/models/baselines/random.ts');
      return fitRandom(withObjects(data), { seed: options.seed });
    }
  }
}

/**
 * 0.2 when the item features name items without interactions (new items to rank beside trained
 * ones: dropout trains the feature embeddings to score alone), else 0: with no new item to rank,
 * dropout only takes identity signal away from warm items.
 */
function defaultIdentityDropout(data: HybridTrainingData): number {
  if (data.itemFeatures === undefined) return 0;
  const trained = new Set(isColumns(data.interactions) ? data.interactions.itemIds : data.interactions.map((x) => x.itemId));
  for (const id of data.itemFeatures.keys()) if (!trained.has(id)) return 0.2;
  return 0;
}

/** The data with one object per interaction, for models that take them. */
function withObjects(data: HybridTrainingData): TrainingData {
  const x = data.interactions;
  return { ...data, interactions: isColumns(x) ? interactionsOf(x) : x };
}

async function readFeatures(
  file: string | undefined,
  side: 'user' | 'item',
  knownIds: () => ReadonlySet<string>,
  hash: ReturnType<typeof createHash>,
): Promise<FeatureRows | undefined> {
  if (file === undefined) return undefined;
  const known = knownIds();
  const text = await readText(file);
  hash.update(text);
  const { rows, warnings } = parseFeaturesCsv(text, file, side);
  let matched = 0;
  for (const id of rows.keys()) if (known.has(id)) matched++;
  if (matched === 0) {
    throw new InputError(`no ${side}_id of this file appears in the interactions file (${rows.size} ids listed); is it the right file?`, {
      file,
      field: `${side}_id`,
    });
  }
  const extra: Warnings = new Map(warnings);
  if (rows.size > matched) count(extra, `${side}s without interactions (kept, scored from their features)`, rows.size - matched);
  printWarnings(file, extra);
  return rows;
}
