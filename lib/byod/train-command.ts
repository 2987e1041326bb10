/** The work of `shelves train` (lib/cli/train.ts holds only the option definitions). */
import { createHash } from 'node:crypto';
import { InputError } from '../core/errors.ts';
import type { FeatureRows, Recommender, TrainingData } from '../core/models/recommender.ts';
import { fitPopularity } from '../core/models/baselines/popularity.ts';
import { fitRandom } from '../core/models/baselines/random.ts';
import { fitEase } from '../core/models/ease/index.ts';
import { writeArtifactDir } from '../io/artifact-files.ts';
import type { TrainCommandOptions } from './options.ts';
import { count, parseFeaturesCsv, parseInteractionsCsv, type Warnings } from './formats.ts';
import { printWarnings, readText } from './read-input.ts';
import { writeSeenFile } from './seen-file.ts';

/** Version of the BYOD "transforms" (none: features are used as given). */
export const BYOD_TRANSFORM_VERSION = 'byod@1';

export async function runTrain(options: TrainCommandOptions): Promise<void> {
  const started = performance.now();
  const interactionsText = await readText(options.interactions);
  const { interactions, warnings } = parseInteractionsCsv(interactionsText, options.interactions);
  printWarnings(options.interactions, warnings);
  const hash = createHash('sha256').update(interactionsText);

  const userFeatures = await readFeatures(options.userFeatures, 'user', new Set(interactions.map((x) => x.userId)), hash);
  const itemFeatures = await readFeatures(options.itemFeatures, 'item', new Set(interactions.map((x) => x.itemId)), hash);
  let cutoff = -Infinity;
  for (const x of interactions) if (x.ts > cutoff) cutoff = x.ts;
  const data: TrainingData = {
    interactions,
    ...(userFeatures !== undefined ? { userFeatures } : {}),
    ...(itemFeatures !== undefined ? { itemFeatures } : {}),
    cutoff,
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
  const users = new Set(interactions.map((x) => x.userId)).size;
  const items = new Set(interactions.map((x) => x.itemId)).size;
  process.stderr.write(`training ${options.algo} on ${interactions.length} interactions (${users} users, ${items} items)\n`);

  const model = await fitChosen(options, data);
  await writeArtifactDir(options.out, model.save());
  await writeSeenFile(options.out, interactions, hybrid && userFeatures !== undefined ? userFeatures.keys() : []);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`wrote ${options.algo} model (${model.knownItems().length} items) to ${options.out} in ${seconds}s\n`);
}

async function fitChosen(options: TrainCommandOptions, data: TrainingData): Promise<Recommender> {
  switch (options.algo) {
    case 'hybrid-warp':
    case 'hybrid-bpr': {
      const { trainHybrid } = await import('../train/train-hybrid.ts');
      return trainHybrid(data, {
        loss: options.algo === 'hybrid-warp' ? 'warp' : 'bpr',
        seed: options.seed,
        threads: options.threads,
        identityDropout: options.identityDropout ?? (data.itemFeatures !== undefined && data.itemFeatures.size > 0 ? 0.2 : 0),
        ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
        ...(options.dim !== undefined ? { dim: options.dim } : {}),
        onProgress: (p) => {
          const metric = p.metric === undefined ? '' : ` ndcg@10 ${p.metric.toFixed(4)} (best epoch ${p.bestEpoch})`;
          const rate = p.samplesPerSecond > 0 ? ` ${Math.round(p.samplesPerSecond / 1000)}k positives/s` : '';
          process.stderr.write(`epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}${metric}${rate}\n`);
        },
      });
    }
    case 'ease': {
      return fitEase(data);
    }
    case 'popularity': {
      return fitPopularity(data);
    }
    case 'random': {
      return fitRandom(data, { seed: options.seed });
    }
  }
}

async function readFeatures(
  file: string | undefined,
  side: 'user' | 'item',
  known: ReadonlySet<string>,
  hash: ReturnType<typeof createHash>,
): Promise<FeatureRows | undefined> {
  if (file === undefined) return undefined;
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
