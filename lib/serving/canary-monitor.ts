/**
 * The canary monitor (scheduled in AWS, `shelves monitor` locally): for each shelf with a canary, it
 * reads the feedback logged since the canary was deployed, compares play rates per variant with
 * intervals, and promotes or rolls back, recording why. Not enough data: it waits, and says so.
 */
import type { EndpointRecord, EndpointStore } from '../aws/endpoints.ts';
import type { ModelRegistry } from '../aws/registry.ts';
import { SHELVES, type Shelf } from '../core/contract.ts';
import { decideCanary, DEFAULT_CANARY_POLICY, wilson, type ArmStats, type CanaryPolicy } from '../core/gate/canary.ts';
import {
  canaryArmStats,
  DEFAULT_FEEDBACK_MATCH_POLICY,
  indexServed,
  matchFeedback,
  type FeedbackMatchPolicy,
} from '../core/gate/feedback-match.ts';
import { decideRolloutStep, type RolloutPolicy } from '../core/gate/rollout.ts';
import { advance, promote, rollback } from '../pipeline/endpoint-actions.ts';
import { notify } from '../aws/notify.ts';
import { readFeedbackLog } from './feedback-log.ts';

export interface MonitorDeps {
  readonly registry: ModelRegistry;
  readonly endpoints: EndpointStore;
  readonly rawBucket: string;
  readonly now: () => Date;
  readonly policy?: CanaryPolicy;
  /**
   * Staged rollout (lib/core/gate/rollout.ts): when given, a canary climbs these steps with a powered
   * check at each; without it, one check promotes or rolls back the canary at its deploy weight.
   */
  readonly rollout?: RolloutPolicy;
}

export interface MonitorOutcome {
  readonly shelf: Shelf;
  readonly action: 'promote' | 'rollback' | 'wait' | 'none' | 'advance' | 'hold';
  readonly reason: string;
}

/**
 * Impressions and plays per variant of a shelf, over the same period for both arms: from the first
 * canary response with counted feedback on (the serving clock, not the deploy's, so a simulated clock
 * works the same). Only feedback that matches a logged response counts (lib/core/gate/feedback-match.ts),
 * and its arm is the one the log recorded, not the one the client claims.
 */
export async function armStats(
  rawBucket: string,
  shelf: Shelf,
  versions: { live: string; canary: string },
  matchPolicy: FeedbackMatchPolicy = DEFAULT_FEEDBACK_MATCH_POLICY,
): Promise<{ live: ArmStats; canary: ArmStats }> {
  const log = await readFeedbackLog(rawBucket, shelf);
  const { counted } = matchFeedback(log.events, indexServed(log.served), matchPolicy);
  return canaryArmStats(counted, shelf, versions);
}

export async function monitorCanaries(deps: MonitorDeps): Promise<MonitorOutcome[]> {
  const outcomes: MonitorOutcome[] = [];
  for (const shelf of SHELVES) {
    const endpoint = await deps.endpoints.getEndpoint(shelf);
    if (endpoint.canaryVersion === null || endpoint.liveVersion === null) {
      outcomes.push({ shelf, action: 'none', reason: 'no canary' });
      continue;
    }
    if (deps.rollout !== undefined) {
      outcomes.push(await stepRollout(shelf, endpoint, deps, deps.rollout));
      continue;
    }
    const { live, canary } = await armStats(deps.rawBucket, shelf, { live: endpoint.liveVersion, canary: endpoint.canaryVersion });
    await recordOnline(deps, endpoint, { live, canary }, deps.now().toISOString());
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

/**
 * Records both arms' online outcome for the endpoint's current period (from its last change, which is
 * the deploy or the last rollout step) in the registry: the unified history of each version.
 */
async function recordOnline(
  deps: MonitorDeps,
  endpoint: EndpointRecord,
  stats: { live: ArmStats; canary: ArmStats },
  to: string,
): Promise<void> {
  const arms = [
    ['live', endpoint.liveVersion, stats.live],
    ['canary', endpoint.canaryVersion, stats.canary],
  ] as const;
  for (const [variant, versionId, arm] of arms) {
    if (versionId === null || arm.plays > arm.impressions) continue;
    const rate = wilson(arm.plays, arm.impressions);
    await deps.registry.putOnlineOutcome({
      shelf: endpoint.shelf,
      versionId,
      variant,
      from: endpoint.updatedAt,
      to,
      canaryWeight: endpoint.canaryWeight,
      impressions: arm.impressions,
      plays: arm.plays,
      playRate: rate.rate,
      lo: rate.lo,
      hi: rate.hi,
      recordedAt: deps.now().toISOString(),
    });
  }
}

/**
 * One pass of a staged rollout for a shelf: both arms over the current step's feedback (served after
 * the step began), the step's decision, its online outcome in the registry, and the move: advance to
 * the next weight, promote, roll back, or hold (recorded once per step with its reason) or wait.
 */
async function stepRollout(shelf: Shelf, endpoint: EndpointRecord, deps: MonitorDeps, policy: RolloutPolicy): Promise<MonitorOutcome> {
  const versions = { live: endpoint.liveVersion as string, canary: endpoint.canaryVersion as string };
  const log = await readFeedbackLog(deps.rawBucket, shelf);
  const since = endpoint.stepSince === undefined ? Number.NEGATIVE_INFINITY : Date.parse(endpoint.stepSince);
  const { counted } = matchFeedback(log.events, indexServed(log.served), DEFAULT_FEEDBACK_MATCH_POLICY);
  const step = counted.filter((m) => m.servedAt > since);
  const stats = canaryArmStats(step, shelf, versions);
  // The next step counts feedback served after the latest response seen now (the serving clock).
  const watermark = step.reduce((max, m) => (m.shelf === shelf ? Math.max(max, m.servedAt) : max), since);
  await recordOnline(deps, endpoint, stats, Number.isFinite(watermark) ? new Date(watermark).toISOString() : deps.now().toISOString());
  let decision;
  try {
    decision = decideRolloutStep(stats, endpoint.canaryWeight, policy);
  } catch (error) {
    return { shelf, action: 'wait', reason: `rollout: ${(error as Error).message}` };
  }
  const reason = `rollout step ${endpoint.rolloutStep ?? 0}: ${decision.reason}`;
  if (decision.action === 'advance') {
    await advance(shelf, decision.weight, new Date(watermark).toISOString(), reason, deps, endpoint.revision);
    return { shelf, action: 'advance', reason };
  }
  if (decision.action === 'promote') await promote(shelf, reason, deps, endpoint.revision);
  else if (decision.action === 'rollback') await rollback(shelf, reason, deps, endpoint.revision);
  else if (decision.action === 'hold') {
    const said = (await deps.registry.listEvents(shelf, { since: endpoint.updatedAt })).some((e) => e.action === 'rollout-hold');
    if (!said)
      await deps.registry.appendEvent(shelf, { action: 'rollout-hold', version: versions.canary, reason, at: deps.now().toISOString() });
  }
  return { shelf, action: decision.action === 'wait' ? 'wait' : decision.action, reason };
}
