/**
 * The catalog a serving container indexes: the pipeline's compact snapshot (lib/pipeline/catalog-snapshot.ts)
 * plus whatever reached the raw catalog since. Each refresh lists the raw catalog/ prefix and the
 * snapshot's prefix (two LISTs), then:
 * - a raw file the snapshot covers (same key, ETag and size) is taken from the snapshot;
 * - a raw file added or changed since (an item published between retrains) is read and validated on
 *   its own, once per ETag;
 * - a file the snapshot covers but that is gone from the raw catalog is dropped with its items.
 * So the items served are exactly those of the raw files listed now, in listing order, as if every
 * file were read, while a refresh with nothing new costs two LISTs. No snapshot, or one of another
 * layout or transform version, or one that does not hold together: every raw file is read (and the
 * reason is kept in `lastRefresh`).
 */
import { formatS3Uri, getObjectBytes, listObjects } from '../aws/s3-uri.ts';
import { CatalogItemSchema, type CatalogItem } from '../core/contract.ts';
import { TRANSFORM_VERSION } from '../core/transforms/version.ts';
import { parseRecords } from '../io/records.ts';
import {
  CATALOG_SNAPSHOT_KEY,
  CatalogSnapshotError,
  decodeCatalogSnapshot,
  parseCatalogSnapshot,
  type SnapshotFile,
} from '../pipeline/catalog-snapshot.ts';
import { PREFIXES } from '../wiring/resources.ts';

/** What the last refresh read, for logs and tests. */
export interface CatalogRefresh {
  /** Items served from the snapshot. */
  readonly fromSnapshot: number;
  /** Raw files read (or reused from an earlier refresh) because the snapshot does not cover them. */
  readonly rawFiles: readonly string[];
  /** Why no snapshot was used, when none was. */
  readonly snapshotIgnored?: string;
}

interface LoadedSnapshot {
  readonly etag: string;
  /** By raw key: the file as the snapshot saw it, and its items. */
  readonly files: ReadonlyMap<string, { readonly file: SnapshotFile; readonly items: readonly CatalogItem[] }>;
}

export interface ServingCatalogOptions {
  readonly rawBucket: () => string;
  readonly artifactsBucket: () => string;
}

/** The serving catalog of one container, cached between refreshes by ETag. */
export class ServingCatalog {
  private snapshot: LoadedSnapshot | undefined;
  private ignored: { readonly etag: string; readonly reason: string } | undefined;
  /** Raw files read because the snapshot did not cover them, by key, with the ETag they were read at. */
  private readonly rawFiles = new Map<string, { readonly etag: string; readonly items: readonly CatalogItem[] }>();
  lastRefresh: CatalogRefresh | undefined;

  constructor(private readonly options: ServingCatalogOptions) {}

  /** The items of every raw catalog file listed now, in listing order. */
  async load(): Promise<CatalogItem[]> {
    const raw = this.options.rawBucket();
    const artifacts = this.options.artifactsBucket();
    const [listed, snapshotObjects] = await Promise.all([
      listObjects(formatS3Uri(raw, PREFIXES.catalog)),
      listObjects(formatS3Uri(artifacts, CATALOG_SNAPSHOT_KEY)),
    ]);
    const object = snapshotObjects.find((o) => o.key === CATALOG_SNAPSHOT_KEY);
    const reason =
      object === undefined ? 'no catalog snapshot yet' : await this.refreshSnapshot(formatS3Uri(artifacts, object.key), object.etag);
    const snapshot = reason === undefined ? this.snapshot : undefined;

    const out: CatalogItem[] = [];
    const rawRead = new Set<string>();
    let fromSnapshot = 0;
    for (const o of listed) {
      if (o.key.endsWith('/')) continue;
      const covered = snapshot?.files.get(o.key);
      if (covered !== undefined && covered.file.etag === o.etag && covered.file.size === o.size) {
        for (const item of covered.items) out.push(item);
        fromSnapshot += covered.items.length;
        continue;
      }
      let file = this.rawFiles.get(o.key);
      if (file?.etag !== o.etag) {
        const { rows } = await parseRecords<CatalogItem>(await getObjectBytes(formatS3Uri(raw, o.key)), CatalogItemSchema, { file: o.key });
        file = { etag: o.etag, items: rows };
        this.rawFiles.set(o.key, file);
      }
      for (const item of file.items) out.push(item);
      rawRead.add(o.key);
    }
    // Files gone, or covered by a newer snapshot, need not stay in memory.
    for (const key of this.rawFiles.keys()) if (!rawRead.has(key)) this.rawFiles.delete(key);
    this.lastRefresh = { fromSnapshot, rawFiles: [...rawRead], ...(reason !== undefined ? { snapshotIgnored: reason } : {}) };
    return out;
  }

  /** Reads the snapshot when its ETag changed; the reason it cannot be used, or undefined when it can. */
  private async refreshSnapshot(uri: string, etag: string): Promise<string | undefined> {
    if (this.snapshot?.etag === etag) return undefined;
    if (this.ignored?.etag === etag) return this.ignored.reason;
    // A failed GET throws (the service keeps its last catalog and retries at the next refresh); a
    // snapshot that cannot be used is remembered by ETag and the raw catalog is read instead.
    const bytes = await getObjectBytes(uri);
    this.snapshot = undefined;
    try {
      const document = parseCatalogSnapshot(bytes);
      if (document.transformVersion !== TRANSFORM_VERSION)
        throw new CatalogSnapshotError(
          `catalog snapshot was written under transform version ${document.transformVersion}; expected ${TRANSFORM_VERSION}, the version serving runs`,
        );
      const items = decodeCatalogSnapshot(document);
      const files = new Map(document.files.map((file, i) => [file.key, { file, items: items[i] ?? [] }]));
      this.snapshot = { etag, files };
      this.ignored = undefined;
      return undefined;
    } catch (error) {
      if (!(error instanceof CatalogSnapshotError)) throw error;
      this.ignored = { etag, reason: error.message };
      return this.ignored.reason;
    }
  }
}
