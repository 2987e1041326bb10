/** Evaluate: candidate, live model and baselines on one evaluation set; the gate's decision; reports. */
import policyJson from '../lib/core/gate/default-policy.json' with { type: 'json' };
import { EndpointStore } from '../lib/aws/endpoints.ts';
import { ModelRegistry } from '../lib/aws/registry.ts';
import { parseGatePolicy } from '../lib/core/gate/policy.ts';
import { taskHandler } from '../lib/middleware/task-handler.ts';
import { evaluateCandidate } from '../lib/pipeline/model-steps.ts';
import { EvaluateInputSchema, EvaluationResultSchema, STATES } from '../lib/wiring/pipeline.ts';

const deps = {
  registry: new ModelRegistry(),
  endpoints: new EndpointStore(),
  policy: parseGatePolicy(policyJson, 'lib/core/gate/default-policy.json'),
  now: () => new Date(),
};

export const handler = taskHandler(STATES.evaluate, EvaluateInputSchema, EvaluationResultSchema, ({ run, data, training }) =>
  evaluateCandidate(run, data, training, deps),
);
