/**
 * What the console reads, and where: the registry and endpoints tables, the raw bucket (catalog,
 * users, request log, feedback), the features and artifacts buckets (per-run outputs and reports).
 * All names come from the same environment as every other command (the local engines set them;
 * against AWS the operator exports the stack's outputs), read once here.
 */
import { EndpointStore } from '../../aws/endpoints.ts';
import { ModelRegistry } from '../../aws/registry.ts';
import { readEnv } from '../../wiring/env.ts';
import { PREFIXES } from '../../wiring/resources.ts';
import type { Shelf } from '../../core/contract.ts';

export interface ConsoleContext {
  readonly registry: ModelRegistry;
  readonly endpoints: EndpointStore;
  readonly rawBucket: string;
  readonly featuresBucket: string;
  readonly artifactsBucket: string;
  /** The serving clock (a local world's end, or the wall clock in AWS). */
  readonly now: () => number;
}

/** The console's context from the environment (table and bucket names), with the given clock. */
export function consoleContextFromEnv(now: () => number = Date.now): ConsoleContext {
  return {
    registry: new ModelRegistry(),
    endpoints: new EndpointStore(),
    rawBucket: readEnv('RAW_BUCKET'),
    featuresBucket: readEnv('FEATURES_BUCKET'),
    artifactsBucket: readEnv('ARTIFACTS_BUCKET'),
    now,
  };
}

/** The per-run prefix of a bucket: s3://<bucket>/runs/<shelf>/<runId>/ (as BeginRun names it). */
export function runPrefix(bucket: string, shelf: Shelf, runId: string): string {
  return `s3://${bucket}/${PREFIXES.runs}${shelf}/${runId}/`;
}
