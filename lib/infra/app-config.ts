/**
 * The typed configuration of the CDK app. bin/app.ts reads CDK context, parses it with
 * `parseAppConfig` and passes the result down as props; constructs never read context themselves.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { SHELVES } from '../core/contract.ts';
import { DEFAULT_CANARY_WEIGHT } from '../core/shelf-settings.ts';
import { FUNCTIONS, STACK_NAME_PREFIX } from '../wiring/resources.ts';

/** The stages one definition deploys. */
export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];
/** The stage `cdk synth` builds when no `-c stage=...` is given. */
export const DEFAULT_STAGE: Stage = 'dev';

/** Thresholds of the operational alarms (lib/infra/monitoring.ts). */
const AlarmThresholdsSchema = z.strictObject({
  /** Errors of one Lambda in one period that raise its Errors alarm (>=). */
  lambdaErrors: z.coerce.number().int().min(1),
  /** Throttled invocations of one Lambda in one period that raise its Throttles alarm (>=). */
  lambdaThrottles: z.coerce.number().int().min(1),
  /** p99 latency of the HTTP API, milliseconds, above which the latency alarm fires. */
  apiLatencyP99Ms: z.coerce.number().int().min(10),
  /** 5xx responses of the HTTP API in one period that raise its server-error alarm (>=). */
  api5xxErrors: z.coerce.number().int().min(1),
  /** Age of the oldest request-log record not yet in S3, seconds, above which the delivery alarm fires. */
  deliveryFreshnessSeconds: z.coerce.number().int().min(60),
  /** Alarm period, minutes. */
  periodMinutes: z.coerce.number().int().min(1).max(60),
  /** Consecutive breaching periods before an alarm fires. */
  evaluationPeriods: z.coerce.number().int().min(1).max(24),
});
export type AlarmThresholds = z.infer<typeof AlarmThresholdsSchema>;

/**
 * What differs between stages unless configured: dev is disposable (data destroyed with the stack)
 * and tolerant (alarms for trends, not single blips); prod keeps its data and pages on the first error.
 */
export const STAGE_PRESETS: Readonly<Record<Stage, { readonly removalPolicy: 'destroy' | 'retain'; readonly alarms: AlarmThresholds }>> = {
  dev: {
    removalPolicy: 'destroy',
    alarms: {
      lambdaErrors: 5,
      lambdaThrottles: 10,
      apiLatencyP99Ms: 3000,
      api5xxErrors: 20,
      deliveryFreshnessSeconds: 1800,
      periodMinutes: 5,
      evaluationPeriods: 3,
    },
  },
  prod: {
    removalPolicy: 'retain',
    alarms: {
      lambdaErrors: 1,
      lambdaThrottles: 1,
      apiLatencyP99Ms: 1000,
      api5xxErrors: 5,
      deliveryFreshnessSeconds: 900,
      periodMinutes: 5,
      evaluationPeriods: 1,
    },
  },
};

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

/**
 * A number from context (`-c key=5` arrives as a string) whose every error names the value received
 * and the range expected; a non-numeric string stays a string so that the message shows it as given.
 */
function contextNumber(expected: string, check: (n: number) => boolean) {
  const error = (issue: { input?: unknown }) => `expected ${expected}, received ${JSON.stringify(issue.input)}`;
  return z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v),
    z.number({ error }).refine(check, { error }),
  );
}

/** Booleans arrive from `-c key=value` as strings. */
const ContextBoolean = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

const AppConfigShape = z.strictObject({
  /** Which stage this deployment is; fixes the defaults of stackName, removalPolicy and alarms. Default dev. */
  stage: z.enum(STAGES).default(DEFAULT_STAGE),
  /** CloudFormation stack name; default `HomeShelves-<stage>`. */
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
    .optional(),
  /** Buckets, tables and log groups on stack deletion: destroy (with their objects) or retain; default per stage. */
  removalPolicy: z.enum(['destroy', 'retain']).optional(),
  /** Alarm thresholds; each field defaults to the stage's preset. */
  alarms: AlarmThresholdsSchema.partial().default({}),
  /** Address subscribed to the operations topic (alarms, failed runs, rejections, rollbacks); default none. */
  alarmEmail: z.email().optional(),
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
  /**
   * Staged rollout: the canary weights the canary monitor moves a canary through, each step checked on
   * enough feedback (lib/core/gate/rollout.ts); comma-separated, increasing, the last 1. A canary starts
   * at canaryWeight and climbs the steps above it. Empty: one check promotes or rolls back.
   */
  rolloutSteps: z
    .string()
    .regex(/^$|^(0(\.\d+)?|1)(,(0(\.\d+)?|1))*$/, 'expected weights such as 0.05,0.25,0.5,1')
    .default('0.05,0.25,0.5,1'),
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
  /**
   * Share of the BuildFeatures map's partitions (0-100, %) whose build may fail without failing the run
   * (the Distributed Map's ToleratedFailurePercentage); default: not set, AWS's 0 (any failure fails it).
   */
  mapToleratedFailurePercentage: contextNumber('a percentage from 0 to 100', (n) => n >= 0 && n <= 100).optional(),
  /** Number of partitions whose build may fail without failing the run (ToleratedFailureCount); default: not set, AWS's 0. */
  mapToleratedFailureCount: contextNumber('a whole number of partitions, 0 or more', (n) => Number.isInteger(n) && n >= 0).optional(),
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
  /** Seconds the request-log delivery stream buffers before writing an object (Firehose allows 0-900). */
  requestLogBufferSeconds: z.coerce.number().int().min(0).max(900).default(300),
  /** false: skip esbuild at synth (`-c bundling=false`); the template is complete but not deployable. */
  bundling: ContextBoolean.default(true),
});

/** The raw configuration as context gives it (every field optional). */
export const AppConfigSchema = AppConfigShape;
export type AppConfigInput = z.input<typeof AppConfigShape>;

/** The configuration after stage defaults: every stage-dependent field is filled in. */
export type AppConfig = Omit<z.infer<typeof AppConfigShape>, 'stackName' | 'removalPolicy' | 'alarms'> & {
  readonly stackName: string;
  readonly removalPolicy: 'destroy' | 'retain';
  readonly alarms: AlarmThresholds;
};

/**
 * Relations between fields that no single field's range can express. Each entry returns a message
 * naming the fields, the values received and what is expected, or undefined when the relation holds.
 */
const CROSS_CHECKS: readonly ((c: AppConfig) => string | undefined)[] = [
  (c) =>
    c.trainingMaxRuntimeMinutes < c.pipelineTimeoutMinutes
      ? undefined
      : `trainingMaxRuntimeMinutes (${c.trainingMaxRuntimeMinutes}) must be shorter than pipelineTimeoutMinutes (${c.pipelineTimeoutMinutes}): a training job allowed to outlive its execution ends as a timed-out run instead of a failed job`,
  (c) => {
    if (c.rolloutSteps === '') return undefined;
    const steps = c.rolloutSteps.split(',').map(Number);
    return steps.every((w, i) => w > 0 && w <= 1 && (i === 0 || w > (steps[i - 1] as number))) && steps.at(-1) === 1
      ? undefined
      : `rolloutSteps (${c.rolloutSteps}) must increase and end at 1: a rollout that never reaches all traffic never promotes`;
  },
  (c) =>
    c.apiBurstLimit >= c.apiRateLimit
      ? undefined
      : `apiBurstLimit (${c.apiBurstLimit}) must be at least apiRateLimit (${c.apiRateLimit}): a bucket smaller than its refill rate throttles below the configured rate`,
  (c) =>
    c.canaryMonitorMinutes * 60 >= FUNCTIONS.canaryMonitor.timeoutSeconds
      ? undefined
      : `canaryMonitorMinutes (${c.canaryMonitorMinutes}) must be at least the canary monitor's timeout (${FUNCTIONS.canaryMonitor.timeoutSeconds / 60} min): otherwise two monitors can decide on the same canary at once`,
  (c) =>
    c.alarms.apiLatencyP99Ms < FUNCTIONS.serve.timeoutSeconds * 1000
      ? undefined
      : `alarms.apiLatencyP99Ms (${c.alarms.apiLatencyP99Ms}) must be below Serve's timeout (${FUNCTIONS.serve.timeoutSeconds * 1000} ms): a threshold above it can never be reached`,
  (c) =>
    c.alarms.deliveryFreshnessSeconds > c.requestLogBufferSeconds
      ? undefined
      : `alarms.deliveryFreshnessSeconds (${c.alarms.deliveryFreshnessSeconds}) must exceed requestLogBufferSeconds (${c.requestLogBufferSeconds}): records wait that long by design, so the alarm would always fire`,
  (c) =>
    c.stage !== 'prod' || c.removalPolicy === 'retain'
      ? undefined
      : `removalPolicy "${c.removalPolicy}" is refused for stage prod (expected "retain"): deleting the prod stack must not delete its data`,
];

/**
 * Parses raw configuration (context values, possibly strings), fills stage defaults, then checks the
 * relations between fields; throws ConfigError naming each bad field or broken relation.
 */
export function parseAppConfig(raw: unknown): AppConfig {
  const parsed = AppConfigShape.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(`invalid CDK app configuration:\n${z.prettifyError(parsed.error)}`);
  const { stackName, removalPolicy, alarms, ...rest } = parsed.data;
  const preset = STAGE_PRESETS[rest.stage];
  const config: AppConfig = {
    ...rest,
    stackName: stackName ?? stackNameFor(rest.stage),
    removalPolicy: removalPolicy ?? preset.removalPolicy,
    alarms: { ...preset.alarms, ...alarms },
  };
  const broken = CROSS_CHECKS.map((check) => check(config)).filter((m): m is string => m !== undefined);
  if (broken.length > 0)
    throw new ConfigError(`inconsistent CDK app configuration (stage ${config.stage}):\n${broken.map((m) => `  - ${m}`).join('\n')}`);
  return config;
}

/** The stack name of a stage: `HomeShelves-dev`, `HomeShelves-prod`. */
export function stackNameFor(stage: Stage): string {
  return `${STACK_NAME_PREFIX}-${stage}`;
}

/**
 * Merges the context of cdk.json with command-line overrides for one stage: the common `homeShelves`
 * object, then its `stages.<stage>` entry, then `-c key=value` overrides (highest). The stage is
 * `-c stage=...`, else the file's `stage`, else DEFAULT_STAGE.
 */
export function resolveStageContext(
  fromFile: Readonly<Record<string, unknown>>,
  overrides: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const { stages, ...common } = fromFile;
  const stage = overrides.stage ?? common.stage ?? DEFAULT_STAGE;
  const perStage = (stages as Record<string, Record<string, unknown> | undefined> | undefined)?.[String(stage)] ?? {};
  const alarms = {
    ...(common.alarms as object | undefined),
    ...(perStage.alarms as object | undefined),
    ...(contextObject('alarms', overrides.alarms) as object | undefined),
  };
  return {
    ...common,
    ...perStage,
    ...overrides,
    stage,
    ...(Object.keys(alarms).length > 0 || overrides.alarms !== undefined ? { alarms } : {}),
  };
}

/** `-c key={"a":1}` arrives as a string: parse it; anything else passes unchanged. */
function contextObject(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new ConfigError(`context ${key} must be a JSON object such as {"apiLatencyP99Ms":800}, received ${JSON.stringify(value)}`);
  }
}

/** Every field at its default (stage dev). */
export const DEFAULT_APP_CONFIG: AppConfig = parseAppConfig({});
