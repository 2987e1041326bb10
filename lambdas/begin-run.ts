/** BeginRun: records the run once and names everything it will produce. */
import { ModelRegistry } from '../lib/aws/registry.ts';
import { requireEnv, taskHandler } from '../lib/middleware/task-handler.ts';
import { beginRun } from '../lib/pipeline/begin-run.ts';
import { BeginRunInputSchema, RunContextSchema, STATES } from '../lib/wiring/pipeline.ts';
import { ARTIFACTS_BUCKET, FEATURES_BUCKET, RAW_BUCKET } from '../lib/wiring/resources.ts';

const buckets = { raw: requireEnv(RAW_BUCKET.env), features: requireEnv(FEATURES_BUCKET.env), artifacts: requireEnv(ARTIFACTS_BUCKET.env) };
const registry = new ModelRegistry();

export const handler = taskHandler(STATES.beginRun, BeginRunInputSchema, RunContextSchema, (input) =>
  beginRun(input, { registry, buckets, now: () => new Date() }),
);
