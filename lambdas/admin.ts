/** POST /admin/{shelf}/promote|rollback behind IAM (never public): moves the endpoint, recording the reason. */
import { EndpointStore } from '../lib/aws/endpoints.ts';
import { ModelRegistry } from '../lib/aws/registry.ts';
import { httpHandler } from '../lib/middleware/http-handler.ts';
import { promote, rollback } from '../lib/pipeline/endpoint-actions.ts';

const deps = { registry: new ModelRegistry(), endpoints: new EndpointStore(), now: () => new Date() };

export const handler = httpHandler('admin', {
  'POST /admin/{shelf}/promote': ({ path, body }) => promote(path.shelf, body.reason, deps),
  'POST /admin/{shelf}/rollback': ({ path, body }) => rollback(path.shelf, body.reason, deps),
});
