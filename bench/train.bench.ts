/**
 * Hybrid model training throughput and large-artifact load time.
 *
 * - positives/s at dim 64, WARP and BPR, on 1 thread and on all threads (os.availableParallelism),
 *   on a synthetic 50k users × 20k items world with ~1M interactions (latent taste groups, skewed
 *   item popularity); measured on epoch 2 (epoch 1 warms the JIT up). Unprefixed figures are the
 *   default kernel's (`kernel` names the one that ran: wasm unless unavailable); `js.*` figures are
 *   the JS reference kernel's, for comparison (BENCH_TRAIN_KERNELS=wasm skips them).
 * - save time (including the IVF index the artifact carries), load time (read dir + loadHybrid) and
 *   the first recommend() (no index to build) of a 1M items × 64 model, and the time of one
 *   recommend() over 100k items at d=64.
 * Set BENCH_TRAIN_SCALE (0..1) to shrink the world for a quick check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHybrid } from '../lib/core/models/hybrid/index.ts';
import { HybridRecommender } from '../lib/core/models/hybrid/model.ts';
import type { Interaction, TrainingData } from '../lib/core/models/recommender.ts';
import { Rng } from '../lib/core/rng.ts';
import { readArtifactDir, writeArtifactDir } from '../lib/io/artifact-files.ts';
import { trainHybrid } from '../lib/train/train-hybrid.ts';

const DIM = 64;

export default async function bench(): Promise<Record<string, number | string | boolean>> {
  const scale = Number(process.env.BENCH_TRAIN_SCALE ?? '1');
  const data = syntheticWorld(Math.round(50_000 * scale), Math.round(20_000 * scale), Math.round(1_000_000 * scale), 11);
  const threads = availableParallelism();
  const figures: Record<string, number | string | boolean> = {
    users: Math.round(50_000 * scale),
    items: Math.round(20_000 * scale),
    interactions: data.interactions.length,
    threadsAvailable: threads,
  };
  const kernels = (process.env.BENCH_TRAIN_KERNELS ?? 'wasm,js').split(',');
  for (const kernel of ['wasm', 'js'] as const) {
    if (!kernels.includes(kernel)) continue;
    const prefix = kernel === 'wasm' ? '' : `${kernel}.`;
    for (const loss of ['warp', 'bpr'] as const) {
      for (const t of threads > 1 ? [1, threads] : [1]) {
        let rate = 0;
        const model = await trainHybrid(data, {
          loss,
          dim: DIM,
          epochs: 2,
          validationShare: 0,
          threads: t,
          seed: 1,
          kernel,
          onProgress: (p) => (rate = p.samplesPerSecond),
        });
        if (kernel === 'wasm' && figures.kernel === undefined) {
          model.annMinItems = Infinity; // the manifest is all we need: no IVF index for the artifact
          figures.kernel = String((model.save().manifest.extra as { training: { kernel: string } }).training.kernel);
        }
        figures[`${prefix}${loss}.positivesPerSecond.threads${t}`] = Math.round(rate);
      }
      if (threads > 1) {
        figures[`${prefix}${loss}.speedup.threads${threads}`] =
          (figures[`${prefix}${loss}.positivesPerSecond.threads${threads}`] as number) /
          (figures[`${prefix}${loss}.positivesPerSecond.threads1`] as number);
      }
    }
  }
  Object.assign(figures, await loadFigures(Math.round(1_000_000 * Math.max(scale, 0.1))));
  return figures;
}

/** Users belong to one of 20 taste groups; each group favours its own slice of a Zipf-ish catalog. */
function syntheticWorld(nUsers: number, nItems: number, nInteractions: number, seed: number): TrainingData {
  const rng = new Rng(seed);
  const groups = 20;
  const perGroup = Math.max(1, Math.floor(nItems / groups));
  const interactions: Interaction[] = new Array(nInteractions);
  for (let n = 0; n < nInteractions; n++) {
    const u = rng.int(nUsers);
    const g = u % groups;
    const local = Math.floor(perGroup * rng.next() ** 3);
    const item = rng.next() < 0.8 ? g * perGroup + local : rng.int(nItems);
    interactions[n] = { userId: `u${u}`, itemId: `i${item}`, ts: 1_700_000_000_000 + n, weight: 1 };
  }
  return { interactions, cutoff: 1_800_000_000_000, snapshot: 'bench', transformVersion: 'bench' };
}

async function loadFigures(nItems: number): Promise<Record<string, number>> {
  const rng = new Rng(5);
  const itemRep = new Float32Array(nItems * DIM);
  for (let x = 0; x < itemRep.length; x++) itemRep[x] = rng.next() - 0.5;
  const itemIds = Array.from({ length: nItems }, (_, i) => `item-${String(i).padStart(8, '0')}`);
  const model = new HybridRecommender({
    kind: 'hybrid-warp',
    dim: DIM,
    userIds: ['u0'],
    userRep: itemRep.slice(0, DIM),
    userFeatureNames: [],
    userFeatureEmb: new Float32Array(0),
    itemIds,
    itemRep,
    itemBias: new Float32Array(nItems),
    itemFromFeatures: new Uint8Array(nItems),
    itemFeatureNames: [],
    itemFeatureEmb: new Float32Array(0),
    itemFeatureBias: new Float32Array(0),
    info: { hyperparameters: {}, transformVersion: 'bench', dataSnapshot: 'bench', trainedAt: 0, seed: 0, training: {} },
  });
  const dir = mkdtempSync(join(tmpdir(), 'hybrid-bench-'));
  try {
    const ts = performance.now();
    const saved = model.save(); // builds the IVF index the artifact carries (k-means), as training does
    const saveMs = performance.now() - ts;
    await writeArtifactDir(dir, saved);
    const t0 = performance.now();
    const artifact = await readArtifactDir(dir);
    const t1 = performance.now();
    const loaded = loadHybrid(artifact);
    const t2 = performance.now();
    loaded.recommend({ userId: 'u0', now: 0 }, 10);
    const t3 = performance.now();
    const candidates = itemIds.slice(0, 100_000);
    loaded.recommend({ userId: 'u0', now: 0 }, 10, { candidates });
    let bestAll = Infinity;
    for (let r = 0; r < 3; r++) {
      const s = performance.now();
      loaded.recommend({ userId: 'u0', now: 0 }, 10);
      bestAll = Math.min(bestAll, performance.now() - s);
    }
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const s = performance.now();
      loaded.recommend({ userId: 'u0', now: 0 }, 10, { candidates });
      best = Math.min(best, performance.now() - s);
    }
    return {
      'load.items': nItems,
      'save.withIndexMs': saveMs,
      'load.readDirMs': t1 - t0,
      'load.loadHybridMs': t2 - t1,
      'load.firstRecommendAllItemsMs': t3 - t2,
      'score.recommendAllItemsMs': bestAll,
      'score.recommend100kCandidatesMs': best,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
