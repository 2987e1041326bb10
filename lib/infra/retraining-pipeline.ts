/**
 * The retraining state machine, built from the state names and JSON paths of lib/wiring/pipeline.ts:
 *
 *   BeginRun -> AlreadyDone? -> PlanFeatures -> BuildFeatures (Map) -> ValidateData
 *     -> TrainAll (Parallel: Train on SageMaker | TrainBaselines) -> Evaluate -> Gate
 *     -> Deploy | RecordRejection -> Done;   any failure -> RecordFailure -> RunFailed
 *
 * Lambda tasks use `payloadResponseOnly`, so each state's Resource is the function ARN, its input is
 * the whole execution document and its result is exactly what the handler returns, placed under the
 * ResultPath listed in the pipeline contract. The local runner executes this very definition.
 */
import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { IRepository } from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { STATES, TRANSIENT_ERRORS } from '../wiring/pipeline.ts';
import { STATE_MACHINE, TRAINING_JOB_PREFIX } from '../wiring/resources.ts';
import { acknowledgeWildcardResources } from './nag.ts';

/** Every SageMaker training job the pipeline starts is named with this prefix (lib/pipeline/naming.ts). */
export { TRAINING_JOB_PREFIX };

/** The Lambda service's own transient failures, retried on every Lambda task. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;
/** SageMaker API failures worth retrying (throttling, internal errors); a failed job is not retried. */
export const SAGEMAKER_RETRY_ERRORS = [
  'SageMaker.AmazonSageMakerException',
  'SageMaker.ThrottlingException',
  'ThrottlingException',
] as const;

/** The FUNCTIONS keys the state machine invokes. */
export type PipelineFunctionKey =
  | 'beginRun'
  | 'planFeatures'
  | 'buildPartitionFeatures'
  | 'validateData'
  | 'trainBaselines'
  | 'evaluate'
  | 'deploy'
  | 'recordRejection'
  | 'recordFailure';

export interface TrainingJobSettings {
  /** The training image's repository and tag (a DockerImageAsset's). */
  readonly repository: IRepository;
  readonly imageTag: string;
  /** Execution role SageMaker assumes. */
  readonly role: iam.IRole;
  /** e.g. `ml.m5.large`. */
  readonly instanceType: string;
  readonly volumeGb: number;
  readonly maxRuntime: Duration;
}

export interface RetrainingPipelineProps {
  readonly functions: Readonly<Record<PipelineFunctionKey, IFunction>>;
  readonly training: TrainingJobSettings;
  /** Parallel partition builds in BuildFeatures; default 10. */
  readonly mapMaxConcurrency?: number;
  /** Whole-execution timeout; default 6 hours. */
  readonly timeout?: Duration;
  readonly logRetention: RetentionDays;
  /** The execution log group on stack deletion; default RETAIN. */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The retraining state machine and its log group. */
export class RetrainingPipeline extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: RetrainingPipelineProps) {
    super(scope, id);
    const fns = props.functions;

    const runFailed = new sfn.Fail(this, STATES.runFailed, { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const recordFailure = lambdaTask(this, STATES.recordFailure, fns.recordFailure, '$.outcome').next(runFailed);
    const catchFailure = <T extends sfn.TaskStateBase | sfn.Parallel | sfn.Map>(state: T): T =>
      state.addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' }) as T;

    const done = new sfn.Succeed(this, STATES.done);

    const beginRun = catchFailure(lambdaTask(this, STATES.beginRun, fns.beginRun, '$.run'));
    const planFeatures = catchFailure(lambdaTask(this, STATES.planFeatures, fns.planFeatures, '$.plan'));

    const buildFeatures = catchFailure(
      new sfn.Map(this, STATES.buildFeatures, {
        itemsPath: '$.plan.partitions',
        itemSelector: {
          run: sfn.JsonPath.objectAt('$.run'),
          plan: {
            catalogUri: sfn.JsonPath.stringAt('$.plan.catalogUri'),
            usersUri: sfn.JsonPath.stringAt('$.plan.usersUri'),
            cutoff: sfn.JsonPath.numberAt('$.plan.cutoff'),
          },
          partition: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
        },
        maxConcurrency: props.mapMaxConcurrency ?? 10,
        resultPath: '$.partitions',
      }),
    );
    buildFeatures.itemProcessor(lambdaTask(this, STATES.buildPartitionFeatures, fns.buildPartitionFeatures));

    const validateData = catchFailure(lambdaTask(this, STATES.validateData, fns.validateData, '$.data'));

    const train = new PrefixScopedTrainingJob(this, STATES.train, {
      jobNamePrefix: TRAINING_JOB_PREFIX,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      trainingJobName: sfn.JsonPath.stringAt('$.run.trainingJobName'),
      role: props.training.role,
      algorithmSpecification: {
        trainingImage: tasks.DockerImage.fromEcrRepository(props.training.repository, props.training.imageTag),
        trainingInputMode: tasks.InputMode.FILE,
      },
      // The whole map of string hyperparameters, as BeginRun resolved them.
      hyperparameters: sfn.JsonPath.objectAt('$.run.hyperparameters') as unknown as Record<string, unknown>,
      inputDataConfig: [
        {
          channelName: 'train',
          dataSource: {
            s3DataSource: { s3Location: new ExecutionS3Location('$.data.trainUri'), s3DataType: tasks.S3DataType.S3_PREFIX },
          },
        },
      ],
      outputDataConfig: { s3OutputLocation: new ExecutionS3Location('$.run.artifactsPrefix') },
      resourceConfig: {
        instanceCount: 1,
        instanceType: new ec2.InstanceType(props.training.instanceType.replace(/^ml\./, '')),
        volumeSize: Size.gibibytes(props.training.volumeGb),
      },
      stoppingCondition: { maxRuntime: props.training.maxRuntime },
      // DescribeTrainingJob is large; keep what TrainingResultSchema uses.
      resultSelector: {
        TrainingJobName: sfn.JsonPath.stringAt('$.TrainingJobName'),
        TrainingJobStatus: sfn.JsonPath.stringAt('$.TrainingJobStatus'),
        ModelArtifacts: sfn.JsonPath.objectAt('$.ModelArtifacts'),
      },
    });
    train.addRetry({ errors: [...SAGEMAKER_RETRY_ERRORS], interval: Duration.seconds(30), maxAttempts: 3, backoffRate: 2 });

    const trainAll = catchFailure(new sfn.Parallel(this, STATES.trainAll, { resultPath: '$.training' }));
    trainAll.branch(train);
    trainAll.branch(lambdaTask(this, STATES.trainBaselines, fns.trainBaselines));

    const evaluate = catchFailure(lambdaTask(this, STATES.evaluate, fns.evaluate, '$.evaluation'));
    const deploy = catchFailure(lambdaTask(this, STATES.deploy, fns.deploy, '$.deploy'));
    const recordRejection = catchFailure(lambdaTask(this, STATES.recordRejection, fns.recordRejection, '$.outcome'));
    const gate = new sfn.Choice(this, STATES.gate)
      .when(sfn.Condition.booleanEquals('$.evaluation.decision.pass', true), deploy.next(done))
      .otherwise(recordRejection.next(done));

    const alreadyDone = new sfn.Choice(this, STATES.alreadyDone)
      .when(sfn.Condition.booleanEquals('$.run.alreadyDone', true), done)
      .otherwise(planFeatures.next(buildFeatures).next(validateData).next(trainAll).next(evaluate).next(gate));

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, STATE_MACHINE.id, {
      definitionBody: sfn.DefinitionBody.fromChainable(beginRun.next(alreadyDone)),
      timeout: props.timeout ?? Duration.hours(6),
      tracingEnabled: true,
      // Execution data is run metadata (URIs, counts, metrics), no personal data; it makes failures readable.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      comment: 'home-shelves retraining: features, SageMaker training, evaluation gate, deploy',
    });
    (this.stateMachine.node.defaultChild as sfn.CfnStateMachine).overrideLogicalId(STATE_MACHINE.id);

    acknowledgeWildcardResources(
      this.stateMachine,
      'Step Functions log delivery (logs:*LogDelivery, PutResourcePolicy, Describe*) and X-Ray actions support no resource-level permissions.',
      ['*'],
    );
    acknowledgeWildcardResources(
      this.stateMachine,
      'Invoking a pipeline function includes its versions and aliases (<arn>:*); only the functions of this state machine are listed.',
      Object.values(fns).map((fn) => `${fn.functionArn}:*`),
    );
    acknowledgeWildcardResources(
      this.stateMachine,
      `Training job names come from the execution (one per run attempt); the state machine may manage only jobs named ${TRAINING_JOB_PREFIX}*.`,
      [trainingJobArn(this, TRAINING_JOB_PREFIX)],
    );
  }
}

/** A Lambda task with the project's retry policy; `resultPath` as in the pipeline contract (default `$`). */
function lambdaTask(scope: Construct, state: string, fn: IFunction, resultPath?: string): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, state, {
    lambdaFunction: fn,
    payloadResponseOnly: true,
    // One explicit retry policy below instead of the construct's implicit one.
    retryOnServiceExceptions: false,
    ...(resultPath !== undefined ? { resultPath } : {}),
  });
  task.addRetry({
    errors: [...LAMBDA_SERVICE_ERRORS, ...TRANSIENT_ERRORS],
    interval: Duration.seconds(2),
    maxAttempts: 4,
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  });
  return task;
}

/** ARN pattern of the training jobs whose names start with `prefix`. */
function trainingJobArn(scope: Construct, prefix: string): string {
  return Stack.of(scope).formatArn({ service: 'sagemaker', resource: 'training-job', resourceName: `${prefix}*` });
}

/**
 * An S3 URI taken from the execution document (a per-run prefix) that grants nothing when bound.
 * `S3Location.fromJsonExpression` would give the training role s3:GetObject, s3:ListBucket and
 * s3:PutObject on every bucket ("*"); the role's own statements (lib/infra/training.ts) already allow
 * exactly runs/ of the features bucket (read) and of the artifacts bucket (write).
 */
class ExecutionS3Location extends tasks.S3Location {
  constructor(private readonly jsonPath: string) {
    super();
  }

  override bind(): tasks.S3LocationConfig {
    return { uri: sfn.JsonPath.stringAt(this.jsonPath) };
  }
}

interface PrefixScopedTrainingJobProps extends tasks.SageMakerCreateTrainingJobProps {
  /** Job names (from the execution input) always start with this; the state machine may manage only those jobs. */
  readonly jobNamePrefix: string;
}

/**
 * SageMakerCreateTrainingJob whose state machine permissions are scoped to one job-name prefix. The
 * base class grants `training-job/*` and `sagemaker:ListTags` on `*` when the name is a JSON path.
 */
class PrefixScopedTrainingJob extends tasks.SageMakerCreateTrainingJob {
  constructor(scope: Construct, id: string, props: PrefixScopedTrainingJobProps) {
    const { jobNamePrefix, ...base } = props;
    super(scope, id, base);
    const stack = Stack.of(this);
    const jobs = trainingJobArn(this, jobNamePrefix);
    const statements = [
      new iam.PolicyStatement({
        actions: [
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:AddTags',
          'sagemaker:ListTags',
        ],
        resources: [jobs],
      }),
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
      // The .sync integration watches the job through this managed EventBridge rule.
      new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForSageMakerTrainingJobsRule' }),
        ],
      }),
    ];
    // taskPolicies is read when the state is bound to the state machine, after this constructor.
    (this as unknown as { taskPolicies: iam.PolicyStatement[] }).taskPolicies = statements;
  }
}
