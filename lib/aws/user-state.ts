/**
 * Online serving features in DynamoDB (USER_STATE_TABLE): per listener, the `batch` item the pipeline
 * writes in bulk at each run (profile, recent history, the time its data ends) and the `online` item
 * the events path appends plays to. Serving reads both with one BatchGetItem of the listener's two
 * keys, so a serving container holds no user it is not answering and its memory does not grow with users.
 *
 * Two items, not one, so that the pipeline's bulk overwrite of `batch` never loses a play appended to
 * `online` meanwhile; plays older than the batch end are dropped when `online` is trimmed.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  type AttributeValue,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { User } from '../core/contract.ts';
import { ConfigError } from '../core/errors.ts';
import type { HistoryEvent } from '../core/models/recommender.ts';
import { MAX_SERVING_HISTORY, mergeServingHistory } from '../core/transforms/online-history.ts';
import { USER_STATE_TABLE } from '../wiring/resources.ts';
import { dynamoClient } from './clients.ts';
import { documentClient, isConditionFailure, tableNameFromEnv } from './registry.ts';
import { readEnv } from '../wiring/env.ts';

/** What serving knows of a listener: the profile (absent for a listener only seen online) and history, oldest first. */
export interface UserState {
  readonly user?: User;
  readonly history: readonly HistoryEvent[];
}

/** One listener's batch record, as the pipeline writes it. */
export interface BatchUserState {
  readonly userId: string;
  readonly user?: User;
  /** Oldest first; the most recent MAX_SERVING_HISTORY are stored. */
  readonly history: readonly HistoryEvent[];
}

/** A history event as stored in the user-state items (a JSON array, not an object: a fifth of the bytes). */
export type Row = readonly [string, number, string, number, number, number];
const toRow = (e: HistoryEvent): Row => [e.itemId, e.ts, e.eventType, e.msPlayed, e.progress, e.localHour];
export const fromRow = ([itemId, ts, eventType, msPlayed, progress, localHour]: Row): HistoryEvent => ({
  itemId,
  ts,
  eventType,
  msPlayed,
  progress,
  localHour,
});

/** What get() reads of the two items (names, not words: DynamoDB reserves many). */
const GET_PROJECTION = {
  ProjectionExpression: '#sk, #profile, #h, #batchEnd, #ev',
  ExpressionAttributeNames: { '#sk': 'sk', '#profile': 'profile', '#h': 'h', '#batchEnd': 'batchEnd', '#ev': 'ev' },
} as const;
/** get()'s and putBatch()'s client, one per process-wide DynamoDB client (a new one after resetClients()). */
const cachedClients = new WeakMap<DynamoDBClient, DynamoDBClient>();

/**
 * The client get() and putBatch() send with: the process-wide client's settings (lib/aws/clients.ts)
 * plus the SDK's `cacheMiddleware`, which resolves a command's middleware stack once instead of on
 * every send (the largest share of the SDK's own time per read: p50 2.7 -> 1.5 ms on dynalite, loaded
 * machine). A client of its own because DocumentClient commands cannot share a cached stack.
 */
function cachedClient(): DynamoDBClient {
  const base = dynamoClient();
  let client = cachedClients.get(base);
  if (client === undefined) {
    const endpoint = readEnv('SHELVES_DYNAMODB_ENDPOINT');
    client = new DynamoDBClient({ ...(endpoint ? { endpoint, region: readEnv('AWS_REGION') } : {}), cacheMiddleware: true });
    cachedClients.set(base, client);
  }
  return client;
}

/** Times get() asks again for keys left unprocessed before it gives up. */
const GET_RETRIES = 4;

/** A listener's items still unprocessed after get()'s retries (sustained throttling). */
export class UserStateReadError extends Error {
  constructor(userId: string, unprocessed: number, attempts: number) {
    super(`user-state read of ${userId}: ${unprocessed} of 2 keys still unprocessed after ${attempts} attempts (expected 0)`);
    this.name = 'UserStateReadError';
  }
}

/** A shard's batch items still unprocessed after putBatch()'s retries (sustained throttling). */
export class UserStateWriteError extends Error {
  constructor(unprocessed: number, attempts: number) {
    super(`user-state batch write: ${unprocessed} items still unprocessed after ${attempts} attempts (expected 0)`);
    this.name = 'UserStateWriteError';
  }
}

/** The sort key of the pipeline's item, marshalled once. */
const BATCH_SK: AttributeValue = { S: 'batch' };
/** Times putBatch() sends a chunk's unprocessed items again before it gives up. */
const WRITE_RETRIES = 8;
/** BatchWriteItem takes at most 25 puts. */
const BATCH_WRITE_SIZE = 25;
/** Batch writes in flight at once per putBatch call (per shard task). */
const WRITE_CONCURRENCY = 8;

export interface UserStateStoreOptions {
  /** BatchWriteItem requests putBatch keeps in flight (default WRITE_CONCURRENCY). */
  readonly writeConcurrency?: number;
}

/**
 * Writes `items` as BatchWriteItem requests of 25 with `concurrency` requests in flight, and returns how
 * many items it wrote. The writers share one iterator and each takes the next 25 between its awaits, so a
 * generator never has more than the requests in flight in memory. `send` writes one request and returns
 * its unprocessed items, which are sent again with backoff (WRITE_RETRIES times, then UserStateWriteError).
 * Shared by putBatch and the bench's DocumentClient arm, so the two differ only in how a request is sent.
 */
export async function pumpBatchWrites<T, R>(
  items: Iterable<T>,
  toRequest: (item: T) => R,
  send: (requests: R[]) => Promise<R[]>,
  concurrency: number,
): Promise<number> {
  const source = items[Symbol.iterator]();
  let written = 0;
  const take = (): R[] => {
    const chunk: R[] = [];
    while (chunk.length < BATCH_WRITE_SIZE) {
      const next = source.next();
      if (next.done) break;
      chunk.push(toRequest(next.value));
    }
    written += chunk.length;
    return chunk;
  };
  const worker = async (): Promise<void> => {
    for (let pending = take(); pending.length > 0; pending = take()) {
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > WRITE_RETRIES) throw new UserStateWriteError(pending.length, attempt);
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(2000, 25 * 2 ** attempt)));
        pending = await send(pending);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return written;
}

export class UserStateStore {
  readonly tableName: string;
  private readonly writeConcurrency: number;

  constructor(tableName: string = tableNameFromEnv(USER_STATE_TABLE.env), options: UserStateStoreOptions = {}) {
    this.tableName = tableName;
    this.writeConcurrency = options.writeConcurrency ?? WRITE_CONCURRENCY;
    // Zero writers would write nothing and report 0 listeners as if the shard were empty.
    if (!Number.isInteger(this.writeConcurrency) || this.writeConcurrency < 1)
      throw new ConfigError(`UserStateStore writeConcurrency: received ${this.writeConcurrency}, expected an integer >= 1`);
  }

  /**
   * The listener's state, or undefined when neither the pipeline nor the events path has seen them.
   * One BatchGetItem of the two keys: one round trip, as the Query it replaces, but two point reads
   * (on dynalite a Query walks a LevelDB range iterator) of only the attributes serving reads. Sent by
   * cachedClient() (middleware resolved once, attributes decoded here): this read is on every home
   * request's path. Keys DynamoDB leaves unprocessed (throttling) are asked again.
   */
  async get(userId: string): Promise<UserState | undefined> {
    const client = cachedClient();
    let keys: Record<string, AttributeValue>[] = [
      { userId: { S: userId }, sk: { S: 'batch' } },
      { userId: { S: userId }, sk: { S: 'online' } },
    ];
    let batch: Record<string, AttributeValue> | undefined;
    let online: Record<string, AttributeValue> | undefined;
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt > 0) {
        if (attempt > GET_RETRIES) throw new UserStateReadError(userId, keys.length, attempt);
        await new Promise((r) => setTimeout(r, Math.min(200, 10 * 2 ** attempt)));
      }
      const out = await client.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ...GET_PROJECTION } } }));
      for (const item of out.Responses?.[this.tableName] ?? []) {
        if (item.sk?.S === 'batch') batch = item;
        else if (item.sk?.S === 'online') online = item;
      }
      keys = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    if (batch === undefined && online === undefined) return undefined;
    const batchHistory = batch?.h?.S === undefined ? [] : (JSON.parse(batch.h.S) as Row[]).map(fromRow);
    const onlineHistory = (online?.ev?.L ?? []).map((v) => fromRow(JSON.parse(v.S ?? 'null') as Row));
    const batchEnd = batch?.batchEnd?.N === undefined ? 0 : Number(batch.batchEnd.N);
    const history = mergeServingHistory(batchHistory, batchEnd, onlineHistory);
    const profile = batch?.profile?.S;
    return { ...(profile ? { user: JSON.parse(profile) as User } : {}), history };
  }

  /**
   * Writes the batch items of `states` (a run's shard of listeners), whose data ends at `batchEnd`
   * (epoch ms), and returns how many. `states` is pulled 25 at a time as writes complete, so a generator
   * never has a shard's states in memory at once. Idempotent: a re-run writes the same items.
   * Unprocessed items are retried with backoff.
   */
  async putBatch(states: Iterable<BatchUserState>, batchEnd: number, runId: string): Promise<number> {
    const client = cachedClient();
    const table = this.tableName;
    // Attributes marshalled here, not by the DocumentClient: the same item (S and N attributes) without
    // its generic marshalling pass, sent by the client whose middleware stack is resolved once.
    const end = { N: String(batchEnd) };
    const run = { S: runId };
    const request = (s: BatchUserState): WriteRequest => ({
      PutRequest: {
        Item: {
          userId: { S: s.userId },
          sk: BATCH_SK,
          ...(s.user ? { profile: { S: JSON.stringify(s.user) } } : {}),
          h: { S: JSON.stringify(s.history.slice(-MAX_SERVING_HISTORY).map(toRow)) },
          batchEnd: end,
          runId: run,
        },
      },
    });
    return pumpBatchWrites(
      states,
      request,
      async (pending) =>
        (await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }))).UnprocessedItems?.[table] ?? [],
      this.writeConcurrency,
    );
  }

  /**
   * Appends posted plays to the listener's online item. A full item is trimmed first (events before
   * the batch end go, then the oldest), guarded by a revision so two trims cannot lose each other's plays.
   */
  async appendOnline(userId: string, events: readonly HistoryEvent[]): Promise<void> {
    if (events.length === 0) return;
    const fresh = events.map((e) => JSON.stringify(toRow(e)));
    const client = documentClient();
    try {
      await client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { userId, sk: 'online' },
          UpdateExpression: 'SET ev = list_append(if_not_exists(ev, :empty), :new) ADD rev :one',
          ConditionExpression: 'attribute_not_exists(ev) OR size(ev) <= :room',
          ExpressionAttributeValues: { ':empty': [], ':new': fresh, ':one': 1, ':room': MAX_SERVING_HISTORY - fresh.length },
        }),
      );
      return;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const [online, batch] = await Promise.all([
        client.send(new GetCommand({ TableName: this.tableName, Key: { userId, sk: 'online' }, ConsistentRead: true })),
        client.send(new GetCommand({ TableName: this.tableName, Key: { userId, sk: 'batch' }, ProjectionExpression: 'batchEnd' })),
      ]);
      const batchEnd = (batch.Item?.batchEnd as number | undefined) ?? 0;
      const kept = ((online.Item?.ev as string[] | undefined) ?? []).filter((s) => (JSON.parse(s) as Row)[1] >= batchEnd);
      const ev = [...kept, ...fresh].slice(-MAX_SERVING_HISTORY);
      const rev = (online.Item?.rev as number | undefined) ?? 0;
      try {
        await client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { userId, sk: 'online', ev, rev: rev + 1 },
            ConditionExpression: 'attribute_not_exists(rev) OR rev = :rev',
            ExpressionAttributeValues: { ':rev': rev },
          }),
        );
        return;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new Error(`user-state: the online history of ${userId} kept changing during 5 trims`);
  }
}
