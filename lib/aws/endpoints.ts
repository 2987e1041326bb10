/**
 * Serving endpoints in DynamoDB: one record per shelf with the live, canary and previous versions.
 *
 * Every change is read-modify-write guarded by one conditional write on `revision` (optimistic
 * concurrency): when two deploys race for the same endpoint exactly one wins and the other gets a
 * ConflictError. The transitions themselves are pure functions, exported for tests and dry runs.
 */
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ShelfSchema, type Shelf } from '../core/contract.ts';
import { ConflictError } from '../core/errors.ts';
import { ENDPOINTS_TABLE } from '../wiring/resources.ts';
import { documentClient, isConditionFailure, tableNameFromEnv } from './registry.ts';

export const EndpointRecordSchema = z.strictObject({
  shelf: ShelfSchema,
  liveVersion: z.string().nullable(),
  canaryVersion: z.string().nullable(),
  /** Share of requests served by the canary, 0..1; 0 when there is no canary. */
  canaryWeight: z.number().min(0).max(1),
  /** The live version before the last promotion or first deploy; what rollbackLive restores. */
  previousVersion: z.string().nullable(),
  /** 0 before the first write; +1 on every change. */
  revision: z.number().int().nonnegative(),
  updatedAt: z.string(),
  /** Staged rollout: steps the canary has advanced since its deploy (0 = at its deploy weight). */
  rolloutStep: z.number().int().nonnegative().optional(),
  /**
   * Staged rollout: the serving-clock time (ISO) from which feedback counts for the current step; the
   * latest served time the monitor had seen when it advanced (so a simulated clock works the same).
   */
  stepSince: z.string().optional(),
});
export type EndpointRecord = z.infer<typeof EndpointRecordSchema>;

export interface ChangeOptions {
  /** The revision the caller decided on; default: the one just read. A mismatch is a ConflictError. */
  readonly expectedRevision?: number;
  /** ISO time of the change; default now. */
  readonly at?: string;
}

/** The record of a shelf that has never been deployed (revision 0, nothing stored). */
export function emptyEndpoint(shelf: Shelf): EndpointRecord {
  return {
    shelf,
    liveVersion: null,
    canaryVersion: null,
    canaryWeight: 0,
    previousVersion: null,
    revision: 0,
    updatedAt: new Date(0).toISOString(),
  };
}

/** Deploying a candidate: with no live version it goes live; otherwise it becomes the canary at `canaryWeight`. */
export function applyDeploy(
  current: EndpointRecord,
  version: string,
  canaryWeight: number,
): Omit<EndpointRecord, 'revision' | 'updatedAt'> {
  const { rolloutStep: _step, stepSince: _since, ...rest } = current;
  if (current.liveVersion === null) return { ...rest, liveVersion: version, canaryVersion: null, canaryWeight: 0 };
  if (!(canaryWeight > 0 && canaryWeight < 1))
    throw new ConflictError(`canaryWeight must be between 0 and 1 (exclusive), got ${canaryWeight}`);
  return { ...rest, canaryVersion: version, canaryWeight, rolloutStep: 0 };
}

/** Staged rollout: the canary moves to the next step's weight; feedback for that step counts from `stepSince`. */
export function applyAdvance(
  current: EndpointRecord,
  canaryWeight: number,
  stepSince: string,
): Omit<EndpointRecord, 'revision' | 'updatedAt'> {
  if (current.canaryVersion === null)
    throw new ConflictError(`endpoint ${current.shelf} has no canary to advance (revision ${current.revision})`);
  if (!(canaryWeight > current.canaryWeight && canaryWeight < 1))
    throw new ConflictError(
      `endpoint ${current.shelf}: a rollout step must raise the canary weight ${current.canaryWeight} and stay under 1 (promotion takes it to 1), got ${canaryWeight}`,
    );
  return { ...current, canaryWeight, rolloutStep: (current.rolloutStep ?? 0) + 1, stepSince };
}

/** Clears the rollout fields (the canary is gone). */
function withoutRollout(record: Omit<EndpointRecord, 'revision' | 'updatedAt'>): Omit<EndpointRecord, 'revision' | 'updatedAt'> {
  const { rolloutStep: _step, stepSince: _since, ...rest } = record;
  return rest;
}

/** Promoting: the canary goes live and the old live becomes previous. */
export function applyPromote(current: EndpointRecord): Omit<EndpointRecord, 'revision' | 'updatedAt'> {
  if (current.canaryVersion === null)
    throw new ConflictError(`endpoint ${current.shelf} has no canary to promote (revision ${current.revision})`);
  return withoutRollout({
    ...current,
    previousVersion: current.liveVersion,
    liveVersion: current.canaryVersion,
    canaryVersion: null,
    canaryWeight: 0,
  });
}

/** Rolling back the canary: all traffic returns to live. */
export function applyRollbackCanary(current: EndpointRecord): Omit<EndpointRecord, 'revision' | 'updatedAt'> {
  if (current.canaryVersion === null)
    throw new ConflictError(`endpoint ${current.shelf} has no canary to roll back (revision ${current.revision})`);
  return withoutRollout({ ...current, canaryVersion: null, canaryWeight: 0 });
}

/** Rolling back live: the previous version serves again; the canary, if any, stays. */
export function applyRollbackLive(current: EndpointRecord): Omit<EndpointRecord, 'revision' | 'updatedAt'> {
  if (current.previousVersion === null)
    throw new ConflictError(`endpoint ${current.shelf} has no previous version to roll back to (live ${current.liveVersion ?? 'none'})`);
  return { ...current, liveVersion: current.previousVersion, previousVersion: null };
}

/** Reads and changes the endpoints table; the table name defaults to $ENDPOINTS_TABLE, read at construction. */
export class EndpointStore {
  readonly tableName: string;

  constructor(tableName: string = tableNameFromEnv(ENDPOINTS_TABLE.env)) {
    this.tableName = tableName;
  }

  /** The shelf's record, or the empty one (revision 0) when it was never deployed. */
  async getEndpoint(shelf: Shelf): Promise<EndpointRecord> {
    const result = await documentClient().send(new GetCommand({ TableName: this.tableName, Key: { shelf }, ConsistentRead: true }));
    return result.Item === undefined ? emptyEndpoint(shelf) : EndpointRecordSchema.parse(result.Item);
  }

  /** Every stored endpoint, by shelf name. */
  async listEndpoints(): Promise<EndpointRecord[]> {
    const items: EndpointRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documentClient().send(
        new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
      );
      for (const item of page.Items ?? []) items.push(EndpointRecordSchema.parse(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items.sort((a, b) => a.shelf.localeCompare(b.shelf));
  }

  /**
   * Deploys a version: live when the shelf has none, else canary. Deploying the version that is
   * already live or canary changes nothing (a retried deploy), whatever the revision.
   */
  async deployCandidate(
    shelf: Shelf,
    version: string,
    options: ChangeOptions & { readonly canaryWeight: number },
  ): Promise<EndpointRecord> {
    const current = await this.getEndpoint(shelf);
    if (current.liveVersion === version || current.canaryVersion === version) return current;
    return this.change(current, applyDeploy(current, version, options.canaryWeight), options);
  }

  async promoteCanary(shelf: Shelf, options: ChangeOptions = {}): Promise<EndpointRecord> {
    const current = await this.getEndpoint(shelf);
    checkRevision(current, options.expectedRevision);
    return this.change(current, applyPromote(current), options);
  }

  /** Staged rollout: raises the canary's weight to the next step (conditional on the revision, like every change). */
  async advanceCanary(shelf: Shelf, canaryWeight: number, stepSince: string, options: ChangeOptions = {}): Promise<EndpointRecord> {
    const current = await this.getEndpoint(shelf);
    checkRevision(current, options.expectedRevision);
    return this.change(current, applyAdvance(current, canaryWeight, stepSince), options);
  }

  async rollbackCanary(shelf: Shelf, options: ChangeOptions = {}): Promise<EndpointRecord> {
    const current = await this.getEndpoint(shelf);
    checkRevision(current, options.expectedRevision);
    return this.change(current, applyRollbackCanary(current), options);
  }

  async rollbackLive(shelf: Shelf, options: ChangeOptions = {}): Promise<EndpointRecord> {
    const current = await this.getEndpoint(shelf);
    checkRevision(current, options.expectedRevision);
    return this.change(current, applyRollbackLive(current), options);
  }

  /** Writes `next` only if the stored revision is still the one read (or expected). */
  private async change(
    current: EndpointRecord,
    next: Omit<EndpointRecord, 'revision' | 'updatedAt'>,
    options: ChangeOptions,
  ): Promise<EndpointRecord> {
    checkRevision(current, options.expectedRevision);
    const record = EndpointRecordSchema.parse({
      ...next,
      revision: current.revision + 1,
      updatedAt: options.at ?? new Date().toISOString(),
    });
    try {
      await documentClient().send(
        new PutCommand({
          TableName: this.tableName,
          Item: record,
          ...(current.revision === 0
            ? { ConditionExpression: 'attribute_not_exists(shelf)' }
            : { ConditionExpression: 'revision = :expected', ExpressionAttributeValues: { ':expected': current.revision } }),
        }),
      );
      return record;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const now = await this.getEndpoint(current.shelf);
      throw new ConflictError(`endpoint ${current.shelf} changed meanwhile: expected revision ${current.revision}, found ${now.revision}`);
    }
  }
}

function checkRevision(current: EndpointRecord, expected: number | undefined): void {
  if (expected !== undefined && expected !== current.revision) {
    throw new ConflictError(`endpoint ${current.shelf} is at revision ${current.revision}, expected ${expected}`);
  }
}
