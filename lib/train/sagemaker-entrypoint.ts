/**
 * The training entrypoint of the SageMaker container (Dockerfile ENTRYPOINT), and of the local
 * training runner, which points SM_ROOT at a job folder instead of /opt/ml. Contract:
 *   /opt/ml/input/config/hyperparameters.json  string values: shelf, algo, seed, epochs, dim, threads,
 *                                              identityDropout, identityShare, optimizer, validationHoldout, coldItems,
 *                                              patience, validationTolerance, validationCutoff, maxSampled,
 *                                              shuffle; for algo ease:
 *                                              lambda, maxItems
 *   /opt/ml/input/data/train/                  the run's training channel (lib/pipeline/channel.ts)
 *   /opt/ml/model/                             the artifact (manifest.json + model.bin), tarred by SageMaker
 *   /opt/ml/output/failure                     the reason, when training fails
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ShelfSchema } from '../core/contract.ts';
import { buildShelfData } from '../core/transforms/protocol.ts';
import { shuffleInteractions, shuffleLabels } from '../core/negative-control.ts';
import { EASE_DEFAULTS, fitEase, type EaseOptions } from '../core/models/ease/index.ts';
import { VALIDATION_CUTOFF } from '../core/models/hybrid/index.ts';
import { fitShortcutsRanker } from '../core/models/shortcuts/model.ts';
import type { Recommender } from '../core/models/recommender.ts';
import { writeArtifactDir } from '../io/artifact-files.ts';
import { readShelfInput } from '../pipeline/shelf-input.ts';
import { trainHybrid } from './train-hybrid.ts';

const Int = z.coerce.number().int();
export const TrainingHyperparametersSchema = z.object({
  shelf: ShelfSchema,
  algo: z.enum(['hybrid-warp', 'hybrid-bpr', 'ease', 'shortcuts-ranker']),
  seed: Int.default(7),
  epochs: Int.positive().default(30),
  dim: Int.positive().default(64),
  threads: Int.positive().default(1),
  /** Hybrid only: identity dropout (see lib/core/models/hybrid/kernel.ts), 0..0.9. */
  identityDropout: z.coerce.number().min(0).max(0.9).default(0),
  /**
   * Hybrid only: the identity embedding's weight beside metadata features, a number in (0, 1] or
   * 'lightfm' (LightFM's 1 / (1 + features)); absent = the model's default (HybridOptions.identityShare).
   */
  identityShare: z.union([z.literal('lightfm'), z.coerce.number().gt(0).max(1)]).optional(),
  /**
   * Hybrid only: 'adagrad' (per-dimension accumulators), 'adagrad-rowwise' (one per feature row: less
   * memory traffic per step) or 'adam'; absent = the model's default (HybridOptions.optimizer).
   */
  optimizer: z.enum(['adagrad', 'adagrad-rowwise', 'adam']).optional(),
  /**
   * Hybrid only: which of a validation user's items early stopping holds out, 'recent' or 'random';
   * absent = the model's default (HybridOptions.validationHoldout).
   */
  validationHoldout: z.enum(['recent', 'random']).optional(),
  /**
   * Hybrid only: early stopping's patience (epochs), the relative tolerance of the epoch kept and k of
   * its validation NDCG@k; absent = the model's defaults (HybridOptions.patience,
   * HybridOptions.validationTolerance, HybridOptions.validationCutoff).
   */
  patience: Int.positive().optional(),
  validationTolerance: z.coerce.number().min(0).max(0.5).optional(),
  validationCutoff: Int.positive().max(1000).optional(),
  /** Hybrid WARP only: negatives drawn per positive at most; absent = the model's default (by catalog size, HybridOptions.maxSampled). */
  maxSampled: Int.positive().optional(),
  /** Hybrid only: how items known only by features are scored; absent = the model's default (HybridOptions.coldItems). */
  coldItems: z.enum(['least-squares', 'embeddings']).optional(),
  /**
   * EASE only (lib/core/models/ease/fit.ts): its L2 weight and most items kept; absent = the model's
   * defaults. Numbers here; their ranges are the model's own (an OptionError names a bad one).
   */
  lambda: z.coerce.number().optional(),
  maxItems: z.coerce.number().optional(),
  /**
   * Shortcuts ranker only: at most about this many decision points train it (users taken by a seeded
   * hash until reached; lib/core/transforms/protocol.ts), so its cost does not grow with the users.
   */
  maxDecisionPoints: Int.positive().optional(),
  /** Negative control: train on shuffled interactions (the gate must reject the result). */
  shuffle: z.enum(['true', 'false']).default('false'),
});
export type TrainingHyperparameters = z.infer<typeof TrainingHyperparametersSchema>;

const log = (message: string): void => {
  process.stdout.write(`${message}\n`);
};

/** Trains the model of one shelf from a training channel folder. */
export async function trainFromChannel(channelDir: string, hp: TrainingHyperparameters): Promise<Recommender> {
  const input = await readShelfInput(channelDir);
  log(
    `channel: ${input.events.length} events, ${input.catalog.length} items, ${input.users.length} users; cutoff ${new Date(input.meta.cutoff).toISOString()}`,
  );
  // Training needs no evaluation cases; the ranker's examples only for the ranker.
  const shelfData = buildShelfData(hp.shelf, input, {
    eval: false,
    examples:
      hp.algo === 'shortcuts-ranker'
        ? { seed: hp.seed, ...(hp.maxDecisionPoints !== undefined ? { maxDecisionPoints: hp.maxDecisionPoints } : {}) }
        : false,
  });
  if (hp.algo === 'shortcuts-ranker') {
    const examples = shelfData.shortcutExamples;
    if (examples === undefined) throw new Error('the shortcuts transforms produced no ranking examples');
    const sample = shelfData.exampleSample;
    log(
      `shortcuts ranker: ${examples.groups.length - 1} decision points, ${examples.labels.length} candidate rows` +
        (sample?.sampled
          ? ` (a sample: ${sample.usersVisited} of ${sample.populationUsers} users, at most ${sample.maxDecisionPoints} decision points, seed ${sample.seed})`
          : ''),
    );
    return fitShortcutsRanker(hp.shuffle === 'true' ? shuffleLabels(examples, hp.seed) : examples, {
      seed: hp.seed,
      ...(sample ? { sample } : {}),
      transformVersion: shelfData.train.transformVersion,
      snapshot: shelfData.train.snapshot,
      cutoff: shelfData.train.cutoff,
    });
  }
  // Item features of the items published before the cut-off only (the catalog as it was then).
  const base = shelfData.train;
  const data = hp.shuffle === 'true' ? shuffleInteractions(base, hp.seed) : base;
  if (hp.algo === 'ease') {
    // Closed form, no epochs: the hybrid's dim/epochs/threads/identityDropout do not apply. The
    // shelf's user features become EASE columns (new listeners are scored by them); item features
    // are not used (an item without interactions has no EASE column).
    const options: EaseOptions = {
      ...(hp.lambda !== undefined ? { lambda: hp.lambda } : {}),
      ...(hp.maxItems !== undefined ? { maxItems: hp.maxItems } : {}),
    };
    log(
      `ease: ${data.interactions.length} interactions, lambda ${options.lambda ?? EASE_DEFAULTS.lambda}, at most ${options.maxItems ?? EASE_DEFAULTS.maxItems} items`,
    );
    const model = fitEase(data, options);
    log(`ease: ${model.knownItems().length} items, ${model.state.featureNames.length} user feature columns`);
    return model;
  }
  log(`${hp.algo}: ${data.interactions.length} interactions, dim ${hp.dim}, up to ${hp.epochs} epochs, ${hp.threads} thread(s)`);
  return trainHybrid(data, {
    loss: hp.algo === 'hybrid-bpr' ? 'bpr' : 'warp',
    dim: hp.dim,
    epochs: hp.epochs,
    seed: hp.seed,
    threads: hp.threads,
    identityDropout: hp.identityDropout,
    ...(hp.identityShare !== undefined ? { identityShare: hp.identityShare } : {}),
    ...(hp.optimizer !== undefined ? { optimizer: hp.optimizer } : {}),
    ...(hp.validationHoldout !== undefined ? { validationHoldout: hp.validationHoldout } : {}),
    ...(hp.coldItems !== undefined ? { coldItems: hp.coldItems } : {}),
    ...(hp.patience !== undefined ? { patience: hp.patience } : {}),
    ...(hp.validationTolerance !== undefined ? { validationTolerance: hp.validationTolerance } : {}),
    ...(hp.validationCutoff !== undefined ? { validationCutoff: hp.validationCutoff } : {}),
    ...(hp.maxSampled !== undefined ? { maxSampled: hp.maxSampled } : {}),
    onProgress: (p) =>
      log(
        p.refit === true
          ? `refit on all positives, epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)} (${Math.round(p.samplesPerSecond)} samples/s)`
          : `epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)} val-ndcg@${hp.validationCutoff ?? VALIDATION_CUTOFF} ${(p.metric ?? Number.NaN).toFixed(4)} (best epoch ${p.bestEpoch}, ${Math.round(p.samplesPerSecond)} samples/s)`,
      ),
  });
}

async function main(): Promise<void> {
  const root = process.env.SM_ROOT ?? '/opt/ml';
  const failurePath = join(root, 'output', 'failure');
  try {
    const raw: unknown = JSON.parse(await readFile(join(root, 'input', 'config', 'hyperparameters.json'), 'utf8'));
    const hp = TrainingHyperparametersSchema.parse(raw);
    const model = await trainFromChannel(join(root, 'input', 'data', 'train'), hp);
    await writeArtifactDir(join(root, 'model'), model.save());
    log(`model written: kind ${model.kind}, ${model.knownItems().length} items`);
  } catch (error) {
    const reason =
      error instanceof z.ZodError
        ? `invalid hyperparameters: ${z.prettifyError(error)}`
        : error instanceof Error
          ? `${error.name}: ${error.message}`
          : String(error);
    await mkdir(join(root, 'output'), { recursive: true });
    await writeFile(failurePath, reason);
    process.stderr.write(`training failed: ${reason}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
