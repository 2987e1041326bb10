/**
 * Every environment variable a runtime file reads, with its zod schema: what is expected, and the
 * default when there is one (explicit here, never `?? x` at the call site). Handlers read what they
 * need at module load with `readEnv` / `loadEnv`, so a missing or wrong variable fails the cold start
 * with a ConfigError naming the variable, the value received and the value expected.
 *
 * In AWS the stack (lib/infra) sets these; locally lib/local/engines.ts and lib/cli set them for
 * this process, and everything reads them back through this module. lib/core never reads them.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { DEFAULT_CANARY_WEIGHT } from '../core/shelf-settings.ts';
import { DEFAULT_REJECT_LIMIT } from '../core/validate.ts';

// describe() goes last: zod keeps a description on the schema it is called on, not on wrappers made later.
const name = (what: string) => z.string().min(1).describe(what);
const optionalName = (what: string) => z.string().min(1).optional().describe(what);
const url = (what: string) => z.url().optional().describe(what);
const positive = (what: string) => z.coerce.number().positive().finite().optional().describe(`${what}: a positive number`);
const seconds = (what: string, fallback: number) =>
  z.coerce.number().int().min(0).max(86_400).default(fallback).describe(`${what}: whole seconds 0..86400 (default ${fallback})`);

/** Log levels the Powertools logger accepts. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

/** The variables, by name. An empty string counts as unset (CloudFormation cannot remove a variable). */
export const ENV_SCHEMAS = {
  REGISTRY_TABLE: name('the registry table name'),
  ENDPOINTS_TABLE: name('the endpoints table name'),
  USER_STATE_TABLE: name('the online user-state table name'),
  RAW_BUCKET: name('the raw data bucket name'),
  FEATURES_BUCKET: name('the features bucket name'),
  ARTIFACTS_BUCKET: name('the artifacts bucket name'),
  /** Local runtime only: S3 and DynamoDB endpoints on loopback; unset in AWS (the SDK's defaults apply). */
  SHELVES_S3_ENDPOINT: url('an S3 endpoint URL such as http://127.0.0.1:4569'),
  SHELVES_DYNAMODB_ENDPOINT: url('a DynamoDB endpoint URL such as http://127.0.0.1:4567'),
  /** Region of the SDK clients when an endpoint override is set (Lambda always sets AWS_REGION). */
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
    .default('us-east-1')
    .describe('an AWS region such as eu-north-1 (default us-east-1)'),
  /** Serve: the Firehose stream of request logs; unset, the logs go to the raw bucket's requests/ prefix. */
  REQUEST_LOG_STREAM: optionalName('a Firehose delivery stream name'),
  /** Ingest events: the Firehose stream of feedback events; unset, batches go to the raw bucket's feedback/ prefix by day. */
  FEEDBACK_STREAM: optionalName('a Firehose delivery stream name'),
  /** Deploy: the share of traffic a new canary gets. */
  /**
   * Canary monitor: the staged rollout's canary weights, comma-separated and increasing to 1
   * (e.g. 0.05,0.25,0.5,1); unset, one check promotes or rolls back a canary at its deploy weight.
   */
  ROLLOUT_STEPS: z
    .string()
    .regex(/^(0(\.\d+)?|1)(,(0(\.\d+)?|1))*$/)
    .transform((v) => v.split(',').map(Number))
    .optional()
    .describe('canary weights in (0, 1], comma-separated, increasing, ending at 1, such as 0.05,0.25,0.5,1'),
  CANARY_WEIGHT: z.coerce
    .number()
    .gt(0)
    .max(1)
    .default(DEFAULT_CANARY_WEIGHT)
    .describe(`a share of traffic above 0 and at most 1 (default ${DEFAULT_CANARY_WEIGHT})`),
  /** Serve: how long an endpoint record is cached; a deploy or rollback takes effect within it. */
  ENDPOINT_CACHE_SECONDS: seconds('endpoint record cache', 30),
  /** Serve: how often the catalog is reloaded and new items indexed. */
  CATALOG_REFRESH_SECONDS: seconds('catalog refresh period', 60),
  /** Serve, local runtime only: starts the serving clock at a simulated time (a local world's end). */
  SHELVES_NOW: z.iso.datetime({ offset: true }).optional().describe('an ISO date-time such as 2026-11-28T00:00:00Z'),
  /** Serve, canary monitor, record rejection: the operations SNS topic; unset (locally), notifications are skipped. */
  NOTIFICATION_TOPIC_ARN: optionalName('an SNS topic ARN'),
  /** Ingest events: the DynamoDB table of rate-limit counters shared by containers; unset (locally), in-process buckets. */
  FEEDBACK_RATE_LIMIT_TABLE: optionalName('a DynamoDB table name'),
  /** Ingest events: rate limits (events per second, bucket size); unset, lib/serving/feedback-intake.ts's defaults apply. */
  FEEDBACK_CLIENT_RATE: positive('events per second per client'),
  FEEDBACK_CLIENT_BURST: positive('events per client in one burst'),
  FEEDBACK_USER_RATE: positive('events per second per user'),
  FEEDBACK_USER_BURST: positive('events per user in one burst'),
  /** Data steps: the largest share of rejected rows per file. */
  REJECT_LIMIT: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(DEFAULT_REJECT_LIMIT)
    .describe(`a share between 0 and 1 (default ${DEFAULT_REJECT_LIMIT})`),
  LOG_LEVEL: z
    .string()
    .transform((v) => v.toUpperCase())
    .pipe(z.enum(LOG_LEVELS))
    .default('INFO')
    .describe(`one of ${LOG_LEVELS.join(', ')} (default INFO)`),
  /** Training entrypoint: the SageMaker container root; locally a job folder. */
  SM_ROOT: z.string().min(1).default('/opt/ml').describe('a directory (default /opt/ml)'),
  /** CLI: `aws` runs commands against the AWS account of the environment instead of the local runtime. */
  SHELVES_TARGET: z.enum(['local', 'aws']).default('local').describe('local or aws (default local)'),
  /** Local runtime: where dynalite, s3rver and training jobs keep their state. */
  SHELVES_HOME: z.string().min(1).default('.shelves').describe('a directory (default .shelves)'),
} as const satisfies Record<string, z.ZodType>;

export type EnvName = keyof typeof ENV_SCHEMAS;
export type EnvValue<K extends EnvName> = z.output<(typeof ENV_SCHEMAS)[K]>;
export type EnvSource = Readonly<Record<string, string | undefined>>;

/**
 * Reads one variable through its schema; throws ConfigError naming the variable, the value received
 * and the value expected. The one way any runtime file reads the environment.
 */
export function readEnv<K extends EnvName>(variable: K, env: EnvSource = process.env): EnvValue<K> {
  const schema: z.ZodType = ENV_SCHEMAS[variable];
  const raw = env[variable];
  const parsed = schema.safeParse(raw === '' ? undefined : raw);
  if (parsed.success) return parsed.data as EnvValue<K>;
  const expected = schema.description ?? 'a valid value';
  const received = raw === undefined || raw === '' ? 'is not set' : `is ${JSON.stringify(raw)}`;
  const detail = parsed.error.issues.map((i) => i.message).join('; ');
  throw new ConfigError(`environment variable ${variable} ${received}; expected ${expected} (${detail})`);
}

/** Reads several variables at once (a handler's configuration at module load); the first bad one throws. */
export function loadEnv<const K extends EnvName>(
  variables: readonly K[],
  env: EnvSource = process.env,
): { readonly [P in K]: EnvValue<P> } {
  return Object.fromEntries(variables.map((v) => [v, readEnv(v, env)])) as { [P in K]: EnvValue<P> };
}
