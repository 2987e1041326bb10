/**
 * The dataset layout, local or on S3:
 *   <root>/manifest.json                              DatasetManifestSchema (optional for a user's own data)
 *   <root>/catalog/catalog.{jsonl,csv,parquet}
 *   <root>/users/users.{jsonl,csv,parquet}
 *   <root>/events/dt=YYYY-MM-DD/part-NNNNN.{jsonl,jsonl.gz,csv,csv.gz,parquet}
 * Without a manifest, partitions are discovered by listing `events/`. Every malformed row becomes a
 * reject with its reason; nothing is dropped silently.
 */
import {
  CatalogItemSchema,
  DatasetManifestSchema,
  ListeningEventSchema,
  UserSchema,
  type CatalogItem,
  type DatasetManifest,
  type ListeningEvent,
  type User,
} from '../core/contract.ts';
import { InputError } from '../core/errors.ts';
import { checkRejectRate, DEFAULT_REJECT_LIMIT, type QualityReport, type Reject } from '../core/validate.ts';
import { readRecords, streamRecords, type ReadReport, type RecordStream } from './records.ts';
import { joinUri, openStore, type Store } from './store.ts';

export interface PartitionRef {
  /** The partition date, YYYY-MM-DD. */
  readonly dt: string;
  /** Full URI (local path or s3 URI) of one file of the partition. */
  readonly uri: string;
}

export interface TableReadOptions {
  /** Folder (local or s3) where rejects are written, mirroring the data file's key with `.rejects.jsonl`. Default: the dataset's (see DatasetOptions). */
  readonly rejectsRoot?: string;
  /** Largest accepted share of rejected rows per file (0..1); above it, DataQualityError. Default: the dataset's (see DatasetOptions). */
  readonly rejectLimit?: number;
}

/** Defaults for every read of a dataset; each read may override them. */
export interface DatasetOptions {
  /** Largest accepted share of rejected rows per file, 0..1 (1 = never fail). Default DEFAULT_REJECT_LIMIT (0.01). */
  readonly rejectLimit?: number;
  /** Epoch ms: events after it are rejected as future-timestamp. Default: the manifest's `end`, else no check. */
  readonly now?: number;
  /** Folder (local or s3) where rejects are written, mirroring each data file's key with `.rejects.jsonl`. Default: not written. */
  readonly rejectsRoot?: string;
}

export interface EventReadOptions extends TableReadOptions {
  readonly knownItems?: ReadonlySet<string>;
  readonly knownUsers?: ReadonlySet<string>;
  /** Epoch ms; later events are rejected as future-timestamp. Default: the manifest's `end`, else no check. */
  readonly now?: number;
  /** Reject later copies of the same event (user, item, type, timestamp) within a file as `duplicate`. Default false. */
  readonly dedupe?: boolean;
}

export interface PartitionReadOptions extends Omit<EventReadOptions, 'rejectsRoot'> {
  /** Where this partition's rejects go (JSON Lines). Default: not written. */
  readonly rejectsUri?: string;
}

/** Every event of the dataset, partition by partition, streamed; `reports` grows by one per file read. */
export interface EventStream extends AsyncIterable<ListeningEvent> {
  /** One quality report per events file already read, in partition order. */
  readonly reports: QualityReport[];
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
  /** All rows of one events file (what a Map-state Lambda processes), with its report. */
  readEventsPartition(uri: string, options?: PartitionReadOptions): Promise<ReadReport<ListeningEvent>>;
  /** The rows of one events file as they are read; its report once the loop ends. */
  streamEventsPartition(uri: string, options?: PartitionReadOptions): RecordStream<ListeningEvent>;
  /** Every events file into memory: for small datasets. */
  readAllEvents(options?: EventReadOptions): Promise<EventsRead>;
  /** Every events file, streamed in partition order: memory does not grow with the number of events. */
  streamEvents(options?: EventReadOptions): EventStream;
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
    throw new InputError(`manifest does not match the dataset contract: ${issue?.message ?? 'invalid'}`, {
      file,
      field: issue?.path.join('.'),
    });
  }
  return parsed.data;
}

/** Key of the single data file in `folder/` named `<base>.<ext>`, or an InputError naming what is missing. */
async function tableKey(store: Store, folder: string): Promise<string> {
  const keys = (await store.list(`${folder}/`)).filter((k) => DATA_FILE.test(k) && !k.includes('.rejects.'));
  const key = keys[0];
  if (key === undefined)
    throw new InputError(`no ${folder} file: expected ${joinUri(store.uri, folder, `${folder}.jsonl`)} (or .csv / .parquet)`);
  if (keys.length > 1) throw new InputError(`more than one ${folder} file in ${joinUri(store.uri, folder)}: ${keys.join(', ')}`);
  return key;
}

function rejectsKey(key: string): string {
  return key.replace(DATA_FILE, '.rejects.jsonl');
}

/**
 * Opens the dataset at `rootUri` (local folder or s3 prefix), reading and validating its manifest when
 * there is one. `defaults` apply to every read unless the read overrides them.
 */
export async function openDataset(rootUri: string, defaults: DatasetOptions = {}): Promise<Dataset> {
  const store = openStore(rootUri);
  const manifest = await readManifest(store);
  const defaultNow = defaults.now ?? (manifest === undefined ? undefined : Date.parse(manifest.end));
  const defaultLimit = defaults.rejectLimit ?? DEFAULT_REJECT_LIMIT;
  const keyOf = (uri: string): string => (uri.startsWith(`${store.uri}/`) ? uri.slice(store.uri.length + 1) : uri);

  const rejectsUriOf = (key: string, rejectsRoot = defaults.rejectsRoot): { rejectsUri?: string } =>
    rejectsRoot === undefined ? {} : { rejectsUri: joinUri(rejectsRoot, rejectsKey(key)) };

  const readTable = async <T extends { readonly timestamp?: string; readonly itemId?: string; readonly userId?: string }>(
    folder: string,
    schema: Parameters<typeof readRecords<T>>[1],
    options: TableReadOptions = {},
  ): Promise<ReadReport<T>> => {
    const key = await tableKey(store, folder);
    const result = await readRecords<T>(store.uriOf(key), schema, { file: key, ...rejectsUriOf(key, options.rejectsRoot) });
    checkRejectRate(result.report, options.rejectLimit ?? defaultLimit, result.tally.examples);
    return result;
  };

  const partitionOptions = (uri: string, options: PartitionReadOptions) => {
    const { rejectLimit = defaultLimit, now = defaultNow, rejectsUri, ...rest } = options;
    const key = keyOf(uri);
    return {
      ...rest,
      rejectLimit,
      ...(now === undefined ? {} : { now }),
      ...(rejectsUri === undefined ? rejectsUriOf(key) : { rejectsUri }),
      file: key,
    };
  };

  const dataset: Dataset = {
    root: store.uri,
    manifest,
    async partitions() {
      if (manifest !== undefined) {
        return manifest.partitions.flatMap((p) =>
          p.files.map((f) => ({ dt: p.dt, uri: store.uriOf(f.includes('/') ? f : `events/dt=${p.dt}/${f}`) })),
        );
      }
      const refs: PartitionRef[] = [];
      for (const key of await store.list('events/')) {
        const match = PARTITION_KEY.exec(key);
        if (match?.[1] !== undefined && DATA_FILE.test(key) && !key.includes('.rejects.'))
          refs.push({ dt: match[1], uri: store.uriOf(key) });
      }
      return refs;
    },
    readCatalog: (options) => readTable<CatalogItem>('catalog', CatalogItemSchema, options),
    readUsers: (options) => readTable<User>('users', UserSchema, options),
    async readEventsPartition(uri, options = {}) {
      const { rejectLimit, ...rest } = partitionOptions(uri, options);
      const result = await readRecords<ListeningEvent>(uri, ListeningEventSchema, rest);
      checkRejectRate(result.report, rejectLimit, result.tally.examples);
      return result;
    },
    streamEventsPartition: (uri, options = {}) => streamRecords<ListeningEvent>(uri, ListeningEventSchema, partitionOptions(uri, options)),
    async readAllEvents(options = {}) {
      const rows: ListeningEvent[] = [];
      const rejects: Reject[] = [];
      const reports: QualityReport[] = [];
      for (const part of await dataset.partitions()) {
        const result = await dataset.readEventsPartition(part.uri, partitionReadOptions(part, options));
        for (const row of result.rows) rows.push(row);
        for (const reject of result.rejects) rejects.push(reject);
        reports.push(result.report);
      }
      return { rows, rejects, reports };
    },
    streamEvents(options = {}) {
      const reports: QualityReport[] = [];
      async function* events(): AsyncGenerator<ListeningEvent> {
        for (const part of await dataset.partitions()) {
          const stream = dataset.streamEventsPartition(part.uri, partitionReadOptions(part, options));
          yield* stream;
          reports.push(stream.report());
        }
      }
      return { reports, [Symbol.asyncIterator]: events };
    },
  };

  function partitionReadOptions(part: PartitionRef, options: EventReadOptions): PartitionReadOptions {
    const { rejectsRoot, ...rest } = options;
    return rejectsRoot === undefined ? rest : { ...rest, rejectsUri: joinUri(rejectsRoot, rejectsKey(keyOf(part.uri))) };
  }
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
 * (unknown items/users and future timestamps are rejects). Applies the reject limit to every file.
 */
export async function loadDataset(rootUri: string, options: DatasetOptions = {}): Promise<LoadedDataset> {
  const dataset = await openDataset(rootUri, options);
  const catalog = await dataset.readCatalog(options);
  const users = await dataset.readUsers(options);
  const events = await dataset.readAllEvents({
    knownItems: new Set(catalog.rows.map((i) => i.itemId)),
    knownUsers: new Set(users.rows.map((u) => u.userId)),
  });
  return {
    manifest: dataset.manifest,
    catalog: catalog.rows,
    users: users.rows,
    events: events.rows,
    reports: [catalog.report, users.report, ...events.reports],
  };
}
