/**
 * The Powertools logger every handler shares: structured JSON for CloudWatch, at LOG_LEVEL (read once,
 * through lib/wiring/env.ts, when the first handler module loads).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { readEnv } from '../wiring/env.ts';

export const logger = new Logger({ serviceName: 'home-shelves', logLevel: readEnv('LOG_LEVEL') });
