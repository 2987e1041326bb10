/** Configuration of the data steps, read once from the Lambda environment (lib/wiring/env.ts). */
import { type EnvSource, readEnv } from '../wiring/env.ts';
import type { DataStepConfig } from './data-steps.ts';

/** REJECT_LIMIT: largest share of rejected rows per file, 0..1 (default 0.01); a bad value is a ConfigError. */
export function dataStepConfigFromEnv(env: EnvSource = process.env): DataStepConfig {
  return { rejectLimit: readEnv('REJECT_LIMIT', env), now: () => Date.now() };
}
