/** PublishServingState (one shard of listeners): online user state and the shelf's fallback for serving. */
import { UserStateStore } from '../lib/aws/user-state.ts';
import { taskHandler } from '../lib/middleware/task-handler.ts';
import { publishServingState } from '../lib/pipeline/serving-state.ts';
import { PublishServingStateInputSchema, ServingStateResultSchema, STATES } from '../lib/wiring/pipeline.ts';

const store = new UserStateStore();

export const handler = taskHandler(STATES.publishServingStateShard, PublishServingStateInputSchema, ServingStateResultSchema, (input) =>
  publishServingState(input, store),
);
