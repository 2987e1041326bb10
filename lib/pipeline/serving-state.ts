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

  const history = new Map<string, HistoryEvent[]>();
  for (const p of alreadyWritten ? [] : recent) {
    // Clean partitions were validated by BuildPartitionFeatures and split into listener shards: read
    // this task's shard file only (every shard file when they were split another way).
    const files = p.shards === shards ? [shard] : Array.from({ length: p.shards }, (_, k) => k);
    for (const k of files) {
      const { events } = await readEventsObject(joinS3Uri(p.cleanUri, shardFileName(k, p.shards)));
      for (let i = 0; i < events.length; i++) {
        const userId = events.userId[i] as string;
        if (p.shards !== shards && !mine(userId)) continue;
        const event: HistoryEvent = {
          itemId: events.itemId[i] as string,
          ts: events.timestamp[i] as number,
          eventType: events.eventType[i] as HistoryEvent['eventType'],
          msPlayed: events.msPlayed[i] as number,
          progress: events.progress[i] as number,
          localHour: events.localHour[i] as number,
        };
        (history.get(userId) ?? history.set(userId, []).get(userId))?.push(event);
      }
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
  const states: BatchUserState[] = [];
  for (const userId of new Set([...profiles.keys(), ...history.keys()])) {
    const events = (history.get(userId) ?? []).sort((a, b) => a.ts - b.ts).slice(-MAX_SERVING_HISTORY);
    const user = profiles.get(userId);
    states.push({ userId, ...(user ? { user } : {}), history: events });
  }
  if (!alreadyWritten) {
    await store.putBatch(states, batchEnd, run.runId);
    await putObjectBytes(marker, JSON.stringify({ runId: run.runId, users: states.length, batchEnd }), 'application/json');
  }

  let fallback: string | undefined;
  const baseline = input.baselines.baselines.find((b) => b.name === FALLBACK_BASELINE);
  if (shard === 0 && baseline) {
    fallback = formatS3Uri(bucket, `${PREFIXES.servingFallbacks}${run.shelf}/`);
    await writeArtifactUri(fallback, await readArtifactUri(baseline.uri));
  }
  // The compact catalog snapshot serving indexes (lib/pipeline/catalog-snapshot.ts), once per run.
  if (shard === 0) await writeCatalogSnapshot(plan.catalogUri, bucket, run.runId);
  return { shard, users: states.length, ...(fallback ? { fallback } : {}) };
}

/** The user files of the plan's users prefix (or the one file it names). */
async function userFiles(usersUri: string): Promise<string[]> {
  const { bucket } = parseS3Uri(usersUri);
  const keys = (await listKeys(usersUri)).filter((k) => !k.endsWith('/'));
  return keys.map((k) => formatS3Uri(bucket, k));
}
