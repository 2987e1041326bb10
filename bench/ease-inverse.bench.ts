/**
 * EASE's matrix inverse (lib/core/models/ease/inverse.ts): the JS kernel and the WebAssembly SIMD
 * kernel side by side on the Gram matrix G = XᵀX + λI of a seeded random sparse 0/1 X (users × n,
 * about 30 items a user, λ = 100), at 1,000, 2,000 and 3,000 columns: PAIRS alternating pairs
 * (JS, wasm, JS, wasm, ...) per size, every time reported, and the largest difference between the
 * two inverses relative to the largest entry (0 when they agree to the bit).
 *
 * Then fitEase with lambda 'auto' (the validation split solved for 4 λ, then the final fit) on a generated
 * data set of FIT_ITEMS items (users of about ITEMS_PER_USER items drawn with a Zipf-like popularity),
 * kernel 'js' then 'wasm', FIT_PAIRS pairs; the two models must be the same (weights to 1e-9, same λ).
 * Each pair also times one wasm fit with the fixed λ that 'auto' chose (the price of 'auto' is the
 * ratio: the validation split is prepared once and solved for the 4 λ, plus the final fit).
 *
 * `npm run bench -- ease-inverse` (EASE_INVERSE_SIZES=1000,2000, EASE_INVERSE_PAIRS=2 and
 * EASE_INVERSE_FIT_PAIRS=0 to shorten).
 */
import { fitEase } from '../lib/core/models/ease/index.ts';
import { invertSpdInPlace } from '../lib/core/models/ease/inverse.ts';
import type { Interaction, TrainingData } from '../lib/core/models/recommender.ts';
import { Rng } from '../lib/core/rng.ts';

const SIZES = (process.env.EASE_INVERSE_SIZES ?? '1000,2000,3000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const PAIRS = Number(process.env.EASE_INVERSE_PAIRS ?? 3);
const FIT_PAIRS = Number(process.env.EASE_INVERSE_FIT_PAIRS ?? 1);
const FIT_ITEMS = 3000;
const FIT_USERS = 20_000;
const ITEMS_PER_USER = 30;
const LAMBDA = 100;

/** FIT_USERS users, each with 1..2·ITEMS_PER_USER items drawn with probability ∝ 1/(rank + 10). */
export function fitData(): TrainingData {
  const rng = new Rng(7);
  const cumulative = new Float64Array(FIT_ITEMS);
  let total = 0;
  for (let i = 0; i < FIT_ITEMS; i++) cumulative[i] = total += 1 / (i + 10);
  const interactions: Interaction[] = [];
  for (let u = 0; u < FIT_USERS; u++) {
    const count = 1 + rng.int(2 * ITEMS_PER_USER);
    for (let k = 0; k < count; k++) {
      const x = rng.next() * total;
      let lo = 0;
      let hi = FIT_ITEMS - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cumulative[mid] as number) < x) lo = mid + 1;
        else hi = mid;
      }
      interactions.push({ userId: `u${u}`, itemId: `i${lo}`, ts: k, weight: 1 });
    }
  }
  return { interactions, cutoff: 1000, snapshot: 'ease-inverse-bench', transformVersion: 'bench' };
}

/** Upper triangle of XᵀX + λI for a random X with 5n users of about ITEMS_PER_USER items each. */
export function randomGram(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const g = new Float64Array(n * n);
  const row: number[] = [];
  for (let u = 0; u < 5 * n; u++) {
    row.length = 0;
    const p = ITEMS_PER_USER / n;
    for (let j = 0; j < n; j++) if (rng.next() < p) row.push(j);
    for (let x = 0; x < row.length; x++)
      for (let y = x; y < row.length; y++) {
        const at = (row[x] as number) * n + (row[y] as number);
        g[at] = (g[at] as number) + 1;
      }
  }
  for (let i = 0; i < n; i++) g[i * n + i] = (g[i * n + i] as number) + LAMBDA;
  return g;
}

function seconds(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export default async function bench(): Promise<Record<string, number | string>> {
  const figures: Record<string, number | string> = { pairs: PAIRS };
  for (const n of SIZES) {
    const g = randomGram(n, n);
    const js: number[] = [];
    const wasm: number[] = [];
    let jsInverse = new Float64Array(0);
    let wasmInverse = new Float64Array(0);
    for (let pair = 0; pair < PAIRS; pair++) {
      jsInverse = g.slice();
      js.push(seconds(() => invertSpdInPlace(jsInverse, n, { kernel: 'js' })));
      wasmInverse = g.slice();
      wasm.push(seconds(() => invertSpdInPlace(wasmInverse, n, { kernel: 'wasm' })));
      process.stdout.write(`  n=${n} pair ${pair + 1}: js ${js.at(-1)?.toFixed(3)} s, wasm ${wasm.at(-1)?.toFixed(3)} s\n`);
    }
    let largest = 0;
    let diff = 0;
    for (let x = 0; x < n * n; x++) {
      largest = Math.max(largest, Math.abs(jsInverse[x] as number));
      diff = Math.max(diff, Math.abs((jsInverse[x] as number) - (wasmInverse[x] as number)));
    }
    const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;
    figures[`n${n}.js.seconds`] = js.map((s) => s.toFixed(3)).join(' ');
    figures[`n${n}.wasm.seconds`] = wasm.map((s) => s.toFixed(3)).join(' ');
    figures[`n${n}.js.medianSeconds`] = Number(median(js).toFixed(3));
    figures[`n${n}.wasm.medianSeconds`] = Number(median(wasm).toFixed(3));
    figures[`n${n}.speedup`] = Number((median(js) / median(wasm)).toFixed(2));
    figures[`n${n}.maxDifferenceRelative`] = diff / largest;
  }
  if (FIT_PAIRS > 0) {
    const data = fitData();
    const js: number[] = [];
    const wasm: number[] = [];
    const fixed: number[] = [];
    let models: ReturnType<typeof fitEase>[] = [];
    for (let pair = 0; pair < FIT_PAIRS; pair++) {
      models = [];
      for (const [kernel, times] of [
        ['js', js],
        ['wasm', wasm],
      ] as const)
        times.push(seconds(() => models.push(fitEase(data, { lambda: 'auto', kernel }))));
      const lambda = models[1]?.state.hyperparameters.lambda as number;
      fixed.push(seconds(() => fitEase(data, { lambda })));
      process.stdout.write(
        `  fitEase lambda 'auto' pair ${pair + 1}: js ${js.at(-1)?.toFixed(2)} s, wasm ${wasm.at(-1)?.toFixed(2)} s; fixed λ ${lambda} wasm ${fixed.at(-1)?.toFixed(2)} s\n`,
      );
    }
    const [a, b] = models as [ReturnType<typeof fitEase>, ReturnType<typeof fitEase>];
    let largest = 0;
    let diff = 0;
    for (let x = 0; x < a.state.weights.length; x++) {
      largest = Math.max(largest, Math.abs(a.state.weights[x] as number));
      diff = Math.max(diff, Math.abs((a.state.weights[x] as number) - (b.state.weights[x] as number)));
    }
    figures['fitAuto.items'] = a.state.itemIds.length;
    figures['fitAuto.lambda'] = `${a.state.hyperparameters.lambda} (js), ${b.state.hyperparameters.lambda} (wasm)`;
    figures['fitAuto.js.seconds'] = js.map((s) => s.toFixed(2)).join(' ');
    figures['fitAuto.wasm.seconds'] = wasm.map((s) => s.toFixed(2)).join(' ');
    figures['fitAuto.maxWeightDifferenceRelative'] = diff / largest;
    figures['fitFixed.wasm.seconds'] = fixed.map((s) => s.toFixed(2)).join(' ');
  }
  return figures;
}
