/**
 * The home-shelves stack: storage, the Lambdas of FUNCTIONS with their bindings, the retraining
 * state machine with its schedules, and the serving API.
 *
 * One stack on purpose: the state machine's definition refers to functions, buckets and roles by
 * Ref / Fn::GetAtt inside the same template, which the local runtime resolves (cross-stack exports
 * would become Fn::ImportValue). Logical ids of functions, buckets, tables and the state machine are
 * their ids in lib/wiring/resources.ts.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { SHELVES } from '../core/contract.ts';
import {
  ARTIFACTS_BUCKET,
  ENDPOINTS_TABLE,
  ENV,
  FEATURES_BUCKET,
  FUNCTIONS,
  MANIFEST_KEY,
  PREFIXES,
  RAW_BUCKET,
  REGISTRY_TABLE,
  USER_STATE_TABLE,
  FEEDBACK_RATE_LIMIT_TABLE,
} from '../wiring/resources.ts';
import type { AppConfig } from './app-config.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import { Monitoring } from './monitoring.ts';
import { RetrainingPipeline } from './retraining-pipeline.ts';
import { BucketDeliveryStream, FEEDBACK_ERRORS_PREFIX, REQUEST_LOG_ERRORS_PREFIX, ServingApi } from './serving.ts';
import { ShelvesFunction } from './shelves-function.ts';
import { ShelvesStorage } from './storage.ts';
import { TrainingResources } from './training.ts';

export interface HomeShelvesStackProps extends StackProps {
  readonly config: AppConfig;
}

type FunctionKey = keyof typeof FUNCTIONS;

/** Everything home-shelves runs on, in one stack. */
export class HomeShelvesStack extends Stack {
  readonly storage: ShelvesStorage;
  readonly functions: Readonly<Record<FunctionKey, ShelvesFunction>>;
  readonly training: TrainingResources;
  readonly pipeline: RetrainingPipeline;
  readonly requestLogs: BucketDeliveryStream;
  /** POST /v1/events' feedback, delivered to the raw bucket's feedback/ prefix by day. */
  readonly feedbackEvents: BucketDeliveryStream;
  readonly api: ServingApi;
  /** One EventBridge rule per shelf, starting a retraining run. */
  readonly schedules: Readonly<Record<(typeof SHELVES)[number], events.Rule>>;
  /** The operations topic, the alarms and the failed-execution rule. */
  readonly monitoring: Monitoring;
  /** Where each schedule's undeliverable events go, by rule id. */
  readonly deadLetterQueues: Readonly<Record<string, DeadLetterQueue>>;

  constructor(scope: Construct, id: string, props: HomeShelvesStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = config.logRetentionDays as RetentionDays;
    // dev is disposable: its data goes with the stack; prod keeps buckets, tables and logs.
    const removalPolicy = config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.storage = new ShelvesStorage(this, 'Storage', { noncurrentVersionDays: config.noncurrentVersionDays, removalPolicy });
    const { RawBucket: raw, FeaturesBucket: features, ArtifactsBucket: artifacts } = this.storage.buckets;
    const {
      RegistryTable: registry,
      EndpointsTable: endpoints,
      UserStateTable: userState,
      FeedbackRateLimitTable: rateLimits,
    } = this.storage.tables;

    const fn = Object.fromEntries(
      Object.entries(FUNCTIONS).map(([key, spec]) => [
        key,
        new ShelvesFunction(this, { spec, logRetention, logRemovalPolicy: removalPolicy }),
      ]),
    ) as Record<FunctionKey, ShelvesFunction>;
    this.functions = fn;

    // Pipeline tasks.
    fn.beginRun
      .bindTable(REGISTRY_TABLE, registry, 'readWrite')
      .bindBucketName(RAW_BUCKET, raw)
      .bindBucketName(FEATURES_BUCKET, features)
      .bindBucketName(ARTIFACTS_BUCKET, artifacts);
    // Raw reads name the prefixes each step lists or gets (lib/pipeline/data-steps.ts); per-run work stays under runs/.
    fn.planFeatures.bindBucket(RAW_BUCKET, raw, 'read', [PREFIXES.events, MANIFEST_KEY]).bindBucketName(FEATURES_BUCKET, features);
    fn.buildPartitionFeatures
      .bindBucket(RAW_BUCKET, raw, 'read', [PREFIXES.events, PREFIXES.catalog])
      .bindBucket(FEATURES_BUCKET, features, 'readWrite', [PREFIXES.runs]);
    // ValidateData also reads what the BuildFeatures map's ResultWriter wrote under runs/ of the artifacts bucket.
    fn.validateData
      .bindBucket(RAW_BUCKET, raw, 'read', [PREFIXES.catalog, PREFIXES.users])
      .bindBucket(FEATURES_BUCKET, features, 'readWrite', [PREFIXES.runs])
      .bindBucket(ARTIFACTS_BUCKET, artifacts, 'read', [PREFIXES.runs]);
    fn.trainBaselines
      .bindBucket(FEATURES_BUCKET, features, 'read', [PREFIXES.runs])
      .bindBucket(ARTIFACTS_BUCKET, artifacts, 'readWrite', [PREFIXES.runs]);
    fn.evaluate
      .bindBucket(FEATURES_BUCKET, features, 'read', [PREFIXES.runs])
      // Train/serve skew: the logged requests, recomputed with the run's transforms (lib/pipeline/skew-step.ts).
      .bindBucket(RAW_BUCKET, raw, 'read', [PREFIXES.requestLogs])
      .bindBucket(ARTIFACTS_BUCKET, artifacts, 'readWrite', [PREFIXES.runs])
      .bindTable(REGISTRY_TABLE, registry, 'readWrite')
      .bindTable(ENDPOINTS_TABLE, endpoints, 'read');
    fn.deploy
      .bindTable(REGISTRY_TABLE, registry, 'readWrite')
      .bindTable(ENDPOINTS_TABLE, endpoints, 'readWrite')
      .setEnvironment(ENV.canaryWeight, String(config.canaryWeight));
    // Online serving features: each run writes its shards of listeners and the shelf's fallback.
    fn.publishServingState
      .bindTable(USER_STATE_TABLE, userState, 'readWrite')
      // Shard 0 also writes the catalog snapshot serving indexes, from the raw catalog.
      .bindBucket(RAW_BUCKET, raw, 'read', [PREFIXES.users, PREFIXES.catalog])
      .bindBucket(ARTIFACTS_BUCKET, artifacts, 'readWrite', [
        PREFIXES.runs,
        PREFIXES.servingFallbacks,
        PREFIXES.servingUserState,
        PREFIXES.servingCatalog,
      ]);
    fn.recordRejection.bindTable(REGISTRY_TABLE, registry, 'readWrite');
    fn.recordFailure.bindTable(REGISTRY_TABLE, registry, 'readWrite');
    fn.recordExecutionFailure.bindTable(REGISTRY_TABLE, registry, 'readWrite');

    // Serving.
    this.requestLogs = new BucketDeliveryStream(this, 'RequestLogs', {
      rawBucket: raw,
      prefix: PREFIXES.requestLogs,
      errorPrefix: REQUEST_LOG_ERRORS_PREFIX,
      carries: 'Serve feature logs',
      logRetention,
      bufferSeconds: config.requestLogBufferSeconds,
    });
    this.feedbackEvents = new BucketDeliveryStream(this, 'FeedbackEvents', {
      rawBucket: raw,
      prefix: PREFIXES.feedback,
      errorPrefix: FEEDBACK_ERRORS_PREFIX,
      carries: 'feedback posted to /v1/events',
      logRetention,
      bufferSeconds: config.requestLogBufferSeconds,
    });
    fn.serve
      .bindTable(ENDPOINTS_TABLE, endpoints, 'read')
      .bindTable(REGISTRY_TABLE, registry, 'read')
      .bindTable(USER_STATE_TABLE, userState, 'read')
      // The catalog snapshot it indexes, plus raw catalog files newer than it (items published between
      // retrains); listeners come from the user-state table.
      .bindBucket(RAW_BUCKET, raw, 'read', [PREFIXES.catalog])
      .bindBucket(ARTIFACTS_BUCKET, artifacts, 'read', [PREFIXES.runs, PREFIXES.servingFallbacks, PREFIXES.servingCatalog])
      .bindDeliveryStream(ENV.requestLogStream, this.requestLogs)
      .setEnvironment(ENV.endpointCacheSeconds, String(config.endpointCacheSeconds));
    // Plays count on the listener's next request: the events path appends them to the online user state.
    // Rate limits shared by every container: one conditional counter update per client and user.
    // Feedback lands in feedback/dt=.../ through its delivery stream: no S3 object per request.
    fn.ingestEvents
      .bindDeliveryStream(ENV.feedbackStream, this.feedbackEvents)
      .bindTable(USER_STATE_TABLE, userState, 'readWrite')
      .bindTable(FEEDBACK_RATE_LIMIT_TABLE, rateLimits, 'readWrite');
    // The monitor matches feedback against the logged responses: it reads both (lib/serving/feedback-log.ts).
    if (config.rolloutSteps !== '') fn.canaryMonitor.setEnvironment(ENV.rolloutSteps, config.rolloutSteps);
    fn.canaryMonitor
      .bindBucket(RAW_BUCKET, raw, 'read', [PREFIXES.feedback, PREFIXES.requestLogs])
      .bindTable(ENDPOINTS_TABLE, endpoints, 'readWrite')
      .bindTable(REGISTRY_TABLE, registry, 'readWrite');
    fn.admin.bindTable(ENDPOINTS_TABLE, endpoints, 'readWrite').bindTable(REGISTRY_TABLE, registry, 'readWrite');

    this.api = new ServingApi(this, 'Serving', {
      serve: fn.serve.function,
      ingestEvents: fn.ingestEvents.function,
      admin: fn.admin.function,
      logRetention,
      rateLimit: config.apiRateLimit,
      burstLimit: config.apiBurstLimit,
    });
    const deadLetterQueues: Record<string, DeadLetterQueue> = {};
    const deadLettersOf = (ruleId: string, deliveredBy: string): DeadLetterQueue => {
      deadLetterQueues[ruleId] = new DeadLetterQueue(this, `${ruleId}DeadLetters`, { deliveredBy });
      return deadLetterQueues[ruleId];
    };
    new events.Rule(this, 'CanaryMonitorSchedule', {
      description: 'Promotes or rolls back canaries from live feedback',
      schedule: events.Schedule.rate(Duration.minutes(config.canaryMonitorMinutes)),
      targets: [
        new targets.LambdaFunction(fn.canaryMonitor.function, {
          retryAttempts: 2,
          // A monitor tick older than one period is superseded by the next one.
          maxEventAge: Duration.minutes(config.canaryMonitorMinutes),
          deadLetterQueue: deadLettersOf('CanaryMonitorSchedule', 'the canary monitor schedule').queue,
        }),
      ],
    });

    // Retraining.
    this.training = new TrainingResources(this, 'Training', { featuresBucket: features, artifactsBucket: artifacts });
    this.pipeline = new RetrainingPipeline(this, 'Retraining', {
      functions: {
        beginRun: fn.beginRun.function,
        planFeatures: fn.planFeatures.function,
        buildPartitionFeatures: fn.buildPartitionFeatures.function,
        validateData: fn.validateData.function,
        trainBaselines: fn.trainBaselines.function,
        publishServingState: fn.publishServingState.function,
        evaluate: fn.evaluate.function,
        deploy: fn.deploy.function,
        recordRejection: fn.recordRejection.function,
        recordFailure: fn.recordFailure.function,
      },
      training: {
        repository: this.training.image.repository,
        imageTag: this.training.image.imageTag,
        role: this.training.role,
        instanceType: config.trainingInstanceType,
        volumeGb: config.trainingVolumeGb,
        maxRuntime: Duration.minutes(config.trainingMaxRuntimeMinutes),
      },
      artifactsBucket: artifacts,
      mapMaxConcurrency: config.mapMaxConcurrency,
      ...(config.mapToleratedFailurePercentage !== undefined ? { toleratedFailurePercentage: config.mapToleratedFailurePercentage } : {}),
      ...(config.mapToleratedFailureCount !== undefined ? { toleratedFailureCount: config.mapToleratedFailureCount } : {}),
      timeout: Duration.minutes(config.pipelineTimeoutMinutes),
      logRetention,
      logRemovalPolicy: removalPolicy,
    });

    const schedules = {} as Record<(typeof SHELVES)[number], events.Rule>;
    for (const shelf of SHELVES) {
      const ruleId = `${pascal(shelf)}RetrainingSchedule`;
      schedules[shelf] = new events.Rule(this, ruleId, {
        description: `Starts a retraining run of the ${shelf} shelf`,
        schedule: events.Schedule.expression(config.schedules[shelf]),
        targets: [
          new targets.SfnStateMachine(this.pipeline.stateMachine, {
            // The event id is unique per scheduled start (a UUID), so every start is a new run.
            input: events.RuleTargetInput.fromObject({ shelf, runId: events.EventField.eventId }),
            retryAttempts: 2,
            maxEventAge: Duration.hours(2),
            deadLetterQueue: deadLettersOf(ruleId, `the ${shelf} retraining schedule`).queue,
          }),
        ],
      });
    }
    this.schedules = schedules;
    this.deadLetterQueues = deadLetterQueues;

    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: Object.fromEntries(Object.values(fn).map((f) => [f.spec.id, f.function])),
      stateMachine: this.pipeline.stateMachine,
      recordExecutionFailure: fn.recordExecutionFailure.function,
      httpApi: this.api.api,
      deliveryStreams: {
        RequestLog: { name: this.requestLogs.deliveryStreamName, carries: 'request-log' },
        Feedback: { name: this.feedbackEvents.deliveryStreamName, carries: 'feedback-event' },
      },
      deadLetterQueues: Object.fromEntries(Object.entries(deadLetterQueues).map(([name, dlq]) => [name, dlq.queue])),
      thresholds: config.alarms,
      ...(config.alarmEmail !== undefined ? { alarmEmail: config.alarmEmail } : {}),
      removalPolicy,
    });
    // Rejections and rollbacks are told by the functions that decide them (lib/aws/notify.ts).
    fn.recordRejection.bindTopic(ENV.notificationTopic, this.monitoring.topic);
    fn.canaryMonitor.bindTopic(ENV.notificationTopic, this.monitoring.topic);

    new CfnOutput(this, 'StateMachineArn', {
      value: this.pipeline.stateMachine.stateMachineArn,
      description:
        'Start a run: aws stepfunctions start-execution --state-machine-arn <this> --input \'{"shelf":"podcasts","runId":"manual-001"}\'',
    });
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'GET|POST /v1/home, POST /v1/events, POST /admin/{shelf}/promote|rollback (IAM)',
    });
    new CfnOutput(this, 'RawBucketName', { value: raw.bucketName });
    new CfnOutput(this, 'ArtifactsBucketName', { value: artifacts.bucketName });
    new CfnOutput(this, 'OperationsTopicArn', {
      value: this.monitoring.topic.topicArn,
      description: 'Alarms, failed runs, rejections and rollbacks; subscribe with -c alarmEmail=... or aws sns subscribe',
    });
  }
}

function pascal(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
