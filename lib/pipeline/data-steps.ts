/**
 * The pipeline's data steps: PlanFeatures (find the date partitions of the run's window and write their
 * list to S3), BuildPartitionFeatures (validate and clean one partition: a Distributed Map reads that list
 * and fans out over it, writing each partition's result to S3), ValidateData (read those results from
 * S3, check quality across the run, split in time, write the training and evaluation channels). No list
 * that grows with partitions passes through the state machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  getObjectBytes,
  joinS3Uri,
  listKeys,
  listObjects,
  parseS3Uri,
  formatS3Uri,
  putObjectBytes,
  downloadPrefix,
} from '../aws/s3-uri.ts';
import {
  CatalogItemSchema,
  DatasetManifestSchema,
  ListeningEventSchema,
  UserSchema,
  type CatalogItem,
  type ListeningEvent,
  type User,
} from '../core/contract.ts';
import { DataQualityError, InputError } from '../core/errors.ts';
import { TRANSFORM_VERSION } from '../core/transforms/version.ts';
import { hashString } from '../core/rng.ts';
import { DEFAULT_WINDOW_DAYS, SHELF_CONFIG } from '../core/shelf-settings.ts';
import { checkRejectRate, type Reject, type QualityReport } from '../core/validate.ts';
import { parseRecords } from '../io/records.ts';
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
} from '../wiring/pipeline.ts';
import { CHANNEL_FILES, readChannelDir, toJsonLines, type ChannelData, type ChannelMeta } from './channel.ts';

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

/**
 * Lists the date partitions under events/, fixes the cut-off, keeps the partitions of the run's window
 * (windowDays ending where the test window ends) and writes their list to S3 for BuildFeatures to read.
 */
export async function planFeatures(run: RunContext): Promise<FeaturePlan> {
  const eventsPrefix = prefixUri(run.rawPrefix, 'events');
  const keys = await listKeys(eventsPrefix);
  const { bucket } = parseS3Uri(run.rawPrefix);
  const dts = new Map<string, string>();
  for (const key of keys) {
    const m = /(^|\/)dt=(\d{4}-\d{2}-\d{2})\//.exec(key);
    if (m) dts.set(m[2] as string, formatS3Uri(bucket, key.slice(0, key.indexOf(`dt=${m[2]}/`) + `dt=${m[2]}/`.length)));
  }
  if (dts.size === 0) throw new InputError(`no date partitions (events/dt=YYYY-MM-DD/) under ${eventsPrefix}`);
  const all = [...dts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([dt, uri]) => ({ dt, uri }));
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

async function knownItemsOf(plan: Pick<FeaturePlan, 'catalogUri'>, run: RunContext, config: DataStepConfig): Promise<ReadonlySet<string>> {
  const listing = (await listObjects(plan.catalogUri)).map((o) => `${o.key}:${o.etag}:${o.size}`).join(',');
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

/** Validates one date partition: clean rows to the features bucket, rejects beside them with their reasons. */
export async function buildPartitionFeatures(
  run: RunContext,
  plan: Pick<FeaturePlan, 'catalogUri' | 'usersUri' | 'cutoff'>,
  partition: { dt: string; uri: string },
  config: DataStepConfig,
): Promise<PartitionResult> {
  const knownItems = await knownItemsOf(plan, run, config);
  const { rows, report } = await readAll<ListeningEvent>(
    partition.uri,
    ListeningEventSchema,
    { knownItems, now: config.now() },
    config,
    joinS3Uri(run.featuresPrefix, 'rejects', `dt=${partition.dt}.jsonl`),
  );
  const cleanUri = joinS3Uri(run.featuresPrefix, 'clean', `dt=${partition.dt}`, 'events.jsonl');
  await putObjectBytes(cleanUri, toJsonLines(rows), 'application/x-ndjson');
  return { dt: partition.dt, cleanUri, report };
}

/** Checks the run's data as a whole (its partitions' results read from S3), splits it in time, and writes the train and eval channels. */
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
  const train: ListeningEvent[] = [];
  const test: ListeningEvent[] = [];
  for (const p of partitions) {
    const text = Buffer.from(await getObjectBytes(p.cleanUri)).toString('utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const e = JSON.parse(line) as ListeningEvent;
      const ts = Date.parse(e.timestamp);
      if (ts < plan.cutoff) train.push(e);
      else if (ts < evalEnd) test.push(e);
    }
  }
  const rejected = partitions.reduce((s, p) => s + p.report.rejected, 0);
  const read = partitions.reduce((s, p) => s + p.report.read, 0);
  if (train.length === 0)
    throw new DataQualityError(`no events before the cut-off ${new Date(plan.cutoff).toISOString()}: nothing to train on`);
  if (test.length === 0)
    throw new DataQualityError(
      `no events in the test window ${new Date(plan.cutoff).toISOString()} .. ${new Date(evalEnd).toISOString()}: nothing to evaluate on`,
    );
  const dataSnapshot = `${partitions[0]?.dt ?? ''}..${partitions[partitions.length - 1]?.dt ?? ''}#${(hashString(`${partitions.map((p) => `${p.dt}:${p.report.accepted}`).join(',')}|${plan.cutoff}`) >>> 0).toString(16)}`;
  const channel = async (window: 'train' | 'eval', events: readonly ListeningEvent[]): Promise<string> => {
    const prefix = prefixUri(run.featuresPrefix, window);
    const meta: ChannelMeta = {
      shelf: run.shelf,
      cutoff: plan.cutoff,
      testDays,
      dataSnapshot,
      transformVersion: TRANSFORM_VERSION,
      window,
    };
    await putObjectBytes(joinS3Uri(prefix, CHANNEL_FILES.events), toJsonLines(events));
    await putObjectBytes(joinS3Uri(prefix, CHANNEL_FILES.catalog), toJsonLines(catalog.rows));
    await putObjectBytes(joinS3Uri(prefix, CHANNEL_FILES.users), toJsonLines(users.rows));
    await putObjectBytes(joinS3Uri(prefix, CHANNEL_FILES.meta), JSON.stringify(meta, null, 2));
    return prefix;
  };
  const [trainUri, evalUri] = [await channel('train', train), await channel('eval', test)];
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
      trainEvents: train.length,
      evalEvents: test.length,
      items: catalog.rows.length,
      users: users.rows.length,
      partitions: partitions.length,
      failedPartitions: failed.length,
    },
    qualityUri,
  };
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
