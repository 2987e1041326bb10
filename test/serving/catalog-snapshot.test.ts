/**
 * The compact catalog snapshot (lib/pipeline/catalog-snapshot.ts) and the serving catalog built from
 * it plus raw files newer than it (lib/serving/catalog-source.ts), on s3rver: serving sees exactly the
 * items of the raw files listed now, reading only the files the snapshot does not cover.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../lib/aws/clients.ts';
import { formatS3Uri, getObjectBytes, listKeys, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { CatalogItemSchema, type CatalogItem } from '../../lib/core/contract.ts';
import {
  CATALOG_SNAPSHOT_KEY,
  CatalogSnapshotError,
  decodeCatalogSnapshot,
  encodeCatalogSnapshot,
  parseCatalogSnapshot,
  serializeCatalogSnapshot,
  listCatalogFiles,
  writeCatalogSnapshot,
} from '../../lib/pipeline/catalog-snapshot.ts';
import { parseRecords } from '../../lib/io/records.ts';
import { ServingCatalog } from '../../lib/serving/catalog-source.ts';
import { ARTIFACTS_BUCKET, PREFIXES, RAW_BUCKET } from '../../lib/wiring/resources.ts';
import { startTestEngines } from '../aws/local-engines.ts';

const raw = RAW_BUCKET.localName;
const artifacts = ARTIFACTS_BUCKET.localName;
const CATALOG_URI = formatS3Uri(raw, PREFIXES.catalog);

const show = (n: number, extra: Partial<CatalogItem> = {}): CatalogItem => ({
  itemId: `sh-${n}`,
  type: 'show',
  title: `show ${n}`,
  categories: n % 2 === 0 ? ['news', 'politics'] : ['comedy'],
  publisher: `publisher-${n % 3}`,
  language: 'en',
  publishedAt: new Date(Date.UTC(2026, 8, 1 + (n % 28), 6)).toISOString(),
  ...extra,
});
const episode = (n: number, of: number): CatalogItem => ({
  itemId: `sh-${of}-ep${n}`,
  type: 'episode',
  title: `episode ${n} of show ${of}`,
  categories: ['news'],
  publisher: 'publisher-0',
  language: 'sv',
  publishedAt: '2026-09-20T07:30:00.000Z',
  showId: `sh-${of}`,
  durationMs: 1_800_000 + n,
});
const deleteObjects = async (bucket: string, keys: readonly string[]): Promise<void> => {
  for (const Key of keys) await s3Client().send(new DeleteObjectCommand({ Bucket: bucket, Key }));
};
const jsonl = (items: readonly unknown[]): string => `${items.map((i) => JSON.stringify(i)).join('\n')}\n`;

let engines: Awaited<ReturnType<typeof startTestEngines>>;
beforeAll(async () => {
  engines = await startTestEngines();
}, 60_000);
afterAll(async () => {
  await engines?.cleanup();
});
beforeEach(async () => {
  for (const [bucket, prefix] of [
    [raw, PREFIXES.catalog],
    [artifacts, PREFIXES.servingCatalog],
  ] as const) {
    const keys = await listKeys(formatS3Uri(bucket, prefix));
    if (keys.length > 0) await deleteObjects(bucket, keys);
  }
});

/** Every item of the raw files, read and validated file by file, as serving read them before snapshots. */
async function readEveryRawFile(): Promise<CatalogItem[]> {
  const out: CatalogItem[] = [];
  for (const key of (await listKeys(CATALOG_URI)).filter((k) => !k.endsWith('/')))
    out.push(...(await parseRecords<CatalogItem>(await getObjectBytes(formatS3Uri(raw, key)), CatalogItemSchema, { file: key })).rows);
  return out;
}

const servingCatalog = () => new ServingCatalog({ rawBucket: () => raw, artifactsBucket: () => artifacts });

describe('the snapshot document', () => {
  const files = [
    { key: 'catalog/a.jsonl', etag: '"a"', size: 10, items: [show(1), show(2), episode(1, 2)] },
    { key: 'catalog/b.jsonl', etag: '"b"', size: 20, items: [show(3, { categories: ['news', 'politics'] })] },
  ];

  it('gives back every item as it went in, file by file', () => {
    const snapshot = parseCatalogSnapshot(
      serializeCatalogSnapshot(encodeCatalogSnapshot(files, { runId: 'r1', writtenAt: '2026-10-01T00:00:00Z' })),
    );
    expect(decodeCatalogSnapshot(snapshot)).toEqual(files.map((f) => f.items));
  });

  it('stores repeated strings once, in its dictionary', () => {
    const snapshot = encodeCatalogSnapshot(files, { runId: 'r1', writtenAt: '2026-10-01T00:00:00Z' });
    expect(snapshot.dictionary.filter((w) => w === 'news')).toHaveLength(1);
    expect(snapshot.files.map((f) => f.items)).toEqual([3, 1]);
  });

  it.each([
    [
      'a column of the wrong length',
      (s: ReturnType<typeof encodeCatalogSnapshot>) => s.columns.title.pop(),
      /column title has 3 values; expected 4/,
    ],
    [
      'a dictionary index out of range',
      (s: ReturnType<typeof encodeCatalogSnapshot>) => {
        s.columns.publisher[0] = 999;
      },
      /publisher refers to dictionary entry 999; expected 0\.\./,
    ],
    [
      'files that do not add up to the items',
      (s: ReturnType<typeof encodeCatalogSnapshot>) => {
        (s.files[0] as { items: number }).items = 1;
      },
      /files hold 2 items; expected the 4 items/,
    ],
  ])('refuses %s with CatalogSnapshotError', (_, breakIt, message) => {
    const snapshot = encodeCatalogSnapshot(files, { runId: 'r1', writtenAt: '2026-10-01T00:00:00Z' });
    breakIt(snapshot);
    expect(() => decodeCatalogSnapshot(snapshot)).toThrow(CatalogSnapshotError);
    expect(() => decodeCatalogSnapshot(snapshot)).toThrow(message);
  });

  it('refuses bytes that are not a GZIP JSON snapshot, naming where', () => {
    expect(() => parseCatalogSnapshot(new TextEncoder().encode('{}'))).toThrow(/not GZIP JSON/);
    expect(() => parseCatalogSnapshot(gzipSync(JSON.stringify({ format: 2 })))).toThrow(/does not match its schema at format/);
  });
});

describe('the snapshot written by the pipeline and read by serving', () => {
  it('serves the items of the raw catalog from the snapshot alone, leaving out rows that fail the schema', async () => {
    await putObjectBytes(formatS3Uri(raw, 'catalog/catalog.jsonl'), `${jsonl([show(1), show(2), episode(1, 2)])}{"itemId":"broken"}\n`);
    const written = await writeCatalogSnapshot(CATALOG_URI, artifacts, 'run-1');
    expect(written).toMatchObject({ items: 3, files: 1, written: true, uri: formatS3Uri(artifacts, CATALOG_SNAPSHOT_KEY) });
    const catalog = servingCatalog();
    expect(await catalog.load()).toEqual(await readEveryRawFile());
    expect(catalog.lastRefresh).toEqual({ fromSnapshot: 3, rawFiles: [] });
  });

  it('writes nothing when the snapshot already covers the same files', async () => {
    await putObjectBytes(formatS3Uri(raw, 'catalog/catalog.jsonl'), jsonl([show(1)]));
    expect((await writeCatalogSnapshot(CATALOG_URI, artifacts, 'podcasts-run')).written).toBe(true);
    expect((await writeCatalogSnapshot(CATALOG_URI, artifacts, 'playlists-run')).written).toBe(false);
    await putObjectBytes(formatS3Uri(raw, 'catalog/catalog.jsonl'), jsonl([show(1), show(2)]));
    expect(await writeCatalogSnapshot(CATALOG_URI, artifacts, 'next-run')).toMatchObject({ written: true, items: 2 });
  });

  it('reads only raw files added or changed since the snapshot, and drops files deleted since', async () => {
    await putObjectBytes(formatS3Uri(raw, 'catalog/a.jsonl'), jsonl([show(1), show(2)]));
    await putObjectBytes(formatS3Uri(raw, 'catalog/b.jsonl'), jsonl([show(3), episode(1, 3)]));
    await putObjectBytes(formatS3Uri(raw, 'catalog/c.jsonl'), jsonl([show(4)]));
    await writeCatalogSnapshot(CATALOG_URI, artifacts, 'run-1');
    // After the run: a show published (new file), one file changed, one removed.
    await putObjectBytes(formatS3Uri(raw, 'catalog/late-additions.jsonl'), jsonl([show(9, { title: 'published since the run' })]));
    await putObjectBytes(formatS3Uri(raw, 'catalog/b.jsonl'), jsonl([show(3, { title: 'retitled' }), episode(1, 3), episode(2, 3)]));
    await deleteObjects(raw, ['catalog/c.jsonl']);
    const catalog = servingCatalog();
    const items = await catalog.load();
    expect(items).toEqual(await readEveryRawFile());
    expect(items.map((i) => i.itemId)).toEqual(['sh-1', 'sh-2', 'sh-3', 'sh-3-ep1', 'sh-3-ep2', 'sh-9']);
    expect(catalog.lastRefresh).toEqual({ fromSnapshot: 2, rawFiles: ['catalog/b.jsonl', 'catalog/late-additions.jsonl'] });
  });

  it('reads every raw file while there is no snapshot, and says why', async () => {
    await putObjectBytes(formatS3Uri(raw, 'catalog/a.jsonl'), jsonl([show(1)]));
    const catalog = servingCatalog();
    expect((await catalog.load()).map((i) => i.itemId)).toEqual(['sh-1']);
    expect(catalog.lastRefresh).toEqual({ fromSnapshot: 0, rawFiles: ['catalog/a.jsonl'], snapshotIgnored: 'no catalog snapshot yet' });
  });

  it('does not trust a snapshot written under another transform version, and reads the raw files instead', async () => {
    await putObjectBytes(formatS3Uri(raw, 'catalog/a.jsonl'), jsonl([show(1)]));
    const [file] = await listCatalogFiles(CATALOG_URI);
    const old = encodeCatalogSnapshot(
      [{ ...(file as { key: string; etag: string; size: number }), items: [show(1, { title: 'stale' })] }],
      {
        runId: 'old',
        writtenAt: '2026-09-01T00:00:00Z',
        transformVersion: '0000000000000000',
      },
    );
    await putObjectBytes(formatS3Uri(artifacts, CATALOG_SNAPSHOT_KEY), serializeCatalogSnapshot(old));
    const catalog = servingCatalog();
    expect((await catalog.load()).map((i) => i.title)).toEqual(['show 1']);
    expect(catalog.lastRefresh?.snapshotIgnored).toMatch(/written under transform version 0000000000000000; expected [0-9a-f]{16}/);
  });

  it('costs two listings and no reads on a refresh with nothing new', async () => {
    await putObjectBytes(formatS3Uri(raw, 'catalog/a.jsonl'), jsonl([show(1)]));
    await writeCatalogSnapshot(CATALOG_URI, artifacts, 'run-1');
    await putObjectBytes(formatS3Uri(raw, 'catalog/new.jsonl'), jsonl([show(2)]));
    const catalog = servingCatalog();
    const first = await catalog.load();
    const second = await catalog.load();
    // The same objects: nothing was parsed again (the snapshot and the new file are kept by ETag).
    expect(second).toHaveLength(2);
    expect(second.every((item, i) => item === first[i])).toBe(true);
  });
});
