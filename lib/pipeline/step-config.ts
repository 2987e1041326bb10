/** Configuration of the data steps, read once from the Lambda environment. */
import { ConfigError } from '../core/errors.ts';
import type { DataStepConfig } from './data-steps.ts';

/** REJECT_LIMIT: largest share of rejected rows per file, 0..1 (default 0.01). */
export function dataStepConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DataStepConfig {
  const rejectLimit = Number(env.REJECT_LIMIT ?? '0.01');
  if (!(rejectLimit >= 0 && rejectLimit <= 1))
    throw new ConfigError(`REJECT_LIMIT must be a share between 0 and 1, got "${env.REJECT_LIMIT}"`);
  return { rejectLimit, now: () => Date.now() };
}
