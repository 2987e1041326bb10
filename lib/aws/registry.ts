/**
 * The model registry in DynamoDB, single-table (see REGISTRY_TABLE): model versions, pipeline runs
 * and endpoint decision events of a shelf share its partition and differ by sort-key prefix.
 *
 * Every create is a single conditional write (dynalite has no transactions, and none is needed):
 * putting a version or beginning a run twice returns the record already there instead of a duplicate.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ShelfSchema, type Shelf } from '../core/contract.ts';
import { ConflictError, InputError } from '../core/errors.ts';
import { readEnv } from '../wiring/env.ts';
import { REGISTRY_TABLE, type TABLES } from '../wiring/resources.ts';
import { dynamoClient } from './clients.ts';

export const VERSION_STATUSES = ['evaluated', 'rejected', 'canary', 'live', 'retired', 'rolled-back'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

const IsoTime = z.iso.datetime({ offset: true });

export const ModelVersionSchema = z.strictObject({
  shelf: ShelfSchema,
  versionId: z.string().min(1),
  runId: z.string().min(1),
  /** Model kind, as in the artifact manifest (e.g. "item-knn", "popularity"). */
  kind: z.string().min(1),
  status: z.enum(VERSION_STATUSES),
  /** Why the status last changed (gate verdict, promotion, rollback). */
  statusReason: z.string().optional(),
  artifactUri: z.string(),
  reportUri: z.string(),
  metrics: z.record(z.string(), z.number()),
  decision: z.strictObject({ pass: z.boolean(), reasons: z.array(z.string()) }),
  dataSnapshot: z.string(),
  transformVersion: z.string(),
  createdAt: IsoTime,
  updatedAt: IsoTime.optional(),
});
export type ModelVersion = z.infer<typeof ModelVersionSchema>;

export const RUN_STATUSES = ['running', 'deployed', 'rejected', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const RunRecordSchema = z.strictObject({
  shelf: ShelfSchema,
  runId: z.string().min(1),
  status: z.enum(RUN_STATUSES),
  /** 1 on the first begin; a failed run begun again with the same id counts up. */
  attempt: z.number().int().positive(),
  startedAt: IsoTime,
  finishedAt: IsoTime.optional(),
  versionId: z.string().optional(),
  executionName: z.string().optional(),
  reason: z.string().optional(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

export const EndpointEventSchema = z.strictObject({
  shelf: ShelfSchema,
  /** What happened to the endpoint: deploy, canary, promote, rollback-canary, rollback-live, hold... */
  action: z.string().min(1),
  version: z.string().nullable(),
  reason: z.string(),
  at: IsoTime,
  /** Endpoint revision after the change, when there was one. */
  revision: z.number().int().optional(),
});
export type EndpointEvent = z.infer<typeof EndpointEventSchema>;

/**
 * The online outcome of a version in one period (a canary check or a rollout step) and one arm,
 * written by the canary monitor: exposures, plays and the play rate with its Wilson 95% interval.
 */
export const OnlineOutcomeSchema = z.strictObject({
  shelf: ShelfSchema,
  versionId: z.string().min(1),
  /** The arm the version served in: live or canary. */
  variant: z.enum(['live', 'canary']),
  /** The period's first served time (ISO, serving clock): one record per version, period and arm. */
  from: z.string(),
  /** The latest served time counted so far (the record grows while the period lasts). */
  to: z.string(),
  /** The canary's share of traffic during the period. */
  canaryWeight: z.number().min(0).max(1),
  impressions: z.number().int().nonnegative(),
  plays: z.number().int().nonnegative(),
  playRate: z.number().min(0).max(1),
  lo: z.number().min(0).max(1),
  hi: z.number().min(0).max(1),
  recordedAt: IsoTime,
});
export type OnlineOutcome = z.infer<typeof OnlineOutcomeSchema>;

/** A version with its offline metrics and every online outcome recorded for it (versionHistory). */
export interface VersionHistoryEntry {
  readonly version: ModelVersion;
  /** Per period and arm, oldest first. */
  readonly online: readonly OnlineOutcome[];
  /** All periods and arms together: impressions, plays, play rate (null before any exposure). */
  readonly onlineTotal: { readonly impressions: number; readonly plays: number; readonly playRate: number | null };
}

const SK = {
  version: (versionId: string) => `version#${versionId}`,
  // Under the version's own prefix, so one query of `version#` returns versions with their outcomes.
  online: (versionId: string, from: string, variant: string) => `version#${versionId}#online#${from}#${variant}`,
  run: (runId: string) => `run#${runId}`,
  event: (at: string, n: number) => `event#${at}#${String(n).padStart(4, '0')}`,
} as const;

const documentClients = new WeakMap<object, DynamoDBDocumentClient>();

/** A DocumentClient over the process-wide DynamoDB client (rebuilt after resetClients()). */
export function documentClient(): DynamoDBDocumentClient {
  const base = dynamoClient();
  let doc = documentClients.get(base);
  if (doc === undefined) {
    doc = DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
    documentClients.set(base, doc);
  }
  return doc;
}

/**
 * Reads a table name from the environment: lib/wiring/env.ts's one reader under the name the table
 * adapters already import (a ConfigError naming the variable when it is unset).
 */
export const tableNameFromEnv: (variable: Exclude<(typeof TABLES)[number]['env'], 'FEEDBACK_RATE_LIMIT_TABLE'>) => string = readEnv;

export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error instanceof Error && error.name === 'ConditionalCheckFailedException');
}

/** Reads and writes the registry table; the table name defaults to $REGISTRY_TABLE, read at construction. */
export class ModelRegistry {
  readonly tableName: string;

  constructor(tableName: string = tableNameFromEnv(REGISTRY_TABLE.env)) {
    this.tableName = tableName;
  }

  /** Records a version once: a second put of the same versionId returns the stored one (`created: false`). */
  async putVersion(version: ModelVersion): Promise<{ version: ModelVersion; created: boolean }> {
    const record = ModelVersionSchema.parse(version);
    try {
      await documentClient().send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...record, sk: SK.version(record.versionId), type: 'version' },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return { version: record, created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = await this.getVersion(record.shelf, record.versionId);
      if (existing === null) throw new ConflictError(`version ${record.versionId} of ${record.shelf} vanished while being created`);
      return { version: existing, created: false };
    }
  }

  async getVersion(shelf: Shelf, versionId: string): Promise<ModelVersion | null> {
    const item = await this.getItem(shelf, SK.version(versionId));
    return item === null ? null : ModelVersionSchema.parse(stripKeys(item));
  }

  /** Every version of a shelf, in versionId order. */
  async listVersions(shelf: Shelf): Promise<ModelVersion[]> {
    return (await this.queryPrefix(shelf, 'version#'))
      .filter((item) => item.type !== 'online')
      .map((item) => ModelVersionSchema.parse(stripKeys(item)));
  }

  /** Records (or updates, as the period grows) the online outcome of a version in one period and arm. */
  async putOnlineOutcome(outcome: OnlineOutcome): Promise<OnlineOutcome> {
    const record = OnlineOutcomeSchema.parse(outcome);
    await documentClient().send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...record, sk: SK.online(record.versionId, record.from, record.variant), type: 'online' },
      }),
    );
    return record;
  }

  /**
   * How each version of a shelf did, offline and online, from one query: the registered versions
   * (offline metrics, gate decision, status) in versionId order, each with its online outcomes per
   * period and arm and their total.
   */
  async versionHistory(shelf: Shelf): Promise<VersionHistoryEntry[]> {
    const items = await this.queryPrefix(shelf, 'version#');
    const online = new Map<string, OnlineOutcome[]>();
    for (const item of items.filter((i) => i.type === 'online')) {
      const o = OnlineOutcomeSchema.parse(stripKeys(item));
      (online.get(o.versionId) ?? online.set(o.versionId, []).get(o.versionId))?.push(o);
    }
    return items
      .filter((i) => i.type !== 'online')
      .map((item) => {
        const version = ModelVersionSchema.parse(stripKeys(item));
        const outcomes = (online.get(version.versionId) ?? []).sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
        const impressions = outcomes.reduce((s, o) => s + o.impressions, 0);
        const plays = outcomes.reduce((s, o) => s + o.plays, 0);
        return { version, online: outcomes, onlineTotal: { impressions, plays, playRate: impressions > 0 ? plays / impressions : null } };
      });
  }

  /** Sets a version's status with its reason; InputError when the version does not exist. */
  async updateVersionStatus(
    shelf: Shelf,
    versionId: string,
    status: VersionStatus,
    reason: string,
    at: string = new Date().toISOString(),
  ): Promise<ModelVersion> {
    try {
      const result = await documentClient().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { shelf, sk: SK.version(versionId) },
          UpdateExpression: 'SET #status = :status, statusReason = :reason, updatedAt = :at',
          ConditionExpression: 'attribute_exists(sk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': z.enum(VERSION_STATUSES).parse(status), ':reason': reason, ':at': at },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return ModelVersionSchema.parse(stripKeys(result.Attributes ?? {}));
    } catch (error) {
      if (isConditionFailure(error)) throw new InputError(`no version "${versionId}" registered for shelf ${shelf}`);
      throw error;
    }
  }

  /**
   * Begins a run once. Returns `created: false` with the stored record when the run already exists
   * and has not failed; a failed run begins again (attempt + 1), so a re-run can finish what failed.
   */
  async beginRun(
    shelf: Shelf,
    runId: string,
    details: { startedAt: string; versionId?: string; executionName?: string },
  ): Promise<{ run: RunRecord; created: boolean }> {
    const previous = await this.getRun(shelf, runId);
    const run = RunRecordSchema.parse({
      shelf,
      runId,
      status: 'running',
      attempt: (previous?.attempt ?? 0) + 1,
      startedAt: details.startedAt,
      versionId: details.versionId,
      executionName: details.executionName,
    });
    if (previous !== null && previous.status !== 'failed') return { run: previous, created: false };
    try {
      await documentClient().send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...run, sk: SK.run(runId), type: 'run' },
          // Either nobody created it, or it is still the failed attempt we read (not a concurrent restart).
          ConditionExpression: previous === null ? 'attribute_not_exists(sk)' : '#status = :failed AND attempt = :attempt',
          ...(previous === null
            ? {}
            : {
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':failed': 'failed', ':attempt': previous.attempt },
              }),
        }),
      );
      return { run, created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = await this.getRun(shelf, runId);
      if (existing === null) throw new ConflictError(`run ${runId} of ${shelf} vanished while being created`);
      return { run: existing, created: false };
    }
  }

  /** Marks a running run deployed or rejected; repeating the same completion is a no-op. */
  async completeRun(
    shelf: Shelf,
    runId: string,
    outcome: 'deployed' | 'rejected',
    reason: string,
    at: string = new Date().toISOString(),
  ): Promise<RunRecord> {
    return this.finishRun(shelf, runId, outcome, reason, at, false);
  }

  /** Marks a run failed with its reason; creates the record when the run failed before it began. */
  async failRun(shelf: Shelf, runId: string, reason: string, at: string = new Date().toISOString()): Promise<RunRecord> {
    return this.finishRun(shelf, runId, 'failed', reason, at, true);
  }

  async getRun(shelf: Shelf, runId: string): Promise<RunRecord | null> {
    const item = await this.getItem(shelf, SK.run(runId));
    return item === null ? null : RunRecordSchema.parse(stripKeys(item));
  }

  /** Every run of a shelf, in runId order. */
  async listRuns(shelf: Shelf): Promise<RunRecord[]> {
    return (await this.queryPrefix(shelf, 'run#')).map((item) => RunRecordSchema.parse(stripKeys(item)));
  }

  /** Appends an endpoint decision; events at the same instant keep their order of arrival. */
  async appendEvent(shelf: Shelf, event: Omit<EndpointEvent, 'shelf'>): Promise<EndpointEvent> {
    const record = EndpointEventSchema.parse({ ...event, shelf });
    for (let n = 0; n < 10_000; n++) {
      try {
        await documentClient().send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...record, sk: SK.event(record.at, n), type: 'event' },
            ConditionExpression: 'attribute_not_exists(sk)',
          }),
        );
        return record;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new ConflictError(`too many endpoint events for ${shelf} at ${record.at}`);
  }

  /** Endpoint decisions of a shelf, oldest first; `since` (ISO) keeps those at or after it. */
  async listEvents(shelf: Shelf, options: { since?: string } = {}): Promise<EndpointEvent[]> {
    const items = await this.queryPrefix(
      shelf,
      options.since === undefined ? 'event#' : undefined,
      options.since === undefined ? undefined : { from: `event#${options.since}`, to: 'event#\uffff' },
    );
    return items.map((item) => EndpointEventSchema.parse(stripKeys(item)));
  }

  private async finishRun(shelf: Shelf, runId: string, status: RunStatus, reason: string, at: string, upsert: boolean): Promise<RunRecord> {
    try {
      const result = await documentClient().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { shelf, sk: SK.run(runId) },
          UpdateExpression: upsert
            ? 'SET #status = :status, reason = :reason, finishedAt = :at, #type = :type, runId = :runId, attempt = if_not_exists(attempt, :one), startedAt = if_not_exists(startedAt, :at)'
            : 'SET #status = :status, reason = :reason, finishedAt = :at',
          ConditionExpression: upsert
            ? 'attribute_not_exists(sk) OR #status IN (:running, :status)'
            : 'attribute_exists(sk) AND #status IN (:running, :status)',
          ExpressionAttributeNames: { '#status': 'status', ...(upsert ? { '#type': 'type' } : {}) },
          ExpressionAttributeValues: {
            ':status': status,
            ':running': 'running',
            ':reason': reason,
            ':at': at,
            ...(upsert ? { ':type': 'run', ':runId': runId, ':one': 1 } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return RunRecordSchema.parse(stripKeys(result.Attributes ?? {}));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = await this.getRun(shelf, runId);
      if (existing === null) throw new InputError(`no run "${runId}" for shelf ${shelf}`);
      throw new ConflictError(`run ${runId} of ${shelf} is ${existing.status}, expected running (or already ${status})`);
    }
  }

  private async getItem(shelf: Shelf, sk: string): Promise<Record<string, unknown> | null> {
    const result = await documentClient().send(new GetCommand({ TableName: this.tableName, Key: { shelf, sk }, ConsistentRead: true }));
    return result.Item ?? null;
  }

  private async queryPrefix(
    shelf: Shelf,
    prefix: string | undefined,
    range?: { from: string; to: string },
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const input: QueryCommandInput = {
        TableName: this.tableName,
        KeyConditionExpression:
          range === undefined ? 'shelf = :shelf AND begins_with(sk, :prefix)' : 'shelf = :shelf AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues:
          range === undefined ? { ':shelf': shelf, ':prefix': prefix } : { ':shelf': shelf, ':from': range.from, ':to': range.to },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      };
      const page = await documentClient().send(new QueryCommand(input));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }
}

function stripKeys(item: Record<string, unknown>): Record<string, unknown> {
  const { sk: _sk, type: _type, ...rest } = item;
  return rest;
}
