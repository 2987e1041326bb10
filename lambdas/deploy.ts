/** Deploy: the gate-blessed version goes live (first deploy) or starts as canary. */
import { EndpointStore } from '../lib/aws/endpoints.ts';
import { ModelRegistry } from '../lib/aws/registry.ts';
import { taskHandler } from '../lib/middleware/task-handler.ts';
import { deployVersion } from '../lib/pipeline/outcomes.ts';
import { DeployInputSchema, DeployResultSchema, STATES } from '../lib/wiring/pipeline.ts';
import { readEnv } from '../lib/wiring/env.ts';

const deps = {
  registry: new ModelRegistry(),
  endpoints: new EndpointStore(),
  canaryWeight: readEnv('CANARY_WEIGHT'),
  now: () => new Date(),
};

export const handler = taskHandler(STATES.deploy, DeployInputSchema, DeployResultSchema, ({ run, evaluation }) =>
  deployVersion(run, evaluation, deps),
);
