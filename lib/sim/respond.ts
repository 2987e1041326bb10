/**
 * Simulated users answering what they are shown, from the world's ground truth: the chance to play
 * an item grows with the affinity of the user's latent taste to the item's profile and with its
 * quality (the same model the simulator used to generate the history).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Rng } from '../core/rng.ts';

export interface Truth {
  readonly tastes: ReadonlyMap<string, Float32Array>;
  /** Shows, playlists, albums and audiobooks; an episode answers as its show (`<showId>-epNNNN`). */
  readonly items: ReadonlyMap<string, { readonly latent: Float32Array; readonly quality: number; readonly publishedAt: number }>;
  /** Mean taste of all users: how someone the truth does not know behaves. */
  readonly meanTaste: Float32Array;
}

function parseLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

export async function loadTruth(worldDir: string): Promise<Truth> {
  const users = parseLines<{ userId: string; taste: number[] }>(await readFile(join(worldDir, 'truth', 'users.jsonl'), 'utf8'));
  const items = parseLines<{ itemId: string; publishedAt?: string; quality: number; latent: number[] }>(
    await readFile(join(worldDir, 'truth', 'items.jsonl'), 'utf8'),
  );
  const tastes = new Map(users.map((u) => [u.userId, Float32Array.from(u.taste)]));
  const dims = users[0]?.taste.length ?? 0;
  const meanTaste = new Float32Array(dims);
  for (const t of tastes.values()) for (let d = 0; d < dims; d++) meanTaste[d]! += (t[d] as number) / tastes.size;
  return {
    tastes,
    items: new Map(
      items.map((i) => [
        i.itemId,
        {
          latent: Float32Array.from(i.latent),
          quality: i.quality,
          publishedAt: i.publishedAt === undefined ? 0 : Date.parse(i.publishedAt),
        },
      ]),
    ),
    meanTaste,
  };
}

/** Probability that the user plays the item when shown it (episodes answer as their show when given as `showOf`). */
export function playProbability(truth: Truth, userId: string, itemId: string): number {
  const taste = truth.tastes.get(userId) ?? truth.meanTaste;
  const item = truth.items.get(itemId) ?? truth.items.get(itemId.replace(/-ep\d+$/, ''));
  if (item === undefined) return 0.02;
  let affinity = 0;
  for (let d = 0; d < taste.length; d++) affinity += (taste[d] as number) * (item.latent[d] as number);
  return 1 / (1 + Math.exp(-(4 * affinity + Math.log(item.quality) - 3)));
}

export type Response = 'play' | 'skip' | 'none';

/**
 * What the user does with each shown item at time `now` (epoch ms): play, skip (an explicit pass), or
 * nothing. Items not yet published at `now` are never played; position lowers attention. Users the
 * truth does not know answer with the population's mean taste.
 */
export function respond(truth: Truth, userId: string, shown: readonly string[], now: number, rng: Rng): Response[];
/** @deprecated Without a time: every item counts as published. */
export function respond(truth: Truth, userId: string, shown: readonly string[], rng: Rng): Response[];
export function respond(truth: Truth, userId: string, shown: readonly string[], nowOrRng: number | Rng, maybeRng?: Rng): Response[] {
  const now = typeof nowOrRng === 'number' ? nowOrRng : Infinity;
  const rng = typeof nowOrRng === 'number' ? maybeRng : nowOrRng;
  if (rng === undefined) throw new TypeError('respond() needs an Rng');
  return shown.map((itemId, position) => {
    const item = truth.items.get(itemId) ?? truth.items.get(itemId.replace(/-ep\d+$/, ''));
    const published = item === undefined || item.publishedAt <= now;
    const attention = 1 / (1 + 0.15 * position);
    if (rng.next() < (published ? playProbability(truth, userId, itemId) * attention : 0)) return 'play';
    return rng.next() < 0.3 ? 'skip' : 'none';
  });
}
