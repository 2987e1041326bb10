/**
 * Online serving features in DynamoDB (USER_STATE_TABLE): per listener, the `batch` item the pipeline
 * writes in bulk at each run (profile, recent history, the time its data ends) and the `online` item
 * the events path appends plays to. Serving reads both with one Query on the listener's key, so a
 * serving container holds no user it is not answering and its memory does not grow with users.
 *
 * Two items, not one, so that the pipeline's bulk overwrite of `batch` never loses a play appended to
 * `online` meanwhile; plays older than the batch end are dropped when `online` is trimmed.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { User } from '../core/contract.ts';
import type { HistoryEvent } from '../core/models/recommender.ts';
import { MAX_SERVING_HISTORY, mergeServingHistory } from '../core/transforms/online-history.ts';
import { USER_STATE_TABLE } from '../wiring/resources.ts';
import { documentClient, isConditionFailure, tableNameFromEnv } from './registry.ts';

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

type Row = readonly [string, number, string, number, number, number];
const toRow = (e: HistoryEvent): Row => [e.itemId, e.ts, e.eventType, e.msPlayed, e.progress, e.localHour];
const fromRow = ([itemId, ts, eventType, msPlayed, progress, localHour]: Row): HistoryEvent => ({
  itemId,
  ts,
  eventType,
  msPlayed,
  progress,
  localHour,
});

/** BatchWriteItem takes at most 25 puts. */
const BATCH_WRITE_SIZE = 25;
/** Batch writes in flight at once per process. */
const WRITE_CONCURRENCY = 8;

export class UserStateStore {
  readonly tableName: string;

  constructor(tableName: string = tableNameFromEnv(USER_STATE_TABLE.env)) {
    this.tableName = tableName;
  }

  /** The listener's state, or undefined when neither the pipeline nor the events path has seen them. */
  async get(userId: string): Promise<UserState | undefined> {
    const out = await documentClient().send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': userId } }),
    );
    const items = out.Items ?? [];
    if (items.length === 0) return undefined;
    const batch = items.find((i) => i.sk === 'batch');
    const online = items.find((i) => i.sk === 'online');
    const batchHistory = batch ? (JSON.parse(batch.h as string) as Row[]).map(fromRow) : [];
    const onlineHistory = ((online?.ev as string[] | undefined) ?? []).map((s) => fromRow(JSON.parse(s) as Row));
    const history = mergeServingHistory(batchHistory, (batch?.batchEnd as number | undefined) ?? 0, onlineHistory);
    return { ...(batch?.profile ? { user: JSON.parse(batch.profile as string) as User } : {}), history };
  }

  /**
   * Writes the batch items of `states` (a run's shard of listeners), whose data ends at `batchEnd`
   * (epoch ms). Idempotent: a re-run writes the same items. Unprocessed items are retried with backoff.
   */
  async putBatch(states: readonly BatchUserState[], batchEnd: number, runId: string): Promise<number> {
    // Items are built a chunk at a time: a shard of 125,000 listeners' items at once was another copy
    // of every history as JSON text.
    const request = (s: BatchUserState) => ({
      PutRequest: {
        Item: {
          userId: s.userId,
          sk: 'batch',
          ...(s.user ? { profile: JSON.stringify(s.user) } : {}),
          h: JSON.stringify(s.history.slice(-MAX_SERVING_HISTORY).map(toRow)),
          batchEnd,
          runId,
        },
      },
    });
    type Request = ReturnType<typeof request>;
    const chunks = Math.ceil(states.length / BATCH_WRITE_SIZE);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks) {
        const from = next++ * BATCH_WRITE_SIZE;
        let pending: Request[] = states.slice(from, from + BATCH_WRITE_SIZE).map(request);
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 8) throw new Error(`user-state batch write: ${pending.length} items still unprocessed after ${attempt} attempts`);
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(2000, 25 * 2 ** attempt)));
          const out = await documentClient().send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
          pending = (out.UnprocessedItems?.[this.tableName] ?? []) as Request[];
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, chunks) }, worker));
    return states.length;
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
