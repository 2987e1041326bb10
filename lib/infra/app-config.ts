/**
 * The typed configuration of the CDK app. bin/app.ts reads CDK context, parses it with
 * `parseAppConfig` and passes the result down as props; constructs never read context themselves.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { SHELVES } from '../core/contract.ts';
import { DEFAULT_CANARY_WEIGHT } from '../core/shelf-settings.ts';

/** An EventBridge schedule expression: `cron(6 fields)` or `rate(n unit)`. */
const ScheduleExpression = z
  .string()
  .regex(
    /^(cron\((\S+ ){5}\S+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/,
    'expected cron(min hour day-of-month month day-of-week year) or rate(n unit)',
  );

/** The retention periods CloudWatch Logs accepts. */
const CLOUDWATCH_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Booleans arrive from `-c key=value` as strings. */
const ContextBoolean = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

export const AppConfigSchema = z.strictObject({
  /** CloudFormation stack name. */
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
    .default('HomeShelves'),
  /** Explicit deployment target; default: environment-agnostic (synth needs no credentials). */
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
    .optional(),
  /** Retraining schedule per shelf (EventBridge expressions, UTC). */
  schedules: z
    .strictObject(
      Object.fromEntries(SHELVES.map((s) => [s, ScheduleExpression])) as Record<(typeof SHELVES)[number], typeof ScheduleExpression>,
    )
    .default({ shortcuts: 'cron(0 3 * * ? *)', podcasts: 'cron(30 3 * * ? *)', playlists: 'cron(0 4 * * ? *)' }),
  /** Share of traffic a freshly deployed canary receives (0 < w < 1). */
  canaryWeight: z.coerce.number().gt(0).lt(1).default(DEFAULT_CANARY_WEIGHT),
  /** SageMaker training instance type. */
  trainingInstanceType: z
    .string()
    .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'expected ml.<family>.<size>')
    .default('ml.m5.large'),
  trainingVolumeGb: z.coerce.number().int().min(1).max(512).default(10),
  /** Hard stop for one training job. */
  trainingMaxRuntimeMinutes: z.coerce
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(120),
  /** Partitions cleaned in parallel by the BuildFeatures map. */
  mapMaxConcurrency: z.coerce.number().int().min(1).max(40).default(10),
  /** Whole-execution timeout of the retraining state machine. */
  pipelineTimeoutMinutes: z.coerce
    .number()
    .int()
    .min(10)
    .max(24 * 60)
    .default(360),
  /** Serving: how long Serve caches the endpoints table. */
  endpointCacheSeconds: z.coerce.number().int().min(0).max(3600).default(30),
  /** HTTP API stage throttling. */
  apiRateLimit: z.coerce.number().int().min(1).default(500),
  apiBurstLimit: z.coerce.number().int().min(1).default(1000),
  /** CanaryMonitor cadence, minutes. */
  canaryMonitorMinutes: z.coerce.number().int().min(1).max(1440).default(15),
  /** Retention of every log group, days (must be a CloudWatch retention value). */
  logRetentionDays: z.coerce
    .number()
    .int()
    .refine((d) => CLOUDWATCH_RETENTION_DAYS.includes(d), { message: `expected one of ${CLOUDWATCH_RETENTION_DAYS.join(', ')}` })
    .default(30),
  /** Days a noncurrent object version is kept before expiry. */
  noncurrentVersionDays: z.coerce.number().int().min(1).default(30),
  /** false: skip esbuild at synth (`-c bundling=false`); the template is complete but not deployable. */
  bundling: ContextBoolean.default(true),
});
export type AppConfig = z.infer<typeof AppConfigSchema>;

/** Parses raw configuration (context values, possibly strings); throws ConfigError naming each bad field. */
export function parseAppConfig(raw: unknown): AppConfig {
  const parsed = AppConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(`invalid CDK app configuration:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Every field at its default. */
export const DEFAULT_APP_CONFIG: AppConfig = AppConfigSchema.parse({});
