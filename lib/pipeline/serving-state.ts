/**
 * PublishServingState: what serving reads at request time, written by every run.
 * - The online user state (lib/aws/user-state.ts): each listener's profile and recent history, one
 *   shard of listeners per task (the state machine maps over shards), so no task holds every listener;
 * - the shelf's fallback heuristic (this run's segment-popularity baseline) at a stable key, so serving
 *   never rebuilds a heuristic from raw history.
 * Idempotent: a re-run of the same run writes the same items and objects.
 */
import { formatS3Uri, joinS3Uri, listKeys, parseS3Uri, putObjectBytes } from '../aws/s3-uri.ts';
import type { UserStateStore, BatchUserState } from '../aws/user-state.ts';
import { UserSchema, type User } from '../core/contract.ts';
import type { HistoryEvent } from '../core/models/recommender.ts';
import { hashString } from '../core/rng.ts';
import { MAX_SERVING_HISTORY } from '../core/transforms/online-history.ts';
import type { EventColumns } from '../io/event-columns.ts';
import { streamRecords } from '../io/records.ts';
import type { BaselinesResult, FeaturePlan, MapRunResults, RunContext } from '../wiring/pipeline.ts';
import { PREFIXES } from '../wiring/resources.ts';
import { readArtifactUri, writeArtifactUri } from './artifact-store.ts';
import { readEventsObject, readMapRunResults } from './data-steps.ts';
import { shardFileName } from './channel.ts';
import { writeCatalogSnapshot } from './catalog-snapshot.ts';

const DAY = 86_400_000;

/** Days of listening the serving history covers (the Shortcuts window is shorter). */
export const SERVING_HISTORY_DAYS = 28;

/** The baseline each shelf falls back to when its model cannot serve. */
export const FALLBACK_BASELINE = 'popularity-segment';

export interface ServingStateInput {
  readonly run: RunContext;
  readonly plan: FeaturePlan;
  readonly partitions: MapRunResults;
  readonly baselines: BaselinesResult;
  /** This task's shard, 0 <= shard < shards; listeners are assigned by a hash of their id. */
  readonly shard: number;
  readonly shards: number;
}

export interface ServingStateResult {
  readonly shard: number;
  /** Listeners written by this task (0 when this data's shard was already written). */
  readonly users: number;
  readonly fallback?: string;
}

/** The shard of a listener among `shards`. */
export function shardOf(userId: string, shards: number): number {
  return (hashString(userId) >>> 0) % shards;
}

/**
 * The files of a partition split into `fileShards` listener shards that hold the listeners of `shard`
 * among `shards`, and whether their events must be filtered by listener. shardOf is a hash modulo the
 * count, so when one count divides the other the shards nest: with more files than shards, this shard
 * is exactly the files k with k mod shards = shard; with fewer, it is part of file shard mod fileShards.
 */
export function shardFilesOf(shard: number, shards: number, fileShards: number): { files: number[]; filter: boolean } {
  if (fileShards % shards === 0) return { files: Array.from({ length: fileShards / shards }, (_, i) => shard + i * shards), filter: false };
  if (shards % fileShards === 0) return { files: [shard % fileShards], filter: true };
  return { files: Array.from({ length: fileShards }, (_, k) => k), filter: true };
}

/** Writes one shard of the user state (and, from shard 0, the shelf's fallback). */
export async function publishServingState(input: ServingStateInput, store: UserStateStore): Promise<ServingStateResult> {
  const { run, plan, shard, shards } = input;
  const mine = (userId: string) => shardOf(userId, shards) === shard;
  const { partitions } = await readMapRunResults(input.partitions);
  const last = partitions.at(-1)?.dt;
  const batchEnd = last === undefined ? plan.cutoff : Date.parse(`${last}T00:00:00Z`) + DAY;
  const since = new Date(batchEnd - SERVING_HISTORY_DAYS * DAY).toISOString().slice(0, 10);

  const recent = partitions.filter((p) => p.dt >= since);
  // The same data gives the same user state: a shard another shelf's run already wrote for this data
  // is not written again (every shelf's run publishes, so serving never waits for one shelf).
  const { bucket } = parseS3Uri(run.artifactsPrefix);
  const dataKey = (hashString(recent.map((p) => `${p.dt}:${p.report.accepted}`).join(',')) >>> 0).toString(16);
  const marker = formatS3Uri(bucket, `${PREFIXES.servingUserState}${last ?? 'none'}-${dataKey}/shard-${shard}-of-${shards}.done`);
  // A run whose data ends earlier than a batch already published (a backtest with an earlier cut-off,
  // or a late re-run) must not overwrite newer listener state with older: it writes nothing.
  const newerLive = (await listKeys(formatS3Uri(bucket, PREFIXES.servingUserState))).some((key) => {
    const published = /^(\d{4}-\d{2}-\d{2})-/.exec(key.slice(PREFIXES.servingUserState.length))?.[1];
    return published !== undefined && last !== undefined && published > last;
  });
  const alreadyWritten = newerLive || (await listKeys(marker)).length > 0;

  const history = new ShardHistory();
  for (const p of alreadyWritten ? [] : recent) {
    // Clean partitions were validated by BuildPartitionFeatures and split into listener shards: read
    // the files that hold this task's listeners only.
    const { files, filter } = shardFilesOf(shard, shards, p.shards);
    for (const k of files) {
      const { events } = await readEventsObject(joinS3Uri(p.cleanUri, shardFileName(k, p.shards)));
      history.add(events, filter ? mine : undefined);
    }
  }
  const profiles = new Map<string, User>();
  for (const uri of alreadyWritten ? [] : await userFiles(plan.usersUri)) {
    // Streamed, and only this shard's listeners validated and kept: eight tasks each holding the whole
    // file and every profile took +5 GB at a million listeners. A row without a string userId is
    // validated (and rejected by its line), never skipped unseen.
    const stream = streamRecords<User>(uri, UserSchema, {
      keepRecord: (r) => typeof r.userId !== 'string' || mine(r.userId),
    });
    for await (const u of stream) if (mine(u.userId)) profiles.set(u.userId, u);
  }
  let users = 0;
  if (!alreadyWritten) {
    users = await store.putBatch(history.states(profiles), batchEnd, run.runId);
    await putObjectBytes(marker, JSON.stringify({ runId: run.runId, users, batchEnd }), 'application/json');
  }

  let fallback: string | undefined;
  const baseline = input.baselines.baselines.find((b) => b.name === FALLBACK_BASELINE);
  if (shard === 0 && baseline) {
    fallback = formatS3Uri(bucket, `${PREFIXES.servingFallbacks}${run.shelf}/`);
    await writeArtifactUri(fallback, await readArtifactUri(baseline.uri));
  }
  // The compact catalog snapshot serving indexes (lib/pipeline/catalog-snapshot.ts), once per run.
  if (shard === 0) await writeCatalogSnapshot(plan.catalogUri, bucket, run.runId);
  return { shard, users, ...(fallback ? { fallback } : {}) };
}

/**
 * One shard's listening history as columns grouped by listener: at a million listeners the eight
 * shard tasks (one process locally) held 15M event objects and 2.5 GB of heap, and the collector took a
 * quarter of the step. Events are kept as a listener number and typed columns; each listener's
 * `HistoryEvent`s exist only while their item is written.
 */
export class ShardHistory {
  private readonly listeners = new Map<string, number>();
  private readonly ids: string[] = [];
  private n = 0;
  private listener = new Int32Array(1024);
  private ts = new Float64Array(1024);
  private msPlayed = new Float64Array(1024);
  private progress = new Float64Array(1024);
  private localHour = new Uint8Array(1024);
  private readonly itemId: string[] = [];
  private readonly eventType: HistoryEvent['eventType'][] = [];

  /** Appends a file's events (those whose listener `keep` accepts), in file order. */
  add(events: EventColumns, keep?: (userId: string) => boolean): void {
    this.reserve(this.n + events.length);
    for (let i = 0; i < events.length; i++) {
      const userId = events.userId[i] as string;
      let u = this.listeners.get(userId);
      if (u === undefined) {
        if (keep !== undefined && !keep(userId)) continue;
        u = this.ids.length;
        this.listeners.set(userId, u);
        this.ids.push(userId);
      }
      const at = this.n++;
      this.listener[at] = u;
      this.ts[at] = events.timestamp[i] as number;
      this.msPlayed[at] = events.msPlayed[i] as number;
      this.progress[at] = events.progress[i] as number;
      this.localHour[at] = events.localHour[i] as number;
      this.itemId[at] = events.itemId[i] as string;
      this.eventType[at] = events.eventType[i] as HistoryEvent['eventType'];
    }
  }

  /**
   * Every listener with a profile or a history (profiles first), each with their most recent
   * MAX_SERVING_HISTORY events oldest first (ties in time keep the order they were read in).
   */
  *states(profiles: ReadonlyMap<string, User>): Generator<BatchUserState> {
    // Events grouped by listener with a counting sort that keeps the read order within each.
    const count = this.ids.length;
    const start = new Int32Array(count + 1);
    for (let i = 0; i < this.n; i++) {
      const k = (this.listener[i] as number) + 1;
      start[k] = (start[k] as number) + 1;
    }
    for (let u = 0; u < count; u++) start[u + 1] = (start[u + 1] as number) + (start[u] as number);
    const order = new Int32Array(this.n);
    const fill = start.slice(0, count);
    for (let i = 0; i < this.n; i++) {
      const u = this.listener[i] as number;
      const at = fill[u] as number;
      order[at] = i;
      fill[u] = at + 1;
    }
    const historyOf = (u: number): HistoryEvent[] => {
      const mine = Array.from(order.subarray(start[u] as number, start[u + 1] as number));
      mine.sort((a, b) => (this.ts[a] as number) - (this.ts[b] as number));
      return mine.slice(-MAX_SERVING_HISTORY).map((i) => ({
        itemId: this.itemId[i] as string,
        ts: this.ts[i] as number,
        eventType: this.eventType[i] as HistoryEvent['eventType'],
        msPlayed: this.msPlayed[i] as number,
        progress: this.progress[i] as number,
        localHour: this.localHour[i] as number,
      }));
    };
    for (const [userId, user] of profiles) {
      const u = this.listeners.get(userId);
      yield { userId, user, history: u === undefined ? [] : historyOf(u) };
    }
    for (let u = 0; u < count; u++) {
      const userId = this.ids[u] as string;
      if (!profiles.has(userId)) yield { userId, history: historyOf(u) };
    }
  }

  private reserve(size: number): void {
    if (size <= this.listener.length) return;
    let capacity = this.listener.length;
    while (capacity < size) capacity *= 2;
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(from: T, to: T): T => {
      to.set(from.subarray(0, this.n));
      return to;
    };
    this.listener = grow(this.listener, new Int32Array(capacity));
    this.ts = grow(this.ts, new Float64Array(capacity));
    this.msPlayed = grow(this.msPlayed, new Float64Array(capacity));
    this.progress = grow(this.progress, new Float64Array(capacity));
    this.localHour = grow(this.localHour, new Uint8Array(capacity));
  }
}

/** The user files of the plan's users prefix (or the one file it names). */
async function userFiles(usersUri: string): Promise<string[]> {
  const { bucket } = parseS3Uri(usersUri);
  const keys = (await listKeys(usersUri)).filter((k) => !k.endsWith('/'));
  return keys.map((k) => formatS3Uri(bucket, k));
}
