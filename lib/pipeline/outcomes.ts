/**
 * The pipeline's last steps: Deploy (a gate-blessed version becomes live, or canary when a live
 * version exists), RecordRejection, RecordFailure. Each is one conditional write per record, so a
 * race or a retry cannot leave two winners.
 */
import type { EndpointStore } from '../aws/endpoints.ts';
import type { ModelRegistry } from '../aws/registry.ts';
import { notify } from '../aws/notify.ts';
import type { Shelf } from '../core/contract.ts';
import type { DeployResult, EvaluationResult, RunContext, RunOutcome, StepError } from '../wiring/pipeline.ts';

export interface OutcomeDeps {
  readonly registry: ModelRegistry;
  readonly endpoints: EndpointStore;
  readonly canaryWeight: number;
  readonly now: () => Date;
}

export async function deployVersion(run: RunContext, evaluation: EvaluationResult, deps: OutcomeDeps): Promise<DeployResult> {
  const at = deps.now().toISOString();
  const before = await deps.endpoints.getEndpoint(run.shelf);
  const already = before.liveVersion === evaluation.versionId || before.canaryVersion === evaluation.versionId;
  const after = already
    ? before
    : await deps.endpoints.deployCandidate(run.shelf, evaluation.versionId, {
        canaryWeight: deps.canaryWeight,
        expectedRevision: before.revision,
        at,
      });
  const role = after.liveVersion === evaluation.versionId ? 'live' : 'canary';
  if (!already) {
    const reason =
      role === 'live'
        ? 'passed the gate; no live version yet, so it serves all traffic'
        : `passed the gate; serving ${Math.round(after.canaryWeight * 100)}% of traffic as canary against live ${after.liveVersion}`;
    await deps.registry.updateVersionStatus(run.shelf, evaluation.versionId, role, reason, at);
    await deps.registry.appendEvent(run.shelf, {
      action: role === 'live' ? 'deploy-live' : 'deploy-canary',
      version: evaluation.versionId,
      reason,
      at,
      revision: after.revision,
    });
  }
  await finishRun(deps.registry, run.shelf, run.runId, 'deployed', `version ${evaluation.versionId} deployed as ${role}`, at);
  return {
    shelf: run.shelf,
    liveVersion: after.liveVersion,
    canaryVersion: after.canaryVersion,
    canaryWeight: after.canaryWeight,
    revision: after.revision,
  };
}

export async function recordRejection(
  run: RunContext,
  evaluation: EvaluationResult,
  deps: Pick<OutcomeDeps, 'registry' | 'now'>,
): Promise<RunOutcome> {
  const at = deps.now().toISOString();
  const reason = `rejected by the gate: ${evaluation.decision.reasons.join('; ')}`;
  await deps.registry.updateVersionStatus(run.shelf, evaluation.versionId, 'rejected', reason, at);
  await finishRun(deps.registry, run.shelf, run.runId, 'rejected', reason, at);
  await notify({
    subject: `home-shelves: ${run.shelf} run ${run.runId} rejected by the gate`,
    message: `${evaluation.versionId} ${reason}`,
  });
  return { shelf: run.shelf, runId: run.runId, status: 'rejected', reason };
}

/** Marks the run failed with its root cause (`Error: message`); the execution then fails with that error. */
export async function recordFailure(
  shelf: Shelf,
  runId: string,
  error: StepError,
  deps: Pick<OutcomeDeps, 'registry' | 'now'>,
): Promise<RunOutcome> {
  const reason = `${error.Error}: ${error.Cause}`;
  await deps.registry.failRun(shelf, runId, reason, deps.now().toISOString());
  return { shelf, runId, status: 'failed', reason, error };
}

async function finishRun(
  registry: ModelRegistry,
  shelf: Shelf,
  runId: string,
  status: 'deployed' | 'rejected',
  reason: string,
  at: string,
): Promise<void> {
  const run = await registry.getRun(shelf, runId);
  if (run?.status === status) return; // a retried step: already recorded
  await registry.completeRun(shelf, runId, status, reason, at);
}
