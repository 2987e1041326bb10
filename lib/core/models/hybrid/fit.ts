/**
 * Fitting the hybrid model: data preparation, the epoch loop with early stopping, and the final
 * representations. The epoch loop is split into steps (HybridSession) so the multi-threaded trainer
 * in lib/train runs the same preparation, validation and finishing code, and only farms out shards.
 *
 * Validation split (never test data): a seeded sample of users with at least 2 distinct items,
 * max(50, ceil(validationUserShare × eligible users)) of them (at most maxValidationUsers, at most all
 * eligible users), each holding out a seeded random max(1, round(validationShare × n)) of its items
 * (at most n - 1; or its most recent ones, validationHoldout 'recent'). After each epoch the model
 * is measured by NDCG@k (binary relevance, k = validationCutoff, default 50) on those users (training
 * items excluded); the parameters
 * of the last epoch within `validationTolerance` of the best are kept and training stops after
 * `patience` epochs without an improvement of at least `minImprovement`, but never before `minEpochs`
 * epochs have run (see HybridOptions). When the
 * held-out pairs are a material share of the data (small data: every user validates), the model is
 * then refit on all positives for the best epoch count (HybridOptions.refit). With validationShare 0
 * every epoch runs and the last parameters are kept.
 *
 * Positives: one per distinct (user, item) pair, weight = sum of the pair's interaction weights
 * divided by the mean over pairs, clipped to 10 (a heavy repeat listener must not blow up a step);
 * pairs whose summed weight is not positive are dropped.
 */
import { InputError } from '../../errors.ts';
import { Rng } from '../../rng.ts';
import { OptionChecker } from '../option-error.ts';
import { buildFeatureSpace, heapAlloc, type Alloc, type FeatureSpace } from './features.ts';
import {
  LOSS_BPR,
  LOSS_WARP,
  OPT_ADAGRAD,
  OPT_ADAGRAD_ROWWISE,
  OPT_ADAM,
  makeScratch,
  runShard,
  sumRows,
  type KernelConfig,
  type KernelData,
  type KernelParams,
  type ShardResult,
} from './kernel.ts';
import { HybridRecommender, type HybridKind } from './model.ts';
import {
  distinctPairs,
  type HybridTrainingData,
  interactionColumns,
  interactionCount,
  splitValidation,
  trainingArrays,
} from './problem.ts';
import { TopK } from './top-k.ts';
import { arenaBytes, WasmArena, WasmMemoryLimitError, WasmShardRunner, wasmKernelFits, wasmKernelSupported } from './wasm/runner.ts';
import { dotAt } from './dot.ts';
import { coldItemsOf } from './cold-items.ts';

export type HybridOptimizer = 'adagrad' | 'adagrad-rowwise' | 'adam';

/** Options of fitHybrid / trainHybrid; every field has a default. */
export interface HybridOptions {
  /** 'warp' (default) or 'bpr'. */
  readonly loss?: 'warp' | 'bpr';
  /**
   * 'adagrad' (an accumulator per embedding dimension, LightFM's form), 'adagrad-rowwise' (one
   * accumulator per feature row, as TorchRec / FBGEMM train large embedding tables: half the memory
   * each update touches) or 'adam'. Default: 'adagrad-rowwise' when the embedding tables reach
   * ROWWISE_MIN_TABLE_BYTES, else 'adagrad'. Why by size: the kernel waits on memory
   * once the tables outgrow the caches, and per-dimension accumulators double what each step reads and
   * writes (row-wise: kernel epoch -20% CPU at 1M rows, 70k rows × dim 64); below that the tables sit
   * in cache and per-dimension rates are free. Quality on validation data at the same learning rates
   * (`npm run bench -- tune-rowwise`): the shelves' windows and the generated tuning sets within seed
   * noise (mean +0.06%, -1.2% .. +1.1% over 12 cells); MovieLens 100k's inner split WARP with genres
   * 0.2343 -> 0.2263, BPR 0.2413 -> 0.2417, WARP without 0.2211 -> 0.2275, so small data keeps
   * per-dimension. On two Hogwild threads too, though 16 row-wise accumulators share a cache line
   * that both threads write: measured on an idle machine (1M positives, 50k × 20k, dim 64, WARP, 4
   * alternating pairs of trainHybrid with threads 2 on bench/train.bench.ts's world), epochs 2-3 ran at 1.37-1.58M
   * positives/s row-wise against 1.17-1.37M per-dimension (faster in 4 of 4 pairs), 5.1-5.5 against
   * 5.6-6.9 CPU seconds for 3 epochs, and validation NDCG@10 over 8 epochs was level (best 0.112 / 0.113
   * against 0.105 / 0.111; two threads are not deterministic).
   */
  readonly optimizer?: HybridOptimizer;
  /** Embedding size, 1..1024; default 64. */
  readonly dim?: number;
  /**
   * Maximum number of epochs; default 40 (the shelves' setting). Why not 20: with early stopping on
   * random held-out items WARP's best epoch on MovieLens 100k's inner split was 19 / 28 / 26 for seeds
   * 1-3, and the cap at 20 cost it 0.0019 NDCG@10 on average; BPR stopped by epoch 13 either way.
   */
  readonly epochs?: number;
  /**
   * Default 0.05 for WARP with Adagrad, 0.1 for BPR with Adagrad (chosen together with bprNegatives;
   * 0.07 on data without metadata features),
   * 0.005 for Adam; chosen by `npm run bench -- tune` on generated tuning data (never test data).
   */
  readonly learningRate?: number;
  /** L2 penalty on touched parameters, >= 0; default 1e-6. */
  readonly l2?: number;
  /** Seed of initialisation, shuffling, sampling and the validation split; default 1. */
  readonly seed?: number;
  /** Worker threads (trainHybrid only; 1 = deterministic single-threaded fit); default 1. */
  readonly threads?: number;
  /** Epochs without validation improvement before stopping; default PATIENCE. */
  readonly patience?: number;
  /**
   * Epochs that always run before early stopping may stop, >= 1; default MIN_EPOCHS (BPR with metadata
   * features: BPR_MIN_EPOCHS_WITH_FEATURES). The best epoch is
   * still kept, whichever it is. Why: at a low learning rate the model first learns popularity and
   * validation NDCG stays flat for a few epochs while it is still learning; patience alone stopped
   * such runs on that plateau (BPR at rate 0.05 without features: 0.35 on a tuning set).
   */
  readonly minEpochs?: number;
  /**
   * The least rise of validation NDCG@10 that counts as improvement for `patience`, >= 0; default 0
   * (ties count too). The best epoch's parameters are kept whatever the step. Why 0: with every
   * eligible user validating, noise no longer stops runs early, and 0.001 stopped WARP on the
   * public-like set while it was still rising (mean NDCG@10 0.528 -> 0.526, `npm run bench -- models`).
   */
  readonly minImprovement?: number;
  /**
   * Relative tolerance of the epoch kept, 0..0.5: the LAST epoch whose validation metric is within
   * this share of the best epoch's (its parameters, or its epoch count for the refit); default
   * VALIDATION_TOLERANCE for WARP, 0 for BPR (see VALIDATION_CUTOFF). 0 keeps the best epoch itself.
   */
  readonly validationTolerance?: number;
  /**
   * k of the validation metric, NDCG@k (binary relevance), 1..1000; default VALIDATION_CUTOFF. The
   * models are still judged by NDCG@10; k only sets how the epochs are compared (see VALIDATION_CUTOFF).
   */
  readonly validationCutoff?: number;
  /** Share of each validation user's items held out for early stopping, 0..0.5; default 0.1 (0: no validation). */
  readonly validationShare?: number;
  /**
   * Which of a validation user's items are held out: 'recent' (the most recent ones) or 'random' (a
   * seeded sample); default 'random'. Chosen by `npm run bench -- tune-validation` on validation data
   * only (the shelves' validation windows, the four generated tuning sets, MovieLens 100k's inner
   * split), with the refit: mean NDCG@10 over 3 seeds, recent+refit / random+refit, WARP: Podcasts
   * 0.2627 / 0.2671, Playlists 0.4699 / 0.4687, generated 0.4862 / 0.4875, MovieLens 0.2313 / 0.2392;
   * BPR: 0.2802 / 0.2805, 0.4758 / 0.4771, 0.4860 / 0.4935, 0.2415 / 0.2436. Why random wins even on
   * the shelves' temporal windows: a user's most recent items are the hardest to predict from the rest,
   * so validation on them peaks at early, popularity-like epochs (MovieLens: best epoch 4 of 20 for one
   * seed, whose model was 15% below the 20-epoch one on random held-out items).
   */
  readonly validationHoldout?: 'recent' | 'random';
  /**
   * After early stopping has chosen the best epoch, train again from the start on every positive (the
   * validation pairs included) for that many epochs, and keep that model: true, false, or 'auto'
   * (default): when the held-out pairs are at least REFIT_MIN_HELD_SHARE of the positives. Why: on
   * small data every user validates (the scoring budget allows it), so the split withholds a tenth of
   * what there is to learn from, which costs more accuracy than one more training run costs time; on
   * large data a few hundred users validate and the refit would not repay its time.
   */
  readonly refit?: boolean | 'auto';
  /**
   * Share of the eligible users (>= 2 items) that validate, 0..1; default 1: every one within the
   * scoring budget (maxValidationUsers), since a small validation set makes early stopping follow noise.
   */
  readonly validationUserShare?: number;
  /**
   * Cap on validation users; default: as many as keep the per-epoch check to
   * max(2M, positives) user-item scores, so it stays a small share of an epoch (one epoch costs
   * several scores per positive).
   */
  readonly maxValidationUsers?: number;
  /** WARP: maximum negatives drawn per positive; default by catalog size (see negativesFor). */
  readonly maxSampled?: number;
  /**
   * BPR: negatives drawn per positive, of which the highest-scoring is trained against (1 = the
   * classic uniform negative); default BPR_NEGATIVES, more on large catalogs (see negativesFor). Why:
   * a random negative is mostly one the model already ranks far below, so its gradient is near 0 and
   * BPR learns little per epoch.
   */
  readonly bprNegatives?: number;
  /**
   * Probability, per positive, of representing the positive item (and, by a second draw, its
   * negatives) by metadata features alone during training, 0..0.9; default 0 (see kernel.ts). Makes
   * items that have only features (published after training) score on the trained items' scale.
   */
  readonly identityDropout?: number;
  /**
   * The SGD kernel: 'wasm' (default; WebAssembly SIMD, wasm/kernel.wat) or 'js' (kernel.ts, the
   * readable reference). 'wasm' needs dim % 4 == 0 and training arrays within 4 GiB, and falls back to
   * 'js' otherwise.
   */
  readonly kernel?: 'wasm' | 'js';
  /**
   * Weight of an entity's identity embedding in its representation when it also has metadata
   * features, 0 < share <= 1 (the features share the rest), or 'lightfm': LightFM's normalisation,
   * 1 / (1 + number of unit features). Default: WARP_IDENTITY_SHARE for WARP, BPR_IDENTITY_SHARE for
   * BPR. See buildFeatureSpace.
   */
  readonly identityShare?: number | 'lightfm';
  /**
   * How items known only by metadata features are represented: 'least-squares' (default; a closed-form
   * fit of the interactions over item features and trained user vectors, see cold-items.ts) or
   * 'embeddings' (the trained feature embeddings summed, LightFM's way). The map ranks feature-only
   * items among themselves better (MovieLens 100k held-out items 0.152 -> 0.181 on the test split), but
   * beside trained items it places them lower: on the Podcasts shelf's test window, seed 7, new-item
   * recall@10 0.152 with 'embeddings' against 0.038 with the map (NDCG@10 0.2605 / 0.2609), so the
   * shelves set 'embeddings' (shelf-settings.ts).
   */
  readonly coldItems?: 'least-squares' | 'embeddings';
  /** Called after each epoch. */
  readonly onProgress?: (progress: HybridProgress) => void;
}

export interface HybridProgress {
  /** 1-based epoch number. */
  readonly epoch: number;
  readonly epochs: number;
  /** Mean loss per positive in this epoch. */
  readonly loss: number;
  /** Validation NDCG@k (k: HybridOptions.validationCutoff), or undefined without a validation split. */
  readonly metric: number | undefined;
  /** 1-based epoch whose parameters are kept so far. */
  readonly bestEpoch: number;
  /** True in the epochs of the refit on all positives (HybridOptions.refit). */
  readonly refit?: boolean;
  /** Positives processed in this epoch. */
  readonly samples: number;
}

interface Resolved {
  loss: 'warp' | 'bpr';
  optimizer: HybridOptimizer;
  dim: number;
  epochs: number;
  learningRate: number;
  l2: number;
  seed: number;
  threads: number;
  patience: number;
  minEpochs: number;
  minImprovement: number;
  validationTolerance: number;
  validationCutoff: number;
  validationShare: number;
  validationHoldout: 'recent' | 'random';
  refit: boolean | 'auto';
  validationUserShare: number;
  maxValidationUsers: number | undefined;
  maxSampled: number;
  bprNegatives: number;
  identityDropout: number;
  /** Absent under LightFM's normalisation (so the artifact's hyperparameters of a default WARP fit are unchanged). */
  identityShare?: number;
  /** Absent for the default 'least-squares' (so a default fit's hyperparameters are unchanged). */
  coldItems?: 'embeddings';
  kernel: 'wasm' | 'js';
}

const MAX_SAMPLE_WEIGHT = 10;
/** Fewer validation users than this make early stopping follow noise. */
const MIN_VALIDATION_USERS = 50;
/** User-item scores per validation check that are always affordable (about 0.1 s at dim 64). */
const VALIDATION_SCORES = 2_000_000;
/**
 * BPR's default negatives per positive (HybridOptions.bprNegatives). Chosen with BPR's learning rate
 * by `npm run bench -- tune` on four generated tuning sets (usual, sparse, flat and steep popularity;
 * never the models bench's set): mean NDCG@10 with 1 / 3 / 5 / 10 negatives at the best rate each
 * 0.446 / 0.475 / 0.485 / 0.467; 5 at rate 0.1 is best (10 is unstable on sparse data at 0.05).
 */
const BPR_NEGATIVES = 5;
/**
 * Default HybridOptions.minEpochs, chosen by `npm run bench -- tune-min-epochs` on the generated tuning
 * sets (never the models bench's set): mean NDCG@10 over both losses at their default and a low rate,
 * with and without genres, two seeds, for minimum 1 / 5 / 8 / 12: 0.449 / 0.454 / 0.459 / 0.465, worst
 * run 0.173 / 0.173 / 0.287 / 0.291 (BPR at 0.05 without genres stopped on the plateau). 12 costs BPR
 * at its default rate without genres 2% (a later, noisier best epoch), so 8: no default setting loses.
 */
const MIN_EPOCHS = 8;
/**
 * BPR's default learning rate (Adagrad) when neither side has metadata features (0.1 with them).
 * Why lower: 0.1 was chosen on tuning sets with genres, where an item's identity embedding has weight
 * 1/(1 + genres) in its representation, so its effective step is a fraction of the nominal one;
 * without features every step lands on the identity whole. Chosen by `npm run bench -- tune-bpr-rate`
 * on the generated tuning sets without genres (never the models bench's set): mean NDCG@10 at 0.05 /
 * 0.07 / 0.1: 0.4543 / 0.4615 / 0.4508 (WARP's default 0.4618).
 */
const BPR_RATE_WITHOUT_FEATURES = 0.07;
/**
 * BPR with metadata features: the identity's weight beside the features (HybridOptions.identityShare)
 * and the minimum epochs. Why: under LightFM's normalisation an entity with k unit features gives its
 * identity 1/(1 + k) (a Podcasts listener ~0.15, a show ~0.19), and BPR's steps (coefficient at most 1,
 * against WARP's rank weight ~ln(items)) then barely move the identities: features cost BPR on
 * Podcasts (0.2574 with, 0.2613 without). A share of 0.5 lets the identity learn; 15 epochs carry BPR
 * past its early plateau, where patience stopped 2 of 3 Playlists runs with the share. Chosen by
 * `npm run bench -- tune-bpr-features` on the shelves' validation windows and the generated tuning
 * sets (never test data), by a rule fixed before the runs: Podcasts 0.2516 -> 0.2788, Playlists
 * 0.4637 -> 0.4568, tuning sets 0.4833 -> 0.4857, held-out items 0.1965 -> 0.1966.
 */
const BPR_IDENTITY_SHARE = 0.5;
/**
 * WARP's identity share with metadata features. Why 0.7 and not LightFM's 1/(1 + features) any more:
 * with today's validation (random holdout, refit) it is as good or better on every validation set, warm
 * and held-out items alike (mean NDCG@10; MovieLens 3 seeds, generated sets 2 seeds each; measured on
 * 2026-12-02 with bench/_movielens.ts's inner split and bench/_public-like.ts's tuningSets, heldOutItems
 * at identity dropout 0.2): MovieLens 100k's inner split warm
 * 0.2343 -> 0.2392, held-out items 0.1398 -> 0.1417; the generated tuning sets warm 0.4877 -> 0.4919
 * (higher on all four), held-out 0.2041 -> 0.2047. The shelves keep LightFM's weights (shelf-settings.ts):
 * a share raised Podcasts' validation NDCG before, but its model was flagged as repetitive.
 */
const WARP_IDENTITY_SHARE = 0.7;
const BPR_MIN_EPOCHS_WITH_FEATURES = 15;

/** The identity share a fit uses: undefined is LightFM's normalisation. */
function identityShareOf(options: HybridOptions): number | undefined {
  const share = options.identityShare ?? ((options.loss ?? 'warp') === 'bpr' ? BPR_IDENTITY_SHARE : WARP_IDENTITY_SHARE);
  if (share === 'lightfm') return undefined;
  new OptionChecker('hybrid').number('identityShare', share, 0, 1, true);
  return share;
}

/**
 * Validation pairs, as a share of the positives, from which HybridOptions.refit 'auto' trains again on
 * all of them: 1% (every user validates on small data, 10% of each one's items; a 1M-row run holds out
 * a few hundred users' items, well under 1%).
 */
const REFIT_MIN_HELD_SHARE = 0.01;
/**
 * Default HybridOptions.patience and HybridOptions.validationTolerance, chosen together by
 * `npm run bench -- tune-validation` on validation data only (never a test split). Why: on small data
 * validation NDCG@10 has a long, flat, noisy top (MovieLens 100k inner split, WARP: within ±2% from
 * epoch 6 to 25), while accuracy on held-out data still rises to epochs 15-20. Patience 3 stopped
 * there on a noise peak (one seed kept epoch 6: 0.2252 where 18 epochs give 0.2393), and the best
 * epoch itself is the top of the noise. Patience 5, and keeping the LAST epoch within 1% of the best,
 * give (mean NDCG@10, 5 seeds; patience 3 exact best -> patience 5 within 1%): WARP MovieLens inner
 * 0.2420 -> 0.2440 (worst seed 0.2386 -> 0.2414), the same on a second inner split of my own
 * (scripts, 5 seeds) 0.2346 -> 0.2399 (worst 0.2252 -> 0.2348), the four generated tuning sets
 * 0.4919 -> 0.4943; BPR, which overfits after its peak, is level (MovieLens 0.2436 / 0.2436,
 * generated 0.4935 / 0.4931). Tolerances: 0.5% changed nothing, 2% no better than 1% (offline replay
 * of full validation curves against fixed-epoch fits, 5 seeds).
 */
const PATIENCE = 5;
const VALIDATION_TOLERANCE = 0.01;
/**
 * Default HybridOptions.validationCutoff: epochs are compared by validation NDCG@50, not @10 (the models
 * are still judged by NDCG@10). Why: validation holds out a tenth of each user's items, one or two on
 * small data, so few of them land in a top 10, and NDCG@10 swings between neighbouring epochs by more
 * than training changes it. On MovieLens latest-small (9,066 films, 671 users) a noise peak stopped
 * runs at epoch 6 where the fixed-epoch fits rise to epochs 25-40. A deeper cut-off counts more of the
 * held-out items and moves less. With it BPR keeps its best epoch itself (tolerance 0): BPR overfits
 * steeply after its peak, and on the smoother curve 1% reaches into the decline (generated sets
 * 0.4935 -> 0.4909); WARP, flat after its peak, keeps the last epoch within 1%.
 *
 * Chosen on validation data only (`npm run bench -- tune-validation`, and an offline replay of
 * 40-epoch validation curves against fixed-epoch fits for k 10 / 20 / 50 / 100, recall@50 and MRR):
 * mean NDCG@10, NDCG@10 (tolerance as before) -> NDCG@50 (WARP 1%, BPR 0):
 *
 * | set                                         | WARP            | BPR             |
 * | MovieLens latest-small inner, 3 seeds (bench) | 0.1472 -> 0.1524 | 0.1588 -> 0.1637 |
 * | MovieLens latest-small inner, 5 seeds (same fits, scratch) | 0.1449 -> 0.1534 | 0.1554 -> 0.1625 |
 * | same, worst seed                            | 0.1319 -> 0.1469 | 0.1382 -> 0.1577 |
 * | four generated sets, 2 seeds (bench)        | 0.4943 -> 0.4939 | 0.4931 -> 0.4933 |
 * | four generated sets, 3 seeds (replay)       | 0.4936 -> 0.4933 | 0.4931 -> 0.4935 |
 *
 * k 20 did not help WARP on latest-small (0.1448); k 100 and recall@50 were level with 50. MovieLens
 * 100k was not on the machine that chose this (session 8): its figures in the README predate it.
 */
export const VALIDATION_CUTOFF = 50;
/**
 * Marks the options refitOptions makes: a session prepared with them reports its epochs as the
 * refit's. A symbol key survives object spread (trainHybrid adds its own onProgress).
 */
const REFIT = Symbol('refit');
type RefitOptions = HybridOptions & { readonly [REFIT]?: true };

/** Fits a hybrid model on one thread. Same data and seed give the same artifact bytes. */
export function fitHybrid(data: HybridTrainingData, options: HybridOptions = {}): HybridRecommender {
  const run = (session: HybridSession): HybridSession => {
    for (let epoch = 0; epoch < session.epochs; epoch++) {
      session.shuffle(epoch);
      const result = session.runShard(epoch, 0, 0, session.positives);
      if (session.endEpoch(epoch, [result])) break;
    }
    return session;
  };
  const first = run(HybridSession.prepare(data, options));
  const refit = first.refitOptions(options);
  return refit === undefined ? first.finish() : run(HybridSession.prepare(data, refit)).finish(first.validationSummary());
}

/** What the validation run of a refit found (recorded in the refit model's training info). */
export interface ValidationSummary {
  readonly epochsRun: number;
  readonly bestEpoch: number;
  readonly validationValue: number | null;
  readonly validationUsers: number;
  readonly heldPositives: number;
}

/** One training run, step by step: prepare, then per epoch shuffle → shards → endEpoch, then finish. */
export class HybridSession {
  /**
   * The kernel's data; its positives (posUser, posItem, posWeight) are the current epoch's, in the
   * epoch's shuffled order (see shuffle), and seenItem is the positives' items in (user, item) order.
   */
  readonly kernelData: KernelData;
  readonly params: KernelParams;
  /** The order the kernel walks kernelData's positives in: 0, 1, 2, ... after shuffle (they are shuffled already). */
  readonly order: Int32Array;
  readonly positives: number;
  readonly epochs: number;
  readonly options: Resolved;
  private readonly users: FeatureSpace;
  private readonly items: FeatureSpace;
  private readonly validation: { user: number; held: Int32Array }[];
  /** Validation pairs held out of training. */
  private readonly heldPositives: number;
  /** This run is the refit of a validation run (its epochs are reported as such). */
  private readonly refitting: boolean;
  private readonly onProgress: ((p: HybridProgress) => void) | undefined;
  private readonly data: HybridTrainingData;
  /** The training positives in (user, item) order, from which each epoch's shuffled copy is gathered. */
  private readonly byUser: Pick<KernelData, 'posUser' | 'posItem' | 'posWeight'>;
  private best: { epoch: number; metric: number; userEmb: Float32Array; itemEmb: Float32Array; itemBias: Float32Array } | undefined;
  private epochsRun = 0;
  /** The last epoch that improved the validation metric by at least minImprovement, and that metric. */
  private progress: { epoch: number; metric: number } | undefined;
  private lastMetric: number | undefined;
  /** The highest validation metric so far (the kept epoch may be a later one within validationTolerance of it). */
  private top: number | undefined;
  private readonly scratch;
  private validationBuffers:
    | { rep: Float32Array; bias: Float32Array; users: Float64Array; vectors: Float64Array[]; scores: Float64Array; mask: Uint8Array }
    | undefined;
  /** The wasm kernel's memory, when the wasm kernel runs (every array of the run lives in it). */
  readonly arena: WasmArena | undefined;
  private runner: WasmShardRunner | undefined;

  private constructor(init: {
    data: HybridTrainingData;
    options: Resolved;
    onProgress: ((p: HybridProgress) => void) | undefined;
    users: FeatureSpace;
    items: FeatureSpace;
    kernelData: KernelData;
    byUser: Pick<KernelData, 'posUser' | 'posItem' | 'posWeight'>;
    params: KernelParams;
    order: Int32Array;
    validation: { user: number; held: Int32Array }[];
    heldPositives: number;
    refitting: boolean;
    arena: WasmArena | undefined;
  }) {
    this.arena = init.arena;
    this.data = init.data;
    this.options = init.options;
    this.onProgress = init.onProgress;
    this.users = init.users;
    this.items = init.items;
    this.kernelData = init.kernelData;
    this.byUser = init.byUser;
    this.params = init.params;
    this.order = init.order;
    this.validation = init.validation;
    this.heldPositives = init.heldPositives;
    this.refitting = init.refitting;
    this.positives = init.order.length;
    this.epochs = init.options.epochs;
    this.scratch = makeScratch(init.options.dim);
  }

  /**
   * Validates options, builds feature matrices, splits validation, initialises parameters. With the
   * wasm kernel every array goes into its (shared) memory and `alloc` is not used; otherwise arrays
   * come from `alloc` (sharedAlloc for worker threads). `newArena` makes the wasm memory (tests pass
   * a small one to reach the fallback).
   */
  static prepare(
    data: HybridTrainingData,
    options: HybridOptions = {},
    sharedOrHeap: Alloc = heapAlloc,
    newArena: () => WasmArena = () => new WasmArena(),
  ): HybridSession {
    const o = resolve(options);
    if (o.kernel === 'wasm' && wasmKernelFits(o.dim) && wasmKernelSupported()) {
      try {
        return HybridSession.build(data, options, sharedOrHeap, newArena());
      } catch (error) {
        // Over one wasm memory's 4 GiB: the JS kernel, on ordinary arrays, has no such limit.
        if (!(error instanceof WasmMemoryLimitError)) throw error;
      }
    }
    return HybridSession.build(data, options, sharedOrHeap, undefined);
  }

  /** Builds a session: feature spaces, the training problem, parameters (see problem.ts for the steps). */
  private static build(data: HybridTrainingData, options: HybridOptions, sharedOrHeap: Alloc, arena: WasmArena | undefined): HybridSession {
    const alloc = arena?.alloc ?? sharedOrHeap;
    if (interactionCount(data.interactions) === 0) throw new InputError('no interactions to train on');
    const columns = interactionColumns(data.interactions);
    const share = identityShareOf(options);
    const users = buildFeatureSpace(columns.userIds, data.userFeatures, alloc, share);
    const items = buildFeatureSpace(columns.itemIds, data.itemFeatures, alloc, share);
    const o = resolve(options, {
      withFeatures: users.metaNames.length + items.metaNames.length > 0,
      tableRows: users.nIdentity + users.metaNames.length + items.nIdentity + items.metaNames.length,
      items: items.ids.length,
      positives: columns.user.length,
    });
    // With the wasm kernel, the parameters' place in its memory is reserved now and lent to the
    // pairs' temporaries until the parameters are initialised there (after trainingArrays, the pairs'
    // last reader): those pages are faulted once instead of twice (20 MB at 1M rows). At least the
    // pairs' size (20 bytes a row): row-wise Adagrad's parameters (half of per-dim's) are smaller.
    const paramRegion = arena?.region(Math.max(arenaBytes(paramLengths(users, items, o)), 20 * columns.user.length));
    const pairs = distinctPairs(columns, users.inputRows, items.inputRows, users.ids.length, items.ids.length, paramRegion);
    const rng = new Rng(o.seed);
    const split = splitValidation(
      pairs,
      o.validationShare,
      (eligible) => validationUsers(o, eligible, pairs.item.length, items.ids.length),
      new Rng(o.validationShare > 0 ? rng.nextUint32() : 0),
      o.validationHoldout,
    );
    const train = trainingArrays(pairs, split.heldPair, MAX_SAMPLE_WEIGHT, alloc);
    const n = train.posItem.length;
    // The epoch's positives, gathered in shuffled order by shuffle(): until then, in (user, item) order.
    const epochPositives = {
      posUser: alloc<Int32Array>('int32', n),
      posItem: alloc<Int32Array>('int32', n),
      posWeight: alloc<Float32Array>('float32', n),
    };
    epochPositives.posUser.set(train.posUser);
    epochPositives.posItem.set(train.posItem);
    epochPositives.posWeight.set(train.posWeight);
    const order = alloc<Int32Array>('int32', n);
    for (let p = 0; p < n; p++) order[p] = p;
    const kernelData: KernelData = {
      dim: o.dim,
      nItems: items.ids.length,
      userPtr: users.matrix.ptr,
      userFeat: users.matrix.feat,
      userWeight: users.matrix.weight,
      itemPtr: items.matrix.ptr,
      itemFeat: items.matrix.feat,
      itemWeight: items.matrix.weight,
      ...train,
      ...epochPositives,
      ...metadataRows(items, alloc),
    };
    return new HybridSession({
      data,
      options: o,
      onProgress: options.onProgress,
      users,
      items,
      kernelData,
      byUser: train,
      params: initialParams(users, items, o, rng, paramRegion?.alloc ?? alloc),
      order,
      validation: split.users,
      heldPositives: split.users.reduce((n, v) => n + v.held.length, 0),
      refitting: (options as RefitOptions)[REFIT] === true,
      arena,
    });
  }

  /**
   * Shuffles the positives for this epoch: a seeded permutation, by which the kernel's positives are
   * gathered from their (user, item) order; `order` is then 0, 1, 2, ... Why gather here rather than
   * let the kernel read positive order[o]: those three reads per step (user, item, weight) land at
   * random in 12 MB per million positives and wait on memory in the kernel's dependent chain (the
   * next positive's rows are touched only once its user and item are known); here they are one
   * tight loop of independent loads, and the kernel reads its positives in sequence. The same
   * positives in the same order: the same steps, the same model bytes.
   */
  shuffle(epoch: number): void {
    const order = this.order;
    for (let p = 0; p < order.length; p++) order[p] = p;
    const rng = new Rng(mix(this.options.seed, epoch, 0x5eed));
    for (let p = order.length - 1; p > 0; p--) {
      const q = rng.int(p + 1);
      const t = order[p] as number;
      order[p] = order[q] as number;
      order[q] = t;
    }
    const { posUser, posItem, posWeight } = this.kernelData;
    const from = this.byUser;
    for (let o = 0; o < order.length; o++) {
      const p = order[o] as number;
      posUser[o] = from.posUser[p] as number;
      posItem[o] = from.posItem[p] as number;
      posWeight[o] = from.posWeight[p] as number;
      order[o] = o;
    }
  }

  /** The kernel settings of one shard (shard = worker number, start = first position in `order`). */
  kernelConfig(epoch: number, start: number): KernelConfig {
    const o = this.options;
    return {
      loss: o.loss === 'warp' ? LOSS_WARP : LOSS_BPR,
      optimizer: o.optimizer === 'adam' ? OPT_ADAM : o.optimizer === 'adagrad-rowwise' ? OPT_ADAGRAD_ROWWISE : OPT_ADAGRAD,
      learningRate: o.learningRate,
      l2: o.l2,
      maxSampled: this.negativeDraws,
      identityDropout: o.identityDropout,
      stepOffset: epoch * this.positives + start,
    };
  }

  /** Negatives the kernel draws per positive at most: maxSampled (WARP) or bprNegatives (BPR). */
  get negativeDraws(): number {
    return this.options.loss === 'warp' ? this.options.maxSampled : this.options.bprNegatives;
  }

  /** Seed of the sampling generator of one shard of one epoch. */
  shardSeed(epoch: number, shard: number): number {
    return mix(this.options.seed, epoch, shard + 1);
  }

  /** The kernel that runs: 'wasm' unless unavailable, asked otherwise, or dim is not a multiple of 4. */
  get kernel(): 'wasm' | 'js' {
    return this.arena === undefined ? 'js' : 'wasm';
  }

  /** Runs one shard in this thread. */
  runShard(epoch: number, shard: number, start: number, end: number): ShardResult {
    const rng = new Rng(this.shardSeed(epoch, shard));
    const config = this.kernelConfig(epoch, start);
    if (this.arena !== undefined) {
      this.runner ??= new WasmShardRunner(this.arena.memory, this.arena.slot(this.options.dim, this.negativeDraws));
      return this.runner.runShard(this.kernelData, this.params, config, this.order, start, end, rng);
    }
    return runShard(this.kernelData, this.params, config, this.order, start, end, rng, this.scratch);
  }

  /** Records an epoch: validation, best-parameter snapshot, progress. Returns true to stop early. */
  endEpoch(epoch: number, shards: readonly ShardResult[]): boolean {
    let loss = 0;
    let samples = 0;
    for (const s of shards) {
      loss += s.loss;
      samples += s.samples;
    }
    this.epochsRun = epoch + 1;
    const metric = this.validation.length > 0 ? this.validationNdcg() : undefined;
    this.lastMetric = metric;
    // Ties count as improvement: on equal validation the later (longer trained) epoch wins, and a
    // saturated metric (tiny catalogs) does not stop training early.
    if (metric !== undefined && (this.top === undefined || metric > this.top)) this.top = metric;
    if (metric !== undefined && metric >= (this.top as number) * (1 - this.options.validationTolerance)) {
      if (epoch + 1 === this.epochs) {
        // The last epoch is the best: its parameters are the live ones, which no later epoch changes, so
        // no copy (18 MB at 1M positives, fresh memory the first time: tens of milliseconds).
        const { userEmb, itemEmb, itemBias } = this.params;
        this.best = { epoch, metric, userEmb, itemEmb, itemBias };
      } else {
        const snap = this.best ?? {
          epoch,
          metric,
          userEmb: new Float32Array(this.params.userEmb.length),
          itemEmb: new Float32Array(this.params.itemEmb.length),
          itemBias: new Float32Array(this.params.itemBias.length),
        };
        snap.epoch = epoch;
        snap.metric = metric;
        snap.userEmb.set(this.params.userEmb);
        snap.itemEmb.set(this.params.itemEmb);
        snap.itemBias.set(this.params.itemBias);
        this.best = snap;
      }
    }
    const bestEpoch = this.best?.epoch ?? epoch;
    this.onProgress?.({
      epoch: epoch + 1,
      epochs: this.epochs,
      loss: samples > 0 ? loss / samples : 0,
      metric,
      bestEpoch: bestEpoch + 1,
      samples,
      ...(this.refitting ? { refit: true } : {}),
    });
    if (metric === undefined) return false;
    // Patience counts epochs since the last improvement of at least minImprovement over the metric of
    // the previous such epoch: drifting up by noise-sized steps does not keep a run going forever.
    if (this.progress === undefined || metric >= this.progress.metric + this.options.minImprovement) this.progress = { epoch, metric };
    return epoch + 1 >= this.options.minEpochs && epoch - this.progress.epoch >= this.options.patience;
  }

  /**
   * The options of the refit on all positives (HybridOptions.refit), given the options this run was
   * prepared with, or undefined when no refit is due: no validation, or 'auto' and the validation pairs
   * under REFIT_MIN_HELD_SHARE of the positives.
   */
  refitOptions(options: HybridOptions): HybridOptions | undefined {
    const { refit } = this.options;
    if (this.best === undefined || refit === false) return undefined;
    if (refit === 'auto' && this.heldPositives < REFIT_MIN_HELD_SHARE * this.positives) return undefined;
    const refitting: RefitOptions = { ...options, epochs: this.best.epoch + 1, validationShare: 0, refit: false, [REFIT]: true };
    return refitting;
  }

  /** This run's validation figures, for the training info of its refit. */
  validationSummary(): ValidationSummary {
    return {
      epochsRun: this.epochsRun,
      bestEpoch: this.best !== undefined ? this.best.epoch + 1 : this.epochsRun,
      validationValue: this.best?.metric ?? this.lastMetric ?? null,
      validationUsers: this.validation.length,
      heldPositives: this.heldPositives,
    };
  }

  /**
   * Builds the recommender from the best (or last) parameters. `validated`: this run is the refit of
   * a validation run, whose figures the training info records (with refitEpochs: this run's epochs).
   */
  finish(validated?: ValidationSummary): HybridRecommender {
    const o = this.options;
    const d = o.dim;
    const userEmb = this.best?.userEmb ?? this.params.userEmb;
    const itemEmb = this.best?.itemEmb ?? this.params.itemEmb;
    const itemBiasF = this.best?.itemBias ?? this.params.itemBias;
    const { users, items } = this;
    const userRep = new Float32Array(users.ids.length * d);
    for (let u = 0; u < users.ids.length; u++)
      sumRows(users.matrix.ptr, users.matrix.feat, users.matrix.weight, userEmb, u, d, userRep, u * d);
    const itemRep = new Float32Array(items.ids.length * d);
    const itemBias = new Float32Array(items.ids.length);
    const itemFromFeatures = new Uint8Array(items.ids.length);
    const { ptr, feat, weight } = items.matrix;
    for (let i = 0; i < items.ids.length; i++) {
      sumRows(ptr, feat, weight, itemEmb, i, d, itemRep, i * d);
      let b = 0;
      for (let p = ptr[i] as number; p < (ptr[i + 1] as number); p++) b += (weight[p] as number) * (itemBiasF[feat[p] as number] as number);
      itemBias[i] = b;
      itemFromFeatures[i] = (items.identity[i] as number) < 0 ? 1 : 0;
    }
    // Feature-only items from a least-squares map of the warm items' interactions (cold-items.ts).
    const cold =
      o.coldItems === 'embeddings'
        ? undefined
        : coldItemsOf({
            ...this.byUser,
            items,
            itemFeatures: this.data.itemFeatures,
            userRep,
            nUsers: users.ids.length,
            itemRep,
            itemBias,
            itemFromFeatures,
            featureEmb: itemEmb.subarray(items.nIdentity * d),
            featureBias: itemBiasF.subarray(items.nIdentity),
            dim: d,
          });
    const kind: HybridKind = o.loss === 'warp' ? 'hybrid-warp' : 'hybrid-bpr';
    // A refit records its validation run's figures; any other run its own.
    const validation = validated ?? this.validationSummary();
    return new HybridRecommender({
      kind,
      dim: d,
      userIds: users.ids,
      userRep,
      userFeatureNames: users.metaNames,
      userFeatureEmb: userEmb.slice(users.nIdentity * d),
      itemIds: items.ids,
      itemRep,
      itemBias,
      itemFromFeatures,
      itemFeatureNames: items.metaNames,
      itemFeatureEmb: itemEmb.slice(items.nIdentity * d),
      itemFeatureBias: itemBiasF.slice(items.nIdentity),
      ...(cold !== undefined ? { coldItems: cold } : {}),
      info: {
        hyperparameters: { ...o },
        transformVersion: this.data.transformVersion,
        dataSnapshot: this.data.snapshot,
        trainedAt: this.data.cutoff,
        seed: o.seed,
        training: {
          epochsRun: validation.epochsRun,
          bestEpoch: validation.bestEpoch,
          validationMetric: `ndcg@${o.validationCutoff}`,
          validationValue: validation.validationValue,
          validationUsers: validation.validationUsers,
          ...(validated !== undefined ? { refitEpochs: this.epochsRun } : {}),
          trainPositives: this.positives,
          kernel: this.kernel,
        },
      },
    });
  }

  /** Mean NDCG@k (binary relevance; k: validationCutoff) over the validation users, training items excluded. */
  private validationNdcg(): number {
    const d = this.options.dim;
    const cutoff = this.options.validationCutoff;
    const { itemPtr, itemFeat, itemWeight, userPtr, userFeat, userWeight, seenPtr, seenItem, nItems } = this.kernelData;
    const { itemEmb, itemBias, userEmb } = this.params;
    // The item vectors and score rows are reused from epoch to epoch: fresh megabytes cost page
    // faults (about 2-5 ms a MB on this VM) and garbage collection every epoch.
    const block = d % 4 === 0 ? 4 : 1;
    // With the wasm kernel, four users' scores come from its score_four (the same sums in the same
    // order, two lanes at a time): its arrays live in the kernel's memory.
    const arena = this.arena;
    const f64 = (length: number): Float64Array => {
      if (arena === undefined) return new Float64Array(length);
      const a = arena.alloc<Float32Array>('float32', 2 * length);
      return new Float64Array(a.buffer, a.byteOffset, length);
    };
    const f32 = (length: number): Float32Array =>
      arena === undefined ? new Float32Array(length) : arena.alloc<Float32Array>('float32', length);
    if (this.validationBuffers === undefined) {
      const users = f64(block * d);
      this.validationBuffers = {
        rep: f32(nItems * d),
        bias: f32(nItems),
        users,
        vectors: Array.from({ length: block }, (_, j) => users.subarray(j * d, (j + 1) * d)),
        scores: f64(block * nItems),
        mask: new Uint8Array(nItems),
      };
    }
    const { rep, bias, users: userBlock, vectors, scores, mask } = this.validationBuffers;
    if (arena !== undefined && block === 4) this.runner ??= new WasmShardRunner(arena.memory, arena.slot(d, this.negativeDraws));
    const runner = block === 4 ? this.runner : undefined;
    for (let i = 0; i < nItems; i++) {
      sumRows(itemPtr, itemFeat, itemWeight, itemEmb, i, d, rep, i * d);
      let b = 0;
      for (let p = itemPtr[i] as number; p < (itemPtr[i + 1] as number); p++)
        b += (itemWeight[p] as number) * (itemBias[itemFeat[p] as number] as number);
      bias[i] = b;
    }
    // Most of a validation check is scoring every item for every validation user: four users share
    // each pass over the item vectors (scoreFour), each with dotAt's four partial sums in dotAt's
    // order, so scores, rankings and the metric are the same bits as one dotAt per user and item.
    const users = this.validation;
    let total = 0;
    for (let b = 0; b < users.length; b += block) {
      const k = Math.min(block, users.length - b);
      for (let j = 0; j < k; j++)
        sumRows(userPtr, userFeat, userWeight, userEmb, (users[b + j] as { user: number }).user, d, vectors[j] as Float64Array);
      if (k === 4 && runner !== undefined) runner.scoreFour(userBlock, rep, bias, d, nItems, scores);
      else if (k === 4) scoreFour(vectors as [Float64Array, Float64Array, Float64Array, Float64Array], rep, bias, d, nItems, scores);
      else
        for (let j = 0; j < k; j++)
          for (let i = 0; i < nItems; i++) scores[j * nItems + i] = (bias[i] as number) + dotAt(vectors[j] as Float64Array, rep, i * d, d);
      for (let j = 0; j < k; j++) {
        const { user: u, held } = users[b + j] as { user: number; held: Int32Array };
        for (let p = seenPtr[u] as number; p < (seenPtr[u + 1] as number); p++) mask[seenItem[p] as number] = 1;
        const heap = new TopK(cutoff);
        for (let i = 0; i < nItems; i++) {
          if (mask[i] === 1) continue;
          const s = scores[j * nItems + i] as number;
          if (s >= heap.threshold()) heap.push(s, i);
        }
        for (let p = seenPtr[u] as number; p < (seenPtr[u + 1] as number); p++) mask[seenItem[p] as number] = 0;
        let dcg = 0;
        heap.drain().forEach(({ item }, rank) => {
          if (held.includes(item)) dcg += 1 / Math.log2(rank + 2);
        });
        let ideal = 0;
        for (let r = 0; r < Math.min(cutoff, held.length); r++) ideal += 1 / Math.log2(r + 2);
        total += dcg / ideal;
      }
    }
    return total / this.validation.length;
  }
}

/**
 * scores[j × nItems + i] = bias[i] + users[j] · rep[i] for four users in one pass over the item
 * vectors (d a multiple of 4): per user the four partial sums of dotAt, added in dotAt's order.
 */
function scoreFour(
  users: [Float64Array, Float64Array, Float64Array, Float64Array],
  rep: Float32Array,
  bias: Float32Array,
  d: number,
  nItems: number,
  scores: Float64Array,
): void {
  const [u0, u1, u2, u3] = users;
  for (let i = 0; i < nItems; i++) {
    const base = i * d;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let b0 = 0;
    let b1 = 0;
    let b2 = 0;
    let b3 = 0;
    let c0 = 0;
    let c1 = 0;
    let c2 = 0;
    let c3 = 0;
    let e0 = 0;
    let e1 = 0;
    let e2 = 0;
    let e3 = 0;
    for (let q = 0; q < d; q += 4) {
      const r0 = rep[base + q] as number;
      const r1 = rep[base + q + 1] as number;
      const r2 = rep[base + q + 2] as number;
      const r3 = rep[base + q + 3] as number;
      a0 += (u0[q] as number) * r0;
      a1 += (u0[q + 1] as number) * r1;
      a2 += (u0[q + 2] as number) * r2;
      a3 += (u0[q + 3] as number) * r3;
      b0 += (u1[q] as number) * r0;
      b1 += (u1[q + 1] as number) * r1;
      b2 += (u1[q + 2] as number) * r2;
      b3 += (u1[q + 3] as number) * r3;
      c0 += (u2[q] as number) * r0;
      c1 += (u2[q + 1] as number) * r1;
      c2 += (u2[q + 2] as number) * r2;
      c3 += (u2[q + 3] as number) * r3;
      e0 += (u3[q] as number) * r0;
      e1 += (u3[q + 1] as number) * r1;
      e2 += (u3[q + 2] as number) * r2;
      e3 += (u3[q + 3] as number) * r3;
    }
    const b = bias[i] as number;
    scores[i] = b + (a0 + a1 + a2 + a3);
    scores[nItems + i] = b + (b0 + b1 + b2 + b3);
    scores[2 * nItems + i] = b + (c0 + c1 + c2 + c3);
    scores[3 * nItems + i] = b + (e0 + e1 + e2 + e3);
  }
}

/** The default learning rate of these options (see HybridOptions.learningRate); benches scale it. */
export function defaultLearningRate(options: Pick<HybridOptions, 'loss' | 'optimizer'>, withFeatures: boolean): number {
  return options.optimizer === 'adam' ? 0.005 : options.loss === 'bpr' ? (withFeatures ? 0.1 : BPR_RATE_WITHOUT_FEATURES) : 0.05;
}

/** Embedding-table size from which fits default to row-wise Adagrad (see HybridOptions.optimizer). */
const ROWWISE_MIN_TABLE_BYTES = 8 << 20;

/**
 * Default negatives per positive for a catalog of `items` items and `positives` training rows: WARP's
 * maxSampled round(items / 170), BPR's bprNegatives round(items / 900), each at least its tuned value
 * (10, BPR_NEGATIVES) and at most 100 / 20 and what the tuned values draw at BUDGET_ROWS rows.
 * Why by catalog size: WARP estimates a positive's rank as (items - 1) / draws, so M draws tell ranks
 * apart only down to items / M: 10 draws (LightFM's default) resolve the top 10% of MovieLens 100k's
 * 1,682 films but only the top 900 of 9,066, and the loss stops pushing positives up long before the
 * top 10. BPR trains against the hardest of K uniform negatives, a 1/(K+1) quantile of the catalog,
 * which is as far from the top. Both keep their tuned values up to ~1,700 items, so MovieLens 100k and
 * the generated tuning sets train as before. Why the budget: draws are most of an epoch's cost once
 * the model ranks well; at 1M rows and 20k items, 100 draws took `shelves train` (3 epochs) from 4.9 s
 * to 8.9-10.1 s (`npm run bench -- byod-train`), past its 6 s target, so large data keeps 10 / 5.
 * Chosen on validation data only (mean NDCG@10, inner splits, 3 seeds, 2 on generated sets; the
 * latest-small rows: `MOVIELENS_SMALL=... npm run bench -- tune-validation` variants warp / warp.ms10
 * and bpr / bpr.neg5; the 8,000-item sets are publicLike with items 8000, seeds 301 and 302 (perUser 40)):
 *
 * | set (items)                          | WARP M 10 -> 50 / 100 | BPR K 5 -> 10 |
 * | MovieLens latest-small inner (9,066)  | 0.1524 -> 0.1706 / 0.1726; the default's 53: 0.1654 (each of 3 seeds up) | 0.1637 -> 0.1719 |
 * | two generated sets of 8,000 items     | 0.3869 -> 0.4019       | 0.4030 -> 0.4077 |
 * | four generated sets of 1,682 items    | 0.4939 -> 0.4976 (30: 0.4983) | 0.4933 -> 0.4768 |
 *
 * At 1,682 items more WARP draws gained 0.8% on the generated sets, but on MovieLens 100k's inner split
 * (session 7) 15-50 draws were mixed: kept at 10 there. BPR's extra negatives lose at that size.
 */
export function negativesFor(items: number, positives = 0): { maxSampled: number; bprNegatives: number } {
  const pick = (byCatalog: number, least: number, most: number): number =>
    Math.max(least, Math.min(most, Math.round(byCatalog), Math.floor((least * BUDGET_ROWS) / Math.max(1, positives))));
  return { maxSampled: pick(items / 170, 10, 100), bprNegatives: pick(items / 900, BPR_NEGATIVES, 20) };
}
/** negativesFor's budget: an epoch draws at most what the tuned values (10, 5) draw at this many rows. */
const BUDGET_ROWS = 1_000_000;

/**
 * The options with their defaults, given what the data says once it is read (before, none of it
 * matters): `withFeatures`, the data has metadata features (BPR's default rate depends on it, see
 * BPR_RATE_WITHOUT_FEATURES); `tableRows`, the feature rows of both embedding tables, users' and
 * items' (the optimizer's default depends on it); `items` and `positives`, the catalog and the
 * training rows (the negatives' defaults depend on them, see negativesFor).
 */

interface DataShape {
  readonly withFeatures: boolean;
  readonly tableRows: number;
  readonly items: number;
  readonly positives: number;
}

function resolve(
  options: HybridOptions,
  { withFeatures, tableRows, items, positives }: DataShape = { withFeatures: true, tableRows: 0, items: 0, positives: 0 },
): Resolved {
  const negatives = negativesFor(items, positives);
  const big = tableRows * (options.dim ?? 64) * 4 >= ROWWISE_MIN_TABLE_BYTES;
  const optimizer = options.optimizer ?? (big ? 'adagrad-rowwise' : 'adagrad');
  const share = identityShareOf(options);
  const r: Resolved = {
    loss: options.loss ?? 'warp',
    optimizer,
    dim: options.dim ?? 64,
    epochs: options.epochs ?? 40,
    learningRate: options.learningRate ?? defaultLearningRate(options, withFeatures),
    l2: options.l2 ?? 1e-6,
    seed: options.seed ?? 1,
    threads: options.threads ?? 1,
    patience: options.patience ?? PATIENCE,
    minEpochs: options.minEpochs ?? (options.loss === 'bpr' && withFeatures ? BPR_MIN_EPOCHS_WITH_FEATURES : MIN_EPOCHS),
    minImprovement: options.minImprovement ?? 0,
    validationTolerance: options.validationTolerance ?? (options.loss === 'bpr' ? 0 : VALIDATION_TOLERANCE),
    validationCutoff: options.validationCutoff ?? VALIDATION_CUTOFF,
    validationShare: options.validationShare ?? 0.1,
    validationHoldout: options.validationHoldout ?? 'random',
    refit: options.refit ?? 'auto',
    validationUserShare: options.validationUserShare ?? 1,
    maxValidationUsers: options.maxValidationUsers,
    maxSampled: options.maxSampled ?? negatives.maxSampled,
    bprNegatives: options.bprNegatives ?? negatives.bprNegatives,
    identityDropout: options.identityDropout ?? 0,
    kernel: options.kernel ?? 'wasm',
    ...(share !== undefined ? { identityShare: share } : {}),
    ...(options.coldItems === 'embeddings' ? { coldItems: 'embeddings' as const } : {}),
  };
  const c = new OptionChecker('hybrid');
  c.oneOf('loss', r.loss, ['warp', 'bpr']);
  c.oneOf('optimizer', r.optimizer, ['adagrad', 'adagrad-rowwise', 'adam']);
  c.int('dim', r.dim, 1, 1024);
  c.int('epochs', r.epochs, 1);
  c.number('learningRate', r.learningRate, 0, Number.POSITIVE_INFINITY, true);
  c.number('l2', r.l2, 0);
  c.int('seed', r.seed, Number.MIN_SAFE_INTEGER);
  c.int('threads', r.threads, 1);
  c.int('patience', r.patience, 1);
  c.int('minEpochs', r.minEpochs, 1);
  c.number('minImprovement', r.minImprovement, 0, 1);
  c.number('validationTolerance', r.validationTolerance, 0, 0.5);
  c.int('validationCutoff', r.validationCutoff, 1, 1000);
  c.number('validationShare', r.validationShare, 0, 0.5);
  c.oneOf('validationHoldout', r.validationHoldout, ['recent', 'random']);
  if (typeof r.refit !== 'boolean') c.oneOf('refit', r.refit, ['auto']);
  c.number('validationUserShare', r.validationUserShare, 0, 1, true);
  if (r.maxValidationUsers !== undefined) c.int('maxValidationUsers', r.maxValidationUsers, 1);
  c.int('maxSampled', r.maxSampled, 1);
  c.int('bprNegatives', r.bprNegatives, 1, 100);
  c.oneOf('kernel', r.kernel, ['wasm', 'js']);
  c.number('identityDropout', r.identityDropout, 0, 0.9);
  if (options.coldItems !== undefined) c.oneOf('coldItems', options.coldItems, ['least-squares', 'embeddings']);
  return r;
}

/**
 * How many validation users: max(MIN_VALIDATION_USERS, share × eligible), at most maxValidationUsers
 * (default: the scoring budget, see HybridOptions.maxValidationUsers).
 */
function validationUsers(o: Resolved, eligible: number, positives: number, nItems: number): number {
  const cap =
    o.maxValidationUsers ?? Math.max(MIN_VALIDATION_USERS, Math.floor(Math.max(VALIDATION_SCORES, positives) / Math.max(1, nItems)));
  return Math.min(cap, Math.max(MIN_VALIDATION_USERS, Math.ceil(o.validationUserShare * eligible)));
}

/** The lengths of initialParams' arrays (in its order of allocation). */
function paramLengths(users: FeatureSpace, items: FeatureSpace, o: Resolved): number[] {
  const d = o.dim;
  const nUserFeatures = users.nIdentity + users.metaNames.length;
  const nItemFeatures = items.nIdentity + items.metaNames.length;
  const moments = o.optimizer === 'adam' ? 1 : 0;
  const accWidth = o.optimizer === 'adagrad-rowwise' ? 1 : d;
  return [
    nUserFeatures * d,
    nItemFeatures * d,
    nUserFeatures * accWidth,
    moments * nUserFeatures * d,
    nItemFeatures * accWidth,
    moments * nItemFeatures * d,
    nItemFeatures,
    nItemFeatures,
    moments * nItemFeatures,
  ];
}

/** Initial parameters: embeddings uniform in ±0.5 / dim (seeded), biases 0, Adagrad accumulators 1. */
function initialParams(users: FeatureSpace, items: FeatureSpace, o: Resolved, rng: Rng, alloc: Alloc): KernelParams {
  const d = o.dim;
  const nUserFeatures = users.nIdentity + users.metaNames.length;
  const nItemFeatures = items.nIdentity + items.metaNames.length;
  const init = (length: number): Float32Array => {
    const a = alloc<Float32Array>('float32', length);
    for (let x = 0; x < length; x++) a[x] = (rng.next() - 0.5) / d;
    return a;
  };
  const adam = o.optimizer === 'adam';
  const acc = (length: number): Float32Array => {
    const a = alloc<Float32Array>('float32', length);
    if (!adam) a.fill(1);
    return a;
  };
  const mom = (length: number): Float32Array => alloc<Float32Array>('float32', adam ? length : 0);
  // Row-wise Adagrad: one accumulator per feature row (paramLengths sizes the arena the same way).
  const accWidth = o.optimizer === 'adagrad-rowwise' ? 1 : d;
  const userEmb = init(nUserFeatures * d);
  const itemEmb = init(nItemFeatures * d);
  return {
    userEmb,
    userAcc: acc(nUserFeatures * accWidth),
    userMom: mom(nUserFeatures * d),
    itemEmb,
    itemAcc: acc(nItemFeatures * accWidth),
    itemMom: mom(nItemFeatures * d),
    itemBias: alloc<Float32Array>('float32', nItemFeatures),
    itemBiasAcc: acc(nItemFeatures),
    itemBiasMom: mom(nItemFeatures),
  };
}

/**
 * Each item's row without its identity feature, weights renormalised to absolute sum 1 (what an item
 * known only from its metadata looks like); rows with nothing left keep their full row.
 */
function metadataRows(items: FeatureSpace, alloc: Alloc): Pick<KernelData, 'itemColdPtr' | 'itemColdFeat' | 'itemColdWeight'> {
  const { ptr, feat, weight } = items.matrix;
  const n = items.ids.length;
  const coldPtr = alloc<Int32Array>('int32', n + 1);
  const feats: number[] = [];
  const weights: number[] = [];
  for (let r = 0; r < n; r++) {
    const start = ptr[r] as number;
    const end = ptr[r + 1] as number;
    let total = 0;
    for (let p = start; p < end; p++) if ((feat[p] as number) >= items.nIdentity) total += Math.abs(weight[p] as number);
    for (let p = start; p < end; p++) {
      const f = feat[p] as number;
      if (total === 0) {
        feats.push(f);
        weights.push(weight[p] as number);
      } else if (f >= items.nIdentity) {
        feats.push(f);
        weights.push((weight[p] as number) / total);
      }
    }
    coldPtr[r + 1] = feats.length;
  }
  const coldFeat = alloc<Int32Array>('int32', feats.length);
  coldFeat.set(feats);
  const coldWeight = alloc<Float32Array>('float32', weights.length);
  coldWeight.set(weights);
  return { itemColdPtr: coldPtr, itemColdFeat: coldFeat, itemColdWeight: coldWeight };
}

function mix(seed: number, epoch: number, salt: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (epoch + 1) ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ salt ^ (h >>> 16), 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}
