/**
 * The dataset layout, local or on S3:
 *   <root>/manifest.json                              DatasetManifestSchema (optional for a user's own data)
 *   <root>/catalog/catalog.{jsonl,csv,parquet}
 *   <root>/users/users.{jsonl,csv,parquet}
 *   <root>/events/dt=YYYY-MM-DD/part-NNNNN.{jsonl,jsonl.gz,csv,csv.gz,parquet}
 * Without a manifest, partitions are discovered by listing `events/`. Every malformed row becomes a
 * reject with its reason; nothing is dropped silently.
 */
import { CatalogItemSchema, DatasetManifestSchema, ListeningEventSchema, UserSchema, type CatalogItem, type DatasetManifest, type ListeningEvent, type User } from '../core/contract.ts';
import { InputError } from '../core/errors.ts';
import { checkRejectRate, type QualityReport, type Reject } from '../core/validate.ts';
import { readRecords, type ReadReport } from './records.ts';
import { joinUri, openStore, type Store } from './store.ts';

export interface PartitionRef {
  /** The partition date, YYYY-MM-DD. */
  readonly dt: string;
  /** Full URI (local path or s3 URI) of one file of the partition. */
  readonly uri: string;
}

export interface TableReadOptions {
  /** Folder (local or s3) where rejects are written, mirroring the data file's key with `.rejects.jsonl`. Default: not written. */
  readonly rejectsRoot?: string;
  /** Largest accepted share of rejected rows per file (0..1); above it, DataQualityError. Default: no limit. */
  readonly rejectLimit?: number;
}

export interface EventReadOptions extends TableReadOptions {
  readonly knownItems?: ReadonlySet<string>;
  readonly knownUsers?: ReadonlySet<string>;
  /** Epoch ms; later events are rejected as future-timestamp. Default: the manifest's `end`, else no check. */
  readonly now?: number;
}

export interface PartitionReadOptions extends Omit<EventReadOptions, 'rejectsRoot'> {
  /** Where this partition's rejects go (JSON Lines). Default: not written. */
  readonly rejectsUri?: string;
}

export interface EventsRead {
  readonly rows: ListeningEvent[];
  readonly rejects: Reject[];
  /** One report per file, in partition order. */
  readonly reports: QualityReport[];
}

export interface Dataset {
  readonly root: string;
  readonly manifest: DatasetManifest | undefined;
  partitions(): Promise<PartitionRef[]>;
  readCatalog(options?: TableReadOptions): Promise<ReadReport<CatalogItem>>;
  readUsers(options?: TableReadOptions): Promise<ReadReport<User>>;
  readEventsPartition(uri: string, options?: PartitionReadOptions): Promise<ReadReport<ListeningEvent>>;
  readAllEvents(options?: EventReadOptions): Promise<EventsRead>;
}

const DATA_FILE = /\.(jsonl|ndjson|csv|parquet)(\.gz)?$/;
const PARTITION_KEY = /^events\/dt=(\d{4}-\d{2}-\d{2})\/[^/]+$/;

async function readManifest(store: Store): Promise<DatasetManifest | undefined> {
  if (!(await store.exists('manifest.json'))) return undefined;
  const file = store.uriOf('manifest.json');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(await store.get('manifest.json')).toString('utf8'));
  } catch (error) {
    throw new InputError(`manifest is not valid JSON: ${(error as Error).message}`, { file });
  }
  const parsed = DatasetManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`manifest does not match the dataset contract: ${issue?.message ?? 'invalid'}`, { file, field: issue?.path.join('.') });
  }
  return parsed.data;
}

/** Key of the single data file in `folder/` named `<base>.<ext>`, or an InputError naming what is missing. */
async function tableKey(store: Store, folder: string): Promise<string> {
  const keys = (await store.list(`${folder}/`)).filter((k) => DATA_FILE.test(k) && !k.includes('.rejects.'));
  const key = keys[0];
  if (key === undefined) throw new InputError(`no ${folder} file: expected ${joinUri(store.uri, folder, `${folder}.jsonl`)} (or .csv / .parquet)`);
  if (keys.length > 1) throw new InputError(`more than one ${folder} file in ${joinUri(store.uri, folder)}: ${keys.join(', ')}`);
  return key;
}

function rejectsKey(key: string): string {
  return key.replace(DATA_FILE, '.rejects.jsonl');
}

/** Opens the dataset at `rootUri` (local folder or s3 prefix), reading and validating its manifest when there is one. */
export async function openDataset(rootUri: string): Promise<Dataset> {
  const store = openStore(rootUri);
  const manifest = await readManifest(store);
  const defaultNow = manifest === undefined ? undefined : Date.parse(manifest.end);
  const keyOf = (uri: string): string => (uri.startsWith(`${store.uri}/`) ? uri.slice(store.uri.length + 1) : uri);

  const readTable = async <T extends { readonly timestamp?: string; readonly itemId?: string; readonly userId?: string }>(folder: string, schema: Parameters<typeof readRecords<T>>[1], options: TableReadOptions = {}): Promise<ReadReport<T>> => {
    const key = await tableKey(store, folder);
    const result = await readRecords<T>(store.uriOf(key), schema, {
      file: key,
      ...(options.rejectsRoot === undefined ? {} : { rejectsUri: joinUri(options.rejectsRoot, rejectsKey(key)) }),
    });
    if (options.rejectLimit !== undefined) checkRejectRate(result.report, options.rejectLimit, result.tally.examples);
    return result;
  };

  const dataset: Dataset = {
    root: store.uri,
    manifest,
    async partitions() {
      if (manifest !== undefined) {
        return manifest.partitions.flatMap((p) => p.files.map((f) => ({ dt: p.dt, uri: store.uriOf(f.includes('/') ? f : `events/dt=${p.dt}/${f}`) })));
      }
      const refs: PartitionRef[] = [];
      for (const key of await store.list('events/')) {
        const match = PARTITION_KEY.exec(key);
        if (match?.[1] !== undefined && DATA_FILE.test(key) && !key.includes('.rejects.')) refs.push({ dt: match[1], uri: store.uriOf(key) });
      }
      return refs;
    },
    readCatalog: (options) => readTable<CatalogItem>('catalog', CatalogItemSchema, options),
    readUsers: (options) => readTable<User>('users', UserSchema, options),
    async readEventsPartition(uri, options = {}) {
      const { rejectLimit, now = defaultNow, ...rest } = options;
      const result = await readRecords<ListeningEvent>(uri, ListeningEventSchema, { ...rest, ...(now === undefined ? {} : { now }), file: keyOf(uri) });
      if (rejectLimit !== undefined) checkRejectRate(result.report, rejectLimit, result.tally.examples);
      return result;
    },
    async readAllEvents(options = {}) {
      const { rejectsRoot, ...rest } = options;
      const rows: ListeningEvent[] = [];
      const rejects: Reject[] = [];
      const reports: QualityReport[] = [];
      for (const part of await dataset.partitions()) {
        const rejectsUri = rejectsRoot === undefined ? undefined : joinUri(rejectsRoot, rejectsKey(keyOf(part.uri)));
        const result = await dataset.readEventsPartition(part.uri, { ...rest, ...(rejectsUri === undefined ? {} : { rejectsUri }) });
        for (const row of result.rows) rows.push(row);
        for (const reject of result.rejects) rejects.push(reject);
        reports.push(result.report);
      }
      return { rows, rejects, reports };
    },
  };
  return dataset;
}

export interface LoadedDataset {
  readonly manifest: DatasetManifest | undefined;
  readonly catalog: CatalogItem[];
  readonly users: User[];
  readonly events: ListeningEvent[];
  /** Catalog, users, then one per events file. */
  readonly reports: QualityReport[];
}

/**
 * Reads a whole dataset: catalog and users first, then every events partition checked against them
 * (unknown items/users and future timestamps are rejects). Applies `rejectLimit` to every file.
 */
export async function loadDataset(rootUri: string, options: TableReadOptions & { readonly now?: number } = {}): Promise<LoadedDataset> {
  const dataset = await openDataset(rootUri);
  const catalog = await dataset.readCatalog(options);
  const users = await dataset.readUsers(options);
  const events = await dataset.readAllEvents({
    ...options,
    knownItems: new Set(catalog.rows.map((i) => i.itemId)),
    knownUsers: new Set(users.rows.map((u) => u.userId)),
  });
  return { manifest: dataset.manifest, catalog: catalog.rows, users: users.rows, events: events.rows, reports: [catalog.report, users.report, ...events.reports] };
}
