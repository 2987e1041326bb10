/** CanaryMonitor (EventBridge schedule): promotes or rolls back each shelf's canary from online feedback. */
import { z } from 'zod';
import { ShelfSchema } from '../lib/core/contract.ts';
import { logger } from '../lib/middleware/logger.ts';
import { ScheduledEventSchema } from '../lib/middleware/scheduled-event.ts';
import { taskHandler } from '../lib/middleware/task-handler.ts';
import { monitorCanaries } from '../lib/serving/canary-monitor.ts';
import { monitorDepsFromEnv } from '../lib/serving/run-monitor.ts';

const deps = monitorDepsFromEnv();
/** Each shelf's decision and why: the result, and a log line on-call reads without invoking anything. */
const OutcomesSchema = z.array(z.object({ shelf: ShelfSchema, action: z.string(), reason: z.string() }));
const decide = async () => {
  const outcomes = await monitorCanaries(deps);
  logger.info('canary decisions', { outcomes });
  return outcomes;
};

export const handler = taskHandler('CanaryMonitor', ScheduledEventSchema, OutcomesSchema, decide);
