/** BeginRun: records the run once and names everything it will produce. */
import { ModelRegistry } from '../lib/aws/registry.ts';
import { taskHandler } from '../lib/middleware/task-handler.ts';
import { beginRun } from '../lib/pipeline/begin-run.ts';
import { BeginRunInputSchema, RunContextSchema, STATES } from '../lib/wiring/pipeline.ts';
import { loadEnv } from '../lib/wiring/env.ts';

const env = loadEnv(['RAW_BUCKET', 'FEATURES_BUCKET', 'ARTIFACTS_BUCKET']);
const buckets = { raw: env.RAW_BUCKET, features: env.FEATURES_BUCKET, artifacts: env.ARTIFACTS_BUCKET };
const registry = new ModelRegistry();

export const handler = taskHandler(STATES.beginRun, BeginRunInputSchema, RunContextSchema, (input) =>
  beginRun(input, { registry, buckets, now: () => new Date() }),
);
