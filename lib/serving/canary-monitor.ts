/**
 * The canary monitor (scheduled in AWS, `shelves monitor` locally): for each shelf with a canary, it
 * reads the feedback logged since the canary was deployed, compares play rates per variant with
 * intervals, and promotes or rolls back, recording why. Not enough data: it waits, and says so.
 */
import type { EndpointStore } from '../aws/endpoints.ts';
import type { ModelRegistry } from '../aws/registry.ts';
import { formatS3Uri, getObjectBytes, listKeys } from '../aws/s3-uri.ts';
import { SHELVES, type Shelf } from '../core/contract.ts';
import { decideCanary, DEFAULT_CANARY_POLICY, type ArmStats, type CanaryPolicy } from '../core/gate/canary.ts';
import { promote, rollback } from '../pipeline/endpoint-actions.ts';
import { PREFIXES } from '../wiring/resources.ts';
import type { FeedbackEvent } from '../api/schemas.ts';

import { notify } from '../aws/notify.ts';
export interface MonitorDeps {
  readonly registry: ModelRegistry;
  readonly endpoints: EndpointStore;
  readonly rawBucket: string;
  readonly now: () => Date;
  readonly policy?: CanaryPolicy;
}

export interface MonitorOutcome {
  readonly shelf: Shelf;
  readonly action: 'promote' | 'rollback' | 'wait' | 'none';
  readonly reason: string;
}

/**
 * Impressions and plays per variant of a shelf, over the same period for both arms: from the first
 * feedback that carries the canary's version on (the serving clock, not the deploy's, so a simulated
 * clock works the same).
 */
export async function armStats(
  rawBucket: string,
  shelf: Shelf,
  versions: { live: string; canary: string },
): Promise<{ live: ArmStats; canary: ArmStats }> {
  const events: FeedbackEvent[] = [];
  for (const key of await listKeys(formatS3Uri(rawBucket, PREFIXES.feedback))) {
    const text = Buffer.from(await getObjectBytes(formatS3Uri(rawBucket, key))).toString('utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const e = JSON.parse(line) as FeedbackEvent;
      if (e.shelf === shelf && (e.modelVersion === versions.canary || e.modelVersion === versions.live)) events.push(e);
    }
  }
  const since = events
    .filter((e) => e.modelVersion === versions.canary)
    .reduce((min, e) => (e.timestamp < min ? e.timestamp : min), '\uffff');
  const stats = { live: { impressions: 0, plays: 0 }, canary: { impressions: 0, plays: 0 } };
  for (const e of events) {
    if (e.timestamp < since) continue;
    const arm = e.modelVersion === versions.canary ? stats.canary : stats.live;
    if (e.eventType === 'impression') arm.impressions++;
    else if (e.eventType === 'play') arm.plays++;
  }
  return stats;
}

export async function monitorCanaries(deps: MonitorDeps): Promise<MonitorOutcome[]> {
  const outcomes: MonitorOutcome[] = [];
  for (const shelf of SHELVES) {
    const endpoint = await deps.endpoints.getEndpoint(shelf);
    if (endpoint.canaryVersion === null || endpoint.liveVersion === null) {
      outcomes.push({ shelf, action: 'none', reason: 'no canary' });
      continue;
    }
    const { live, canary } = await armStats(deps.rawBucket, shelf, { live: endpoint.liveVersion, canary: endpoint.canaryVersion });
    let decision;
    try {
      decision = decideCanary(live, canary, deps.policy ?? DEFAULT_CANARY_POLICY);
    } catch (error) {
      // Inconsistent feedback (more plays than impressions) decides nothing; the other shelves go on.
      outcomes.push({ shelf, action: 'wait', reason: `canary monitor: ${(error as Error).message}` });
      continue;
    }
    const reason = `canary monitor: ${decision.reason}`;
    if (decision.action === 'promote') await promote(shelf, reason, deps, endpoint.revision);
    else if (decision.action === 'rollback') {
      await rollback(shelf, reason, deps, endpoint.revision);
      await notify({ subject: `home-shelves: ${shelf} canary ${endpoint.canaryVersion} rolled back`, message: reason });
    }
    outcomes.push({ shelf, action: decision.action, reason });
  }
  return outcomes;
}
