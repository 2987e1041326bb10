/** POST /v1/events: feedback (impressions, plays, skips) in batches, handed to serving's feedback port with its sender. */
import { summarizeEvents } from '../lib/api/schemas.ts';
import { httpHandler } from '../lib/middleware/http-handler.ts';
import { awsServingPorts } from '../lib/serving/aws-ports.ts';
import { feedbackSource } from '../lib/serving/feedback-intake.ts';

const ports = awsServingPorts();

export const handler = httpHandler('ingestEvents', {
  'POST /v1/events': async ({ body, event }) => {
    await ports.writeFeedback(body.events, feedbackSource(event));
    return summarizeEvents(body.events);
  },
});
