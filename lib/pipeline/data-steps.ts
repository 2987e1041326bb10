/**
 * The pipeline's data steps: PlanFeatures (find the date partitions of the run's window and write their
 * list to S3), BuildPartitionFeatures (validate and clean one partition: a Distributed Map reads that list
 * and fans out over it, writing each partition's result to S3), ValidateData (read those results from
 * S3, check quality across the run, split in time, write the training and evaluation channels). No list
 * that grows with partitions passes through the state machine.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  copyObject,
  getObjectBytes,
  getObjectBytesIfExists,
  joinS3Uri,
  listKeys,
  listObjects,
  parseS3Uri,
  formatS3Uri,
  putObjectBytes,
  downloadPrefix,
} from '../aws/s3-uri.ts';
import { CatalogItemSchema, DatasetManifestSchema, SCHEMA_VERSION, UserSchema, type CatalogItem, type User } from '../core/contract.ts';
import { DataQualityError, InputError } from '../core/errors.ts';
import { TRANSFORM_VERSION } from '../core/transforms/version.ts';
import { hashString } from '../core/rng.ts';
import { DEFAULT_WINDOW_DAYS, SHELF_CONFIG } from '../core/shelf-settings.ts';
import { checkRejectRate, QualityTally, type Reject, type QualityReport } from '../core/validate.ts';
import { concatEvents, selectEvents, type EventColumns } from '../io/event-columns.ts';
import { decodeEventsParquet, encodeEventsParquet, EVENTS_PARQUET_VERSION, type PositionedEvents } from '../io/parquet-events.ts';
import { parseEventRecords, parseRecords } from '../io/records.ts';
import {
  MapRunManifestSchema,
  MapRunResultEntrySchema,
  PartitionResultSchema,
  type FeaturePlan,
  type MapRunResults,
  type PartitionRef,
  type PartitionResult,
  type RunContext,
  type ValidatedData,
  SERVING_STATE_SHARDS,
} from '../wiring/pipeline.ts';
import { PREFIXES } from '../wiring/resources.ts';
import {
  CHANNEL_EVENTS_DIR,
  CHANNEL_FILES,
  openChannelDir,
  readChannelDir,
  shardFileName,
  toJsonLines,
  type ChannelData,
  type ChannelMeta,
  type ChannelReader,
} from './channel.ts';
import { SERVING_HISTORY_DAYS, shardOf } from './serving-state.ts';

const DAY = 86_400_000;

export interface DataStepConfig {
  /** Largest share of rejected rows a file may have (0..1). */
  readonly rejectLimit: number;
  readonly now: () => number;
}

const prefixUri = (base: string, ...parts: string[]): string => `${joinS3Uri(base, ...parts)}/`;

/** Where PlanFeatures writes the run's partition list, and BuildFeatures its results (keys in the artifacts bucket). */
export function planLocations(run: RunContext): { manifestUri: string; resultsUri: string } {
  return {
    manifestUri: joinS3Uri(run.artifactsPrefix, 'plan', 'partitions.json'),
    resultsUri: joinS3Uri(run.artifactsPrefix, 'build-features'),
  };
}

/** Raw bytes of a partition per listener shard that PlanFeatures aims at (64 MB of raw events: 8 shards). */
export const LISTENER_SHARD_BYTES = 8 * 1024 * 1024;

/**
 * Listener shards for a partition of `rawBytes`: a power of two, one per LISTENER_SHARD_BYTES, at most
 * SERVING_STATE_SHARDS. Every shard is one file per partition that BuildFeatures writes, ValidateData
 * copies and training, evaluation and PublishServingState read (the default world's 400-event days in
 * 8 files each were ~7k S3 requests a run); a million listeners' 180 MB days keep all 8, so no task
 * holds more listeners than before. Powers of two: a shard of one count is a whole union of shards of a
 * smaller count (shardOf is a hash modulo the count), so PublishServingState reads only the files that
 * hold its listeners whatever count a partition was split into.
 */
export function listenerShards(rawBytes: number, bytesPerShard: number = LISTENER_SHARD_BYTES): number {
  let shards = 1;
  while (shards < SERVING_STATE_SHARDS && shards * bytesPerShard < rawBytes) shards *= 2;
  return shards;
}

export interface PlanOptions {
  /** Raw bytes per listener shard (listenerShards); default LISTENER_SHARD_BYTES. */
  readonly bytesPerShard?: number;
}

/**
 * Lists the date partitions under events/, fixes the cut-off, keeps the partitions of the run's window
 * (windowDays ending where the test window ends), sizes each one's listener shards from its raw bytes
 * and writes their list to S3 for BuildFeatures to read. PublishServingState maps over as many shards
 * as the largest partition of the last SERVING_HISTORY_DAYS has (the partitions it reads).
 */
export async function planFeatures(run: RunContext, options: PlanOptions = {}): Promise<FeaturePlan> {
  const eventsPrefix = prefixUri(run.rawPrefix, 'events');
  const objects = await listObjects(eventsPrefix);
  const { bucket } = parseS3Uri(run.rawPrefix);
  const dts = new Map<string, { uri: string; bytes: number }>();
  for (const { key, size } of objects) {
    const m = /(^|\/)dt=(\d{4}-\d{2}-\d{2})\//.exec(key);
    if (m === null) continue;
    const dt = m[2] as string;
    const found = dts.get(dt);
    if (found) found.bytes += size;
    else dts.set(dt, { uri: formatS3Uri(bucket, key.slice(0, key.indexOf(`dt=${dt}/`) + `dt=${dt}/`.length)), bytes: size });
  }
  if (dts.size === 0) throw new InputError(`no date partitions (events/dt=YYYY-MM-DD/) under ${eventsPrefix}`);
  const all = [...dts]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([dt, { uri, bytes }]) => ({ dt, uri, shards: listenerShards(bytes, options.bytesPerShard) }));
  let end = Date.parse(`${(all[all.length - 1] as { dt: string }).dt}T00:00:00Z`) + DAY;
  try {
    end = Date.parse(
      DatasetManifestSchema.parse(JSON.parse(Buffer.from(await getObjectBytes(joinS3Uri(run.rawPrefix, 'manifest.json'))).toString('utf8')))
        .end,
    );
  } catch {
    // Your own data may come without a manifest: the last partition's end is the data's end.
  }
  const testDays = SHELF_CONFIG[run.shelf].testDays;
  const cutoff = run.cutoff !== undefined ? Date.parse(run.cutoff) : end - testDays * DAY;
  if (Number.isNaN(cutoff)) throw new InputError(`cutoff "${run.cutoff}" is not an ISO time`, { field: 'cutoff' });
  const days = run.windowDays ?? SHELF_CONFIG[run.shelf].windowDays ?? DEFAULT_WINDOW_DAYS;
  const windowEnd = cutoff + testDays * DAY;
  const windowStart = windowEnd - days * DAY;
  const partitions = all.filter((p) => {
    const t = Date.parse(`${p.dt}T00:00:00Z`);
    return t + DAY > windowStart && t < windowEnd;
  });
  if (partitions.length === 0)
    throw new InputError(
      `no date partitions in the window ${new Date(windowStart).toISOString()} .. ${new Date(windowEnd).toISOString()} (${days} days); found ${all[0]?.dt} .. ${all[all.length - 1]?.dt}`,
      { field: 'windowDays' },
    );
  const servingSince = Date.parse(`${(partitions[partitions.length - 1] as PartitionRef).dt}T00:00:00Z`) + DAY - SERVING_HISTORY_DAYS * DAY;
  let servingShards = 1;
  for (const p of partitions) if (Date.parse(`${p.dt}T00:00:00Z`) >= servingSince) servingShards = Math.max(servingShards, p.shards);
  const { manifestUri, resultsUri } = planLocations(run);
  await putObjectBytes(manifestUri, JSON.stringify(partitions satisfies PartitionRef[]), 'application/json');
  return {
    manifestKey: parseS3Uri(manifestUri).key,
    resultsPrefix: parseS3Uri(resultsUri).key,
    partitionCount: partitions.length,
    window: { from: (partitions[0] as PartitionRef).dt, to: (partitions[partitions.length - 1] as PartitionRef).dt, days },
    catalogUri: prefixUri(run.rawPrefix, 'catalog'),
    usersUri: prefixUri(run.rawPrefix, 'users'),
    cutoff,
    servingShards,
  };
}

/**
 * Reads what BuildFeatures' ResultWriter wrote: the map run's manifest.json, then every SUCCEEDED result
 * file (each child execution's output is one PartitionResult). Failed partitions (as many as the map
 * tolerated) are returned by their input's dt. Partitions come back in date order.
 */
export async function readMapRunResults(results: MapRunResults): Promise<{ partitions: PartitionResult[]; failed: string[] }> {
  const readJson = async (key: string): Promise<unknown> =>
    JSON.parse(Buffer.from(await getObjectBytes(formatS3Uri(results.Bucket, key))).toString('utf8'));
  const manifest = MapRunManifestSchema.parse(await readJson(results.Key));
  const entries = async (files: readonly { Key: string }[]) => {
    const out = [];
    for (const file of files) out.push(...MapRunResultEntrySchema.array().parse(await readJson(file.Key)));
    return out;
  };
  const partitions = (await entries(manifest.ResultFiles.SUCCEEDED)).map((e) =>
    PartitionResultSchema.parse(JSON.parse(e.Output ?? 'null')),
  );
  const failed = (await entries(manifest.ResultFiles.FAILED)).map((e) => {
    const input = JSON.parse(e.Input) as { partition?: { dt?: string } };
    return String(input.partition?.dt ?? e.Name);
  });
  partitions.sort((a, b) => (a.dt < b.dt ? -1 : a.dt > b.dt ? 1 : 0));
  return { partitions, failed: failed.sort() };
}

async function readAll<T extends { timestamp?: string; itemId?: string; userId?: string }>(
  prefix: string,
  schema: Parameters<typeof parseRecords<T>>[1],
  ctx: { knownItems?: ReadonlySet<string>; now?: number },
  config: DataStepConfig,
  rejectsUri: string,
): Promise<{ rows: T[]; report: QualityReport }> {
  const { bucket } = parseS3Uri(prefix);
  const keys = (await listKeys(prefix)).filter((k) => !k.endsWith('/'));
  if (keys.length === 0) throw new InputError(`no files under ${prefix}`);
  const rows: T[] = [];
  const rejects: Reject[] = [];
  const examples = new Map<string, Reject>();
  const report = { file: prefix, read: 0, accepted: 0, rejected: 0, rejectedByReason: {} as Record<string, number> };
  for (const key of keys) {
    const result = await parseRecords<T>(await getObjectBytes(formatS3Uri(bucket, key)), schema, { ...ctx, file: key });
    // Not push(...rows): spreading a partition's rows as arguments overflows the stack past ~100k rows.
    for (const row of result.rows) rows.push(row);
    for (const reject of result.rejects) rejects.push(reject);
    const r = result.tally.report();
    report.read += r.read;
    report.accepted += r.accepted;
    report.rejected += r.rejected;
    for (const [reason, n] of Object.entries(r.rejectedByReason))
      report.rejectedByReason[reason] = (report.rejectedByReason[reason] ?? 0) + n;
    for (const [reason, ex] of result.tally.examples) if (!examples.has(reason)) examples.set(reason, ex);
  }
  const full: QualityReport = { ...report, ...(rejects.length > 0 ? { rejectsUri } : {}) };
  if (rejects.length > 0) await putObjectBytes(rejectsUri, toJsonLines(rejects), 'application/x-ndjson');
  checkRejectRate(full, config.rejectLimit, examples);
  return { rows, report: full };
}

async function readCatalog(
  plan: Pick<FeaturePlan, 'catalogUri'>,
  run: RunContext,
  config: DataStepConfig,
): Promise<{ rows: CatalogItem[]; report: QualityReport }> {
  return readAll<CatalogItem>(plan.catalogUri, CatalogItemSchema, {}, config, joinS3Uri(run.featuresPrefix, 'rejects', 'catalog.jsonl'));
}

/**
 * Known item ids by catalog content (object keys, ETags and sizes) and reject limit. Every partition of
 * a run checks its events against the same catalog, so a warm container (and the local runtime, where
 * all partitions share one process) parses it once instead of once per partition. A changed catalog
 * lists other ETags, so it is read afresh; a failed read is not kept.
 */
const knownItemsCache = new Map<string, Promise<ReadonlySet<string>>>();
const KNOWN_ITEMS_CACHE_SIZE = 4;

async function knownItemsOf(
  plan: Pick<FeaturePlan, 'catalogUri'>,
  run: RunContext,
  config: DataStepConfig,
  catalogObjects?: readonly { key: string; etag: string; size: number }[],
): Promise<ReadonlySet<string>> {
  const listing = (catalogObjects ?? (await listObjects(plan.catalogUri))).map((o) => `${o.key}:${o.etag}:${o.size}`).join(',');
  const key = `${plan.catalogUri}|${config.rejectLimit}|${listing}`;
  let known = knownItemsCache.get(key);
  if (known === undefined) {
    known = readCatalog(plan, run, config).then((catalog) => new Set(catalog.rows.map((i) => i.itemId)));
    known.catch(() => knownItemsCache.delete(key));
    knownItemsCache.set(key, known);
    for (const oldest of knownItemsCache.keys()) {
      if (knownItemsCache.size <= KNOWN_ITEMS_CACHE_SIZE) break;
      knownItemsCache.delete(oldest);
    }
  }
  return known;
}

/**
 * Clean partitions, shared by every shelf's runs and keyed by content: runs/_clean/<key>/dt=<dt>/ in
 * the features bucket (under runs/, which the pipeline's functions are already granted).
 */
export const CLEAN_PREFIX = `${PREFIXES.runs}_clean/`;
/** What else decides a clean partition's content besides its inputs: bump on any change to cleaning. */
const CLEAN_VERSION = `${EVENTS_PARQUET_VERSION}|schema ${SCHEMA_VERSION}|transforms ${TRANSFORM_VERSION}`;

/** The content key of a clean partition: its raw objects (keys, ETags, sizes), the catalog's, the versions, the reject limit and the shards. */
export function cleanPartitionKey(input: {
  readonly raw: readonly { key: string; etag: string; size: number }[];
  readonly catalog: readonly { key: string; etag: string; size: number }[];
  readonly rejectLimit: number;
  readonly shards: number;
}): string {
  const listing = (objects: readonly { key: string; etag: string; size: number }[]) =>
    objects.map((o) => `${o.key}\u0000${o.etag}\u0000${o.size}`).sort();
  const text = JSON.stringify({
    version: CLEAN_VERSION,
    raw: listing(input.raw),
    catalog: listing(input.catalog),
    rejectLimit: input.rejectLimit,
    shards: input.shards,
  });
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}

/**
 * Validates one date partition and writes its clean events as Parquet, one file per listener shard,
 * with report.json (the PartitionResult) last. Rows are checked by the fast path of the event schema
 * (rows it does not vouch for by zod, so every reject names file, line, field and reason). The folder
 * is keyed by content (cleanPartitionKey), so another shelf's run, or a re-run, over the same raw
 * files and catalog finds report.json and reuses the partition; a partition with future-timestamp
 * rejects is built again (those rows may be valid now).
 */
export async function buildPartitionFeatures(
  run: RunContext,
  plan: Pick<FeaturePlan, 'catalogUri' | 'usersUri' | 'cutoff'>,
  partition: PartitionRef,
  config: DataStepConfig,
): Promise<PartitionResult> {
  const shards = partition.shards ?? SERVING_STATE_SHARDS;
  const [rawObjects, catalogObjects] = await Promise.all([listObjects(partition.uri), listObjects(plan.catalogUri)]);
  const files = rawObjects.filter((o) => !o.key.endsWith('/'));
  if (files.length === 0) throw new InputError(`no files under ${partition.uri}`);
  const key = cleanPartitionKey({ raw: files, catalog: catalogObjects, rejectLimit: config.rejectLimit, shards });
  const { bucket } = parseS3Uri(run.featuresPrefix);
  const cleanUri = formatS3Uri(bucket, `${CLEAN_PREFIX}${key}/dt=${partition.dt}/`);
  const reportUri = joinS3Uri(cleanUri, 'report.json');
  const previous = await readCleanReport(reportUri);
  if (previous !== undefined && (previous.report.rejectedByReason['future-timestamp'] ?? 0) === 0) return { ...previous, reused: true };

  const knownItems = await knownItemsOf(plan, run, config, catalogObjects);
  const { bucket: rawBucket } = parseS3Uri(partition.uri);
  const batches: EventColumns[] = [];
  const rejects: Reject[] = [];
  const tally = new QualityTally(partition.uri);
  for (const file of files) {
    const result = await parseEventRecords(await getObjectBytes(formatS3Uri(rawBucket, file.key)), {
      file: file.key,
      knownItems,
      now: config.now(),
    });
    batches.push(result.events);
    for (const reject of result.rejects) rejects.push(reject);
    tally.read += result.tally.read;
    tally.accepted += result.tally.accepted;
    for (const [reason, n] of Object.entries(result.tally.byReason)) tally.byReason[reason] = (tally.byReason[reason] ?? 0) + n;
    for (const [reason, ex] of result.tally.examples) if (!tally.examples.has(reason)) tally.examples.set(reason, ex);
  }
  const report: QualityReport = tally.report();
  if (rejects.length > 0) {
    report.rejectsUri = joinS3Uri(cleanUri, 'rejects.jsonl');
    await putObjectBytes(report.rejectsUri, toJsonLines(rejects), 'application/x-ndjson');
  }
  checkRejectRate(report, config.rejectLimit, tally.examples);

  const events = concatEvents(batches);
  batches.length = 0;
  const split = splitByShard(events, shards);
  await Promise.all(
    split.map((part, k) =>
      putObjectBytes(joinS3Uri(cleanUri, shardFileName(k, shards)), encodeEventsParquet(part), 'application/vnd.apache.parquet'),
    ),
  );
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < events.length; i++) {
    const t = events.timestamp[i] as number;
    if (t < from) from = t;
    if (t > to) to = t;
  }
  const result: PartitionResult = {
    dt: partition.dt,
    cleanUri,
    shards,
    ...(events.length > 0 ? { from, to } : {}),
    report,
  };
  // Written last: its presence says every shard file is in place.
  await putObjectBytes(reportUri, JSON.stringify(result), 'application/json');
  return result;
}

async function readCleanReport(uri: string): Promise<PartitionResult | undefined> {
  // One GET, absent or not (a listing first was a second request for each partition of each shelf's run).
  const bytes = await getObjectBytesIfExists(uri);
  if (bytes === undefined) return undefined;
  const parsed = PartitionResultSchema.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8')));
  return parsed.success ? parsed.data : undefined;
}

/** The events of each listener shard (shardOf), each with its events' positions in the partition. */
function splitByShard(events: EventColumns, shards: number): PositionedEvents[] {
  const shardOfUser = new Map<string, number>();
  const assigned = new Uint8Array(events.length);
  const counts = new Int32Array(shards);
  for (let i = 0; i < events.length; i++) {
    const user = events.userId[i] as string;
    let k = shardOfUser.get(user);
    if (k === undefined) {
      k = shardOf(user, shards);
      shardOfUser.set(user, k);
    }
    assigned[i] = k;
    counts[k] = (counts[k] as number) + 1;
  }
  const rows = Array.from(counts, (n) => new Int32Array(n));
  const fill = new Int32Array(shards);
  for (let i = 0; i < events.length; i++) {
    const k = assigned[i] as number;
    const at = fill[k] as number;
    (rows[k] as Int32Array)[at] = i;
    fill[k] = at + 1;
  }
  return rows.map((row) => ({ events: selectEvents(events, row), row }));
}

/** Reads one events Parquet object. */
export async function readEventsObject(uri: string): Promise<PositionedEvents> {
  return decodeEventsParquet(await getObjectBytes(uri), uri);
}

/** Runs `tasks` with at most `limit` in flight. */
async function inParallel(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await (tasks[next++] as () => Promise<void>)();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

/** The rows of `part` whose time is in [from, to), with their positions. */
function timeSlice(part: PositionedEvents, from: number, to: number): PositionedEvents {
  const keep: number[] = [];
  for (let i = 0; i < part.events.length; i++) {
    const t = part.events.timestamp[i] as number;
    if (t >= from && t < to) keep.push(i);
  }
  return { events: selectEvents(part.events, keep), row: Int32Array.from(keep, (i) => part.row[i] as number) };
}

/**
 * Checks the run's data as a whole from its partitions' reports (never their events), splits it in
 * time per partition and writes the train and eval channels. A partition wholly before the cut-off
 * goes to train and one wholly in the test window to eval by server-side CopyObject of its shard
 * files (no event passes through this process); only a partition that straddles a boundary is read,
 * one shard file at a time, and split.
 */
export async function validateData(
  run: RunContext,
  plan: FeaturePlan,
  mapRun: MapRunResults,
  config: DataStepConfig,
): Promise<ValidatedData> {
  const { partitions, failed } = await readMapRunResults(mapRun);
  const catalog = await readCatalog(plan, run, config);
  const users = await readAll<User>(plan.usersUri, UserSchema, {}, config, joinS3Uri(run.featuresPrefix, 'rejects', 'users.jsonl'));
  const testDays = SHELF_CONFIG[run.shelf].testDays;
  const evalEnd = plan.cutoff + testDays * DAY;
  const windows = { train: { from: Number.NEGATIVE_INFINITY, to: plan.cutoff }, eval: { from: plan.cutoff, to: evalEnd } } as const;
  const counts = { train: 0, eval: 0 };
  const tasks: (() => Promise<void>)[] = [];
  for (const p of partitions) {
    if (p.from === undefined || p.to === undefined) continue;
    for (const window of ['train', 'eval'] as const) {
      const { from, to } = windows[window];
      if (p.to < from || p.from >= to) continue;
      const whole = p.from >= from && p.to < to;
      for (let k = 0; k < p.shards; k++) {
        const name = shardFileName(k, p.shards);
        const source = joinS3Uri(p.cleanUri, name);
        const target = joinS3Uri(run.featuresPrefix, window, CHANNEL_EVENTS_DIR, `dt=${p.dt}`, name);
        if (whole) {
          tasks.push(() => copyObject(source, target));
          if (k === 0) counts[window] += p.report.accepted;
        } else
          tasks.push(async () => {
            const part = timeSlice(await readEventsObject(source), from, to);
            counts[window] += part.events.length;
            await putObjectBytes(target, encodeEventsParquet(part), 'application/vnd.apache.parquet');
          });
      }
    }
  }
  // Straddling partitions read one shard file per task: memory stays one shard of one day per task in flight.
  await inParallel(tasks, 8);
  const rejected = partitions.reduce((s, p) => s + p.report.rejected, 0);
  const read = partitions.reduce((s, p) => s + p.report.read, 0);
  if (counts.train === 0)
    throw new DataQualityError(`no events before the cut-off ${new Date(plan.cutoff).toISOString()}: nothing to train on`);
  if (counts.eval === 0)
    throw new DataQualityError(
      `no events in the test window ${new Date(plan.cutoff).toISOString()} .. ${new Date(evalEnd).toISOString()}: nothing to evaluate on`,
    );
  const dataSnapshot = `${partitions[0]?.dt ?? ''}..${partitions[partitions.length - 1]?.dt ?? ''}#${(hashString(`${partitions.map((p) => `${p.dt}:${p.report.accepted}`).join(',')}|${plan.cutoff}`) >>> 0).toString(16)}`;
  const channel = async (window: 'train' | 'eval'): Promise<string> => {
    const prefix = prefixUri(run.featuresPrefix, window);
    const meta: ChannelMeta = {
      shelf: run.shelf,
      cutoff: plan.cutoff,
      testDays,
      dataSnapshot,
      transformVersion: TRANSFORM_VERSION,
      window,
    };
    if (window === 'train') {
      await putObjectBytes(joinS3Uri(prefix, CHANNEL_FILES.catalog), toJsonLines(catalog.rows));
      await putObjectBytes(joinS3Uri(prefix, CHANNEL_FILES.users), toJsonLines(users.rows));
    } else {
      // The same catalog and users: copied on the server, not serialized again (a million profiles are 157 MB).
      const train = prefixUri(run.featuresPrefix, 'train');
      await copyObject(joinS3Uri(train, CHANNEL_FILES.catalog), joinS3Uri(prefix, CHANNEL_FILES.catalog));
      await copyObject(joinS3Uri(train, CHANNEL_FILES.users), joinS3Uri(prefix, CHANNEL_FILES.users));
    }
    await putObjectBytes(joinS3Uri(prefix, CHANNEL_FILES.meta), JSON.stringify(meta, null, 2));
    return prefix;
  };
  const [trainUri, evalUri] = [await channel('train'), await channel('eval')];
  const qualityUri = joinS3Uri(run.featuresPrefix, 'quality.json');
  const quality = { failedPartitions: failed, reports: [catalog.report, users.report, ...partitions.map((p) => p.report)] };
  await putObjectBytes(qualityUri, JSON.stringify(quality, null, 2), 'application/json');
  return {
    dataSnapshot,
    transformVersion: TRANSFORM_VERSION,
    trainUri,
    evalUri,
    counts: {
      events: read,
      rejectedEvents: rejected,
      trainEvents: counts.train,
      evalEvents: counts.eval,
      items: catalog.rows.length,
      users: users.rows.length,
      partitions: partitions.length,
      failedPartitions: failed.length,
      reusedPartitions: partitions.filter((p) => p.reused === true).length,
    },
    qualityUri,
  };
}

/** A channel prefix downloaded to a temporary folder and opened (events decoded only when iterated); `close()` deletes the folder. */
export async function openChannel(uri: string): Promise<ChannelReader & { close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'shelves-channel-'));
  try {
    await downloadPrefix(uri, dir);
    const reader = await openChannelDir(dir);
    return { ...reader, forEachBatch: (fn) => reader.forEachBatch(fn), close: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Downloads a channel prefix and reads it. */
export async function fetchChannel(uri: string): Promise<ChannelData> {
  const dir = await mkdtemp(join(tmpdir(), 'shelves-channel-'));
  try {
    await downloadPrefix(uri, dir);
    return await readChannelDir(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
