/** Deterministic names derived from a run: the idempotency of the pipeline rests on them. */
import type { Shelf } from '../core/contract.ts';
import { TRAINING_JOB_PREFIX } from '../wiring/resources.ts';

/** The registry version id of the candidate a run produces (one run id, one version). */
export function versionIdFor(shelf: Shelf, runId: string): string {
  return `${shelf}-${runId}`;
}

/**
 * SageMaker training job name: unique per attempt (SageMaker refuses a reused name), at most 63
 * characters of letters, digits and dashes.
 */
export function trainingJobNameFor(shelf: Shelf, runId: string, attempt: number): string {
  return `${TRAINING_JOB_PREFIX}${shelf}-${runId}-a${attempt}`
    .replace(/[^A-Za-z0-9-]/g, '-')
    .slice(0, 63)
    .replace(/-+$/, '');
}
