/**
 * Promote and roll back, as people (CLI, admin API) and the canary monitor do them: one conditional
 * endpoint write, then the registry statuses and a decision event with its reason, so `shelves status`
 * shows every decision and why.
 */
import type { EndpointRecord, EndpointStore } from '../aws/endpoints.ts';
import type { ModelRegistry } from '../aws/registry.ts';
import type { Shelf } from '../core/contract.ts';
import { ConflictError } from '../core/errors.ts';

export interface EndpointActionDeps {
  readonly registry: ModelRegistry;
  readonly endpoints: EndpointStore;
  readonly now: () => Date;
}

export type EndpointAction = 'promote' | 'rollback';

/** Promotes the shelf's canary to live. */
export async function promote(shelf: Shelf, reason: string, deps: EndpointActionDeps, expectedRevision?: number): Promise<EndpointRecord> {
  const at = deps.now().toISOString();
  const before = await deps.endpoints.getEndpoint(shelf);
  const after = await deps.endpoints.promoteCanary(shelf, { at, ...(expectedRevision !== undefined ? { expectedRevision } : {}) });
  if (after.liveVersion !== null) await deps.registry.updateVersionStatus(shelf, after.liveVersion, 'live', `promoted: ${reason}`, at);
  if (before.liveVersion !== null)
    await deps.registry.updateVersionStatus(shelf, before.liveVersion, 'retired', `replaced by ${after.liveVersion}: ${reason}`, at);
  await deps.registry.appendEvent(shelf, { action: 'promote', version: after.liveVersion, reason, at, revision: after.revision });
  return after;
}

/** Staged rollout: the canary's share rises to `weight`; feedback for the new step counts from `stepSince`. */
export async function advance(
  shelf: Shelf,
  weight: number,
  stepSince: string,
  reason: string,
  deps: EndpointActionDeps,
  expectedRevision?: number,
): Promise<EndpointRecord> {
  const at = deps.now().toISOString();
  const after = await deps.endpoints.advanceCanary(shelf, weight, stepSince, {
    at,
    ...(expectedRevision !== undefined ? { expectedRevision } : {}),
  });
  await deps.registry.appendEvent(shelf, { action: 'rollout-advance', version: after.canaryVersion, reason, at, revision: after.revision });
  return after;
}

/**
 * Rolls back: the canary when there is one (all traffic returns to live), otherwise live goes back
 * to the previous version.
 */
export async function rollback(shelf: Shelf, reason: string, deps: EndpointActionDeps, expectedRevision?: number): Promise<EndpointRecord> {
  const at = deps.now().toISOString();
  const before = await deps.endpoints.getEndpoint(shelf);
  const options = { at, ...(expectedRevision !== undefined ? { expectedRevision } : {}) };
  if (before.canaryVersion !== null) {
    const after = await deps.endpoints.rollbackCanary(shelf, options);
    await deps.registry.updateVersionStatus(shelf, before.canaryVersion, 'rolled-back', reason, at);
    await deps.registry.appendEvent(shelf, {
      action: 'rollback-canary',
      version: before.canaryVersion,
      reason,
      at,
      revision: after.revision,
    });
    return after;
  }
  if (before.previousVersion === null)
    throw new ConflictError(
      `shelf ${shelf} has neither a canary nor a previous version to roll back to (live: ${before.liveVersion ?? 'none'})`,
    );
  const after = await deps.endpoints.rollbackLive(shelf, options);
  if (before.liveVersion !== null) await deps.registry.updateVersionStatus(shelf, before.liveVersion, 'rolled-back', reason, at);
  if (after.liveVersion !== null)
    await deps.registry.updateVersionStatus(shelf, after.liveVersion, 'live', `restored by rollback: ${reason}`, at);
  await deps.registry.appendEvent(shelf, { action: 'rollback-live', version: before.liveVersion, reason, at, revision: after.revision });
  return after;
}
