/**
 * MovieLens 100k (GroupLens; not in this repository: its licence does not allow redistribution), read
 * from the directory MOVIELENS_100K names (the `ml-100k` folder of the official zip: u.data, u.item),
 * with the protocol of issue 15: per-item stratified 75/25 split (each item's ratings, seeded), binary
 * relevance (every rating is a positive), items seen in training removed, NDCG@10 over test users; the
 * 19 genres of u.item are the item features. Benches that tune use `inner`, a per-item stratified
 * 80/20 split of the TRAINING part (validation data); `test` is reported, never tuned on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../lib/core/errors.ts';
import type { FeatureRows, Interaction } from '../lib/core/models/recommender.ts';
import { Rng } from '../lib/core/rng.ts';
import type { PublicLikeSplit } from './_public-like.ts';

export interface MovieLensSets {
  /** The split: train (75% of each item's ratings) and test. */
  readonly test: PublicLikeSplit;
  /** Validation: 80/20 of `test.train`, per item. */
  readonly inner: PublicLikeSplit;
}

const GENRES = 19;

/** The sets, or undefined when MOVIELENS_100K is unset (benches then skip them). */
export function movieLens100k(dir: string | undefined = process.env.MOVIELENS_100K): MovieLensSets | undefined {
  if (dir === undefined || dir === '') return undefined;
  const dataFile = join(dir, 'u.data');
  const itemFile = join(dir, 'u.item');
  for (const f of [dataFile, itemFile]) if (!existsSync(f)) throw new InputError(`MOVIELENS_100K: ${f} not found`, { file: f });
  const rows: Interaction[] = readFileSync(dataFile, 'latin1')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, k) => {
      const [user, item, rating, ts] = line.trim().split(/\s+/);
      if (ts === undefined || !Number.isFinite(Number(ts)) || !Number.isFinite(Number(rating)))
        throw new InputError(`expected user, item, rating, timestamp separated by tabs, got ${JSON.stringify(line)}`, {
          file: dataFile,
          line: k + 1,
        });
      return { userId: `u${user}`, itemId: `m${item}`, ts: Number(ts) * 1000, weight: 1 };
    });
  const itemFeatures = new Map<string, (readonly [string, number])[]>();
  readFileSync(itemFile, 'latin1')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .forEach((line, k) => {
      const fields = line.split('|');
      const flags = fields.slice(-GENRES);
      if (fields.length < GENRES + 1 || flags.some((f) => f !== '0' && f !== '1'))
        throw new InputError(`expected an id and ${GENRES} genre flags (0/1) last, separated by |`, { file: itemFile, line: k + 1 });
      itemFeatures.set(
        `m${fields[0]}`,
        flags.flatMap((f, g) => (f === '1' ? [[`genre:${g}`, 1] as const] : [])),
      );
    });
  return protocolSplits(rows, itemFeatures, 'ml-100k');
}

/**
 * MovieLens "latest-small" (the 2016 edition: 100,004 ratings, 671 users, 9,066 films, 20 genres; much
 * sparser than 100k: most films have a handful of ratings), read from the directory MOVIELENS_SMALL
 * names, in the official zip's format: ratings.csv (userId,movieId,rating,timestamp, with a header)
 * and movies.csv (movieId,title,genres; genres separated by |, "(no genres listed)" for none). The
 * same protocol and splits as movieLens100k. A second public dataset to choose defaults on (its inner
 * split) beside 100k, and to report on (its test split). R's dslabs package ships this edition
 * (`apt-get install r-cran-dslabs`; README, "Public data", shows the export).
 */
export function movieLensLatestSmall(dir: string | undefined = process.env.MOVIELENS_SMALL): MovieLensSets | undefined {
  if (dir === undefined || dir === '') return undefined;
  const ratingsFile = join(dir, 'ratings.csv');
  const moviesFile = join(dir, 'movies.csv');
  for (const f of [ratingsFile, moviesFile]) if (!existsSync(f)) throw new InputError(`MOVIELENS_SMALL: ${f} not found`, { file: f });
  const rows: Interaction[] = [];
  readFileSync(ratingsFile, 'utf8')
    .split('\n')
    .forEach((line, k) => {
      if (k === 0 || line.trim() === '') return;
      const [user, item, rating, ts] = line.trim().split(',');
      if (item === undefined || ts === undefined || !Number.isFinite(Number(ts)) || !Number.isFinite(Number(rating)))
        throw new InputError(`expected userId,movieId,rating,timestamp, got ${JSON.stringify(line)}`, { file: ratingsFile, line: k + 1 });
      rows.push({ userId: `u${user}`, itemId: `m${item}`, ts: Number(ts) * 1000, weight: 1 });
    });
  const itemFeatures = new Map<string, (readonly [string, number])[]>();
  readFileSync(moviesFile, 'utf8')
    .split('\n')
    .forEach((line, k) => {
      if (k === 0 || line.trim() === '') return;
      // The title may hold commas (quoted); the id is the first field and the genres the last.
      const first = line.indexOf(',');
      const last = line.lastIndexOf(',');
      const id = line.slice(0, first);
      if (first <= 0 || last <= first || !/^\d+$/.test(id))
        throw new InputError(`expected movieId,title,genres, got ${JSON.stringify(line)}`, { file: moviesFile, line: k + 1 });
      const genres = line
        .slice(last + 1)
        .trim()
        .replace(/^"|"$/g, '');
      itemFeatures.set(
        `m${id}`,
        genres === '(no genres listed)' || genres === '' ? [] : genres.split('|').map((g) => [`genre:${g}`, 1] as const),
      );
    });
  return protocolSplits(rows, itemFeatures, 'ml-latest-small');
}

/** Issue 15's protocol: per-item stratified 75/25 (seed 42), and its inner 80/20 of the training part (seed 4242). */
function protocolSplits(rows: readonly Interaction[], itemFeatures: FeatureRows, snapshot: string): MovieLensSets {
  const test = stratified(rows, 0.25, new Rng(42), itemFeatures, snapshot);
  const inner = stratified(test.train.interactions, 0.2, new Rng(4242), itemFeatures, snapshot);
  return { test, inner };
}

/** The public datasets that are set (MOVIELENS_100K, MOVIELENS_SMALL), each with the prefix its figures take. */
export function publicDatasets(): { readonly prefix: string; readonly sets: MovieLensSets }[] {
  const out: { prefix: string; sets: MovieLensSets }[] = [];
  const ml = movieLens100k();
  if (ml !== undefined) out.push({ prefix: 'movielens', sets: ml });
  const small = movieLensLatestSmall();
  if (small !== undefined) out.push({ prefix: 'mlSmall', sets: small });
  return out;
}

/** Per-item stratified split: floor(share × n) of each item's rows (seeded) go to test. */
function stratified(rows: readonly Interaction[], share: number, rng: Rng, itemFeatures: FeatureRows, snapshot: string): PublicLikeSplit {
  const byItem = new Map<string, number[]>();
  rows.forEach((x, k) => {
    let list = byItem.get(x.itemId);
    if (list === undefined) byItem.set(x.itemId, (list = []));
    list.push(k);
  });
  const isTest = new Uint8Array(rows.length);
  for (const item of [...byItem.keys()].sort()) {
    const list = byItem.get(item) as number[];
    for (const k of rng.shuffle(list.slice()).slice(0, Math.floor(list.length * share))) isTest[k] = 1;
  }
  const test = new Map<string, Set<string>>();
  const train: Interaction[] = [];
  rows.forEach((x, k) => {
    if (isTest[k] === 0) {
      train.push(x);
      return;
    }
    let set = test.get(x.userId);
    if (set === undefined) test.set(x.userId, (set = new Set()));
    set.add(x.itemId);
  });
  const cutoff = rows.reduce((m, x) => Math.max(m, x.ts), 0) + 1;
  return { train: { interactions: train, cutoff, snapshot, transformVersion: 'bench' }, test, itemFeatures };
}
