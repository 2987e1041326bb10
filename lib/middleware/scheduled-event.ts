/**
 * What an EventBridge schedule delivers to a Lambda target that has no Input of its own: the
 * "Scheduled Event" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html).
 * Scheduled handlers take it through `taskHandler`, so they have the same shape as pipeline tasks.
 */
import { z } from 'zod';

export const ScheduledEventSchema = z.looseObject({
  version: z.string(),
  id: z.string().min(1),
  'detail-type': z.literal('Scheduled Event'),
  source: z.literal('aws.events'),
  account: z.string(),
  time: z.iso.datetime({ offset: true }),
  region: z.string(),
  /** The rule's ARN. */
  resources: z.array(z.string()),
  detail: z.looseObject({}),
});
export type ScheduledEvent = z.infer<typeof ScheduledEventSchema>;
