/**
 * The compact catalog snapshot serving indexes, written by PublishServingState (shard 0) at a stable
 * key of the artifacts bucket (PREFIXES.servingCatalog): only the fields serving reads (id, title,
 * type, categories, publisher, language, publish time, parent show, duration), column by column with
 * the repeated strings in one dictionary, GZIP JSON. A serving container reads and checks it in one
 * GET instead of listing, downloading and validating every raw catalog file row by row on each refresh.
 *
 * The snapshot names the raw files it was built from (key, ETag, size, item count; items are stored
 * file by file in that order), so a reader can tell exactly which raw files it covers: a file added or
 * changed since (an item published between retrains) is read raw, a file deleted since is dropped
 * (lib/serving/catalog-source.ts). It carries the transform version it was written under: the fields
 * kept are those this version's transforms read, so a reader of another version does not trust it.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { formatS3Uri, getObjectBytes, listObjects, parseS3Uri, putObjectBytes } from '../aws/s3-uri.ts';
import { CatalogItemSchema, ITEM_TYPES, type CatalogItem, type ItemType } from '../core/contract.ts';
import { TRANSFORM_VERSION } from '../core/transforms/version.ts';
import { parseRecords } from '../io/records.ts';
import { PREFIXES } from '../wiring/resources.ts';

/** The layout version of the snapshot document; a reader ignores a snapshot of another layout. */
export const CATALOG_SNAPSHOT_FORMAT = 1;

/** The snapshot's key in the artifacts bucket (stable: every run overwrites it). */
export const CATALOG_SNAPSHOT_KEY = `${PREFIXES.servingCatalog}catalog-snapshot.json.gz`;

/** One raw catalog file as listed when the snapshot was built, and how many of the snapshot's items came from it. */
const SnapshotFileSchema = z.strictObject({
  key: z.string().min(1),
  etag: z.string(),
  size: z.number().int().nonnegative(),
  items: z.number().int().nonnegative(),
});
export type SnapshotFile = z.infer<typeof SnapshotFileSchema>;

const Ints = z.array(z.number().int());

export const CatalogSnapshotSchema = z.strictObject({
  format: z.literal(CATALOG_SNAPSHOT_FORMAT),
  transformVersion: z.string().min(1),
  runId: z.string(),
  writtenAt: z.iso.datetime(),
  /** Raw files in listing order; items are stored in the same order, `items` of each in turn. */
  files: z.array(SnapshotFileSchema),
  /** The distinct strings of type, categories, publisher, language and showId, referred to by index. */
  dictionary: z.array(z.string()),
  columns: z.strictObject({
    itemId: z.array(z.string().min(1)),
    title: z.array(z.string().min(1)),
    type: Ints,
    /** Item i's categories are categories[categoryStart[i] .. categoryStart[i + 1]) (n + 1 offsets). */
    categoryStart: Ints,
    categories: Ints,
    publisher: Ints,
    language: Ints,
    /** Epoch ms. */
    publishedAt: Ints,
    /** -1: no parent show. */
    showId: Ints,
    /** 0: no duration. */
    durationMs: Ints,
  }),
});
export type CatalogSnapshot = z.infer<typeof CatalogSnapshotSchema>;

/** A snapshot whose document does not hold together (a column of the wrong length, an index out of range). */
export class CatalogSnapshotError extends Error {
  override readonly name = 'CatalogSnapshotError';
}

/** Builds the snapshot document of `files` (each with the items read from it, in listing order). */
export function encodeCatalogSnapshot(
  files: readonly { readonly key: string; readonly etag: string; readonly size: number; readonly items: readonly CatalogItem[] }[],
  meta: { readonly runId: string; readonly writtenAt: string; readonly transformVersion?: string },
): CatalogSnapshot {
  const dictionary: string[] = [];
  const index = new Map<string, number>();
  const ref = (value: string): number => {
    let i = index.get(value);
    if (i === undefined) {
      i = dictionary.length;
      dictionary.push(value);
      index.set(value, i);
    }
    return i;
  };
  const c: CatalogSnapshot['columns'] = {
    itemId: [],
    title: [],
    type: [],
    categoryStart: [0],
    categories: [],
    publisher: [],
    language: [],
    publishedAt: [],
    showId: [],
    durationMs: [],
  };
  for (const file of files) {
    for (const item of file.items) {
      c.itemId.push(item.itemId);
      c.title.push(item.title);
      c.type.push(ref(item.type));
      for (const category of item.categories) c.categories.push(ref(category));
      c.categoryStart.push(c.categories.length);
      c.publisher.push(ref(item.publisher));
      c.language.push(ref(item.language));
      c.publishedAt.push(Date.parse(item.publishedAt));
      c.showId.push(item.showId === undefined ? -1 : ref(item.showId));
      c.durationMs.push(item.durationMs ?? 0);
    }
  }
  return {
    format: CATALOG_SNAPSHOT_FORMAT,
    transformVersion: meta.transformVersion ?? TRANSFORM_VERSION,
    runId: meta.runId,
    writtenAt: meta.writtenAt,
    files: files.map((f) => ({ key: f.key, etag: f.etag, size: f.size, items: f.items.length })),
    dictionary,
    columns: c,
  };
}

/** The snapshot's items, file by file (`items[f]` holds the items of `files[f]`). Throws CatalogSnapshotError when it does not hold together. */
export function decodeCatalogSnapshot(snapshot: CatalogSnapshot): CatalogItem[][] {
  const { columns: c, dictionary, files } = snapshot;
  const n = c.itemId.length;
  for (const [name, column] of Object.entries(c)) {
    const expected = name === 'categoryStart' ? n + 1 : name === 'categories' ? (c.categoryStart[n] ?? 0) : n;
    if (column.length !== expected)
      throw new CatalogSnapshotError(`catalog snapshot column ${name} has ${column.length} values; expected ${expected}`);
  }
  const total = files.reduce((sum, f) => sum + f.items, 0);
  if (total !== n) throw new CatalogSnapshotError(`catalog snapshot files hold ${total} items; expected the ${n} items of its columns`);
  const word = (i: number, column: string): string => {
    const value = dictionary[i];
    if (value === undefined)
      throw new CatalogSnapshotError(`catalog snapshot ${column} refers to dictionary entry ${i}; expected 0..${dictionary.length - 1}`);
    return value;
  };
  const types = new Set<string>(ITEM_TYPES);
  // Items share one categories array per distinct combination: most of a catalog repeats a few.
  const shared = new Map<string, string[]>();
  const out: CatalogItem[][] = [];
  let i = 0;
  for (const file of files) {
    const items: CatalogItem[] = [];
    for (const end = i + file.items; i < end; i++) {
      const type = word(c.type[i] as number, 'type');
      if (!types.has(type))
        throw new CatalogSnapshotError(`catalog snapshot item ${c.itemId[i]} has type "${type}"; expected one of ${ITEM_TYPES.join(', ')}`);
      const from = c.categoryStart[i] as number;
      const to = c.categoryStart[i + 1] as number;
      const key = c.categories.slice(from, to).join(',');
      let categories = shared.get(key);
      if (categories === undefined) {
        categories = c.categories.slice(from, to).map((k) => word(k, 'categories'));
        shared.set(key, categories);
      }
      const showId = c.showId[i] as number;
      const durationMs = c.durationMs[i] as number;
      items.push({
        itemId: c.itemId[i] as string,
        type: type as ItemType,
        title: c.title[i] as string,
        categories,
        publisher: word(c.publisher[i] as number, 'publisher'),
        language: word(c.language[i] as number, 'language'),
        publishedAt: new Date(c.publishedAt[i] as number).toISOString(),
        ...(showId >= 0 ? { showId: word(showId, 'showId') } : {}),
        ...(durationMs > 0 ? { durationMs } : {}),
      });
    }
    out.push(items);
  }
  return out;
}

/** The GZIP JSON bytes of a snapshot. */
export function serializeCatalogSnapshot(snapshot: CatalogSnapshot): Uint8Array {
  return gzipSync(JSON.stringify(snapshot));
}

/** A snapshot from its bytes: GZIP JSON in the schema above, else CatalogSnapshotError naming what was wrong. */
export function parseCatalogSnapshot(bytes: Uint8Array): CatalogSnapshot {
  let document: unknown;
  try {
    document = JSON.parse(gunzipSync(bytes).toString('utf8'));
  } catch (error) {
    throw new CatalogSnapshotError(`catalog snapshot is not GZIP JSON: ${(error as Error).message}`);
  }
  const parsed = CatalogSnapshotSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CatalogSnapshotError(`catalog snapshot does not match its schema at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}

/** The raw catalog files under a prefix, in listing order (folders left out). */
export async function listCatalogFiles(catalogUri: string): Promise<{ key: string; etag: string; size: number }[]> {
  return (await listObjects(catalogUri)).filter((o) => !o.key.endsWith('/'));
}

/** Same files, same content (key, ETag and size in the same order). */
function sameFiles(
  a: readonly { key: string; etag: string; size: number }[],
  b: readonly { key: string; etag: string; size: number }[],
): boolean {
  return a.length === b.length && a.every((f, i) => f.key === b[i]?.key && f.etag === b[i]?.etag && f.size === b[i]?.size);
}

export interface CatalogSnapshotResult {
  readonly uri: string;
  readonly items: number;
  readonly files: number;
  /** False when the snapshot at the key already covered exactly these files under this transform version. */
  readonly written: boolean;
}

/**
 * Writes the snapshot of the raw catalog under `catalogUri` to the artifacts bucket's stable key. Rows
 * that fail the catalog schema are left out, as serving always left them out. Idempotent: when the
 * snapshot there already covers the same files under the same transform version, nothing is written
 * (every shelf's run publishes; the second and third find it done).
 */
export async function writeCatalogSnapshot(catalogUri: string, artifactsBucket: string, runId: string): Promise<CatalogSnapshotResult> {
  const uri = formatS3Uri(artifactsBucket, CATALOG_SNAPSHOT_KEY);
  const listed = await listCatalogFiles(catalogUri);
  // No snapshot yet, or one that cannot be read: write a new one.
  const existing = await getObjectBytes(uri)
    .then(parseCatalogSnapshot)
    .catch(() => undefined);
  if (existing?.transformVersion === TRANSFORM_VERSION && sameFiles(existing.files, listed))
    return { uri, items: existing.columns.itemId.length, files: listed.length, written: false };
  const { bucket } = parseS3Uri(catalogUri);
  const files = [];
  for (const file of listed) {
    const { rows } = await parseRecords<CatalogItem>(await getObjectBytes(formatS3Uri(bucket, file.key)), CatalogItemSchema, {
      file: file.key,
    });
    files.push({ ...file, items: rows });
  }
  const snapshot = encodeCatalogSnapshot(files, { runId, writtenAt: new Date().toISOString() });
  await putObjectBytes(uri, serializeCatalogSnapshot(snapshot), 'application/gzip');
  return { uri, items: snapshot.columns.itemId.length, files: files.length, written: true };
}
