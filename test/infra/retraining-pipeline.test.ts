import { createRequire } from 'node:module';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.ts';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  LAMBDA_SERVICE_ERRORS,
  RetrainingPipeline,
  TRAINING_JOB_PREFIX,
  type RetrainingPipelineProps,
} from '../../lib/infra/retraining-pipeline.ts';
import { definitionFromTemplate, type CfnTemplate } from '../../lib/local/state-machine.ts';
import { trainingJobNameFor } from '../../lib/pipeline/naming.ts';
import { STATES, TRANSIENT_ERRORS } from '../../lib/wiring/pipeline.ts';
import { FUNCTIONS, STATE_MACHINE } from '../../lib/wiring/resources.ts';
import { allStates, renderDefinition, statementsOfRole, synthStack, type StateJson } from './stack-fixture.ts';

const validateAsl = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText?: (separator?: string) => string;
};

/** The states of a RetrainingPipeline built alone in a stack, from imported resources, with the given props. */
function standaloneStates(props: Partial<RetrainingPipelineProps>): Record<string, AnyState> {
  const stack = new Stack(new App(), 'Standalone', { env: { account: '123456789012', region: 'eu-west-1' } });
  const fn = (name: string) => lambda.Function.fromFunctionArn(stack, name, `arn:aws:lambda:eu-west-1:123456789012:function:${name}`);
  const functions = Object.fromEntries(Object.keys(FUNCTIONS).map((k) => [k, fn(k)])) as unknown as RetrainingPipelineProps['functions'];
  new RetrainingPipeline(stack, 'Retraining', {
    functions,
    artifactsBucket: s3.Bucket.fromBucketName(stack, 'Artifacts', 'artifacts'),
    training: {
      repository: ecr.Repository.fromRepositoryName(stack, 'Repo', 'training'),
      imageTag: 'latest',
      role: iam.Role.fromRoleArn(stack, 'Role', 'arn:aws:iam::123456789012:role/training'),
      instanceType: 'ml.m5.large',
      volumeGb: 10,
      maxRuntime: Duration.hours(1),
    },
    logRetention: 7,
    ...props,
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Parameters<typeof renderDefinition>[0];
  return allStates(renderDefinition(resources, STATE_MACHINE.id)) as Record<string, AnyState>;
}

/** A state with the fields StateJson leaves out (Distributed Map, timeouts). */
type AnyState = StateJson & Record<string, unknown> & { ItemProcessor?: { StartAt: string } & Record<string, unknown> };

let stack: ReturnType<typeof synthStack>;
let states: Record<string, AnyState>;
beforeAll(() => {
  stack = synthStack({ trainingInstanceType: 'ml.c5.xlarge', trainingMaxRuntimeMinutes: 90, trainingVolumeGb: 20, mapMaxConcurrency: 7 });
  states = allStates(renderDefinition(stack.json.Resources, STATE_MACHINE.id)) as Record<string, AnyState>;
  // Synthesis takes seconds, and much longer on a machine shared by parallel test runs.
}, 240_000);

const LAMBDA_TASKS = [
  [STATES.beginRun, FUNCTIONS.beginRun.id, '$.run'],
  [STATES.planFeatures, FUNCTIONS.planFeatures.id, '$.plan'],
  [STATES.buildPartitionFeatures, FUNCTIONS.buildPartitionFeatures.id, undefined],
  [STATES.validateData, FUNCTIONS.validateData.id, '$.data'],
  [STATES.trainBaselines, FUNCTIONS.trainBaselines.id, undefined],
  [STATES.evaluate, FUNCTIONS.evaluate.id, '$.evaluation'],
  [STATES.deploy, FUNCTIONS.deploy.id, '$.deploy'],
  [STATES.recordRejection, FUNCTIONS.recordRejection.id, '$.outcome'],
  [STATES.recordFailure, FUNCTIONS.recordFailure.id, '$.outcome'],
] as const;

describe('the rendered state graph', () => {
  it('starts at BeginRun and names every state of the pipeline contract', () => {
    expect(renderDefinition(stack.json.Resources, STATE_MACHINE.id).StartAt).toBe(STATES.beginRun);
    expect(Object.keys(states).sort()).toEqual(Object.values(STATES).sort());
  });

  it.each([
    [STATES.alreadyDone, 'Choice'],
    [STATES.buildFeatures, 'Map'],
    [STATES.trainAll, 'Parallel'],
    [STATES.train, 'Task'],
    [STATES.gate, 'Choice'],
    [STATES.runFailed, 'Fail'],
    [STATES.done, 'Succeed'],
  ])('%s is a %s state', (name, type) => {
    expect(states[name]?.Type).toBe(type);
  });

  it.each(LAMBDA_TASKS)('%s invokes %s directly (payloadResponseOnly) and puts its result at %s', (name, functionId, resultPath) => {
    const state = states[name];
    expect(state).toMatchObject({ Type: 'Task', Resource: `<${functionId}.Arn>` });
    expect(state?.Parameters).toBeUndefined();
    expect(state?.ResultPath).toBe(resultPath);
  });

  it.each(LAMBDA_TASKS)('%s retries Lambda service errors and transient errors with backoff', (name) => {
    const retry = states[name]?.Retry ?? [];
    expect(retry).toHaveLength(1);
    expect(retry[0]?.ErrorEquals).toEqual(
      expect.arrayContaining([
        ...LAMBDA_SERVICE_ERRORS,
        ...TRANSIENT_ERRORS,
        'Lambda.TooManyRequestsException',
        'Lambda.ServiceException',
        'Lambda.SdkClientException',
      ]),
    );
    expect(retry[0]).toMatchObject({
      IntervalSeconds: expect.any(Number),
      MaxAttempts: expect.any(Number),
      BackoffRate: expect.any(Number),
    });
    expect(retry[0]!.MaxAttempts).toBeGreaterThan(1);
    expect(retry[0]!.BackoffRate).toBeGreaterThan(1);
  });

  it.each([
    STATES.beginRun,
    STATES.planFeatures,
    STATES.buildFeatures,
    STATES.validateData,
    STATES.trainAll,
    STATES.evaluate,
    STATES.deploy,
    STATES.recordRejection,
  ])('%s catches every error into RecordFailure at $.error', (name) => {
    expect(states[name]?.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STATES.recordFailure }]);
  });

  it('ends a failed run in RunFailed with the root cause RecordFailure found', () => {
    expect(states[STATES.recordFailure]?.Next).toBe(STATES.runFailed);
    expect(states[STATES.recordFailure]?.Catch).toBeUndefined();
    expect(states[STATES.runFailed]).toMatchObject({ ErrorPath: '$.outcome.error.Error', CausePath: '$.outcome.error.Cause' });
  });

  it('skips to Done when BeginRun reports the run already done', () => {
    expect(states[STATES.beginRun]?.Next).toBe(STATES.alreadyDone);
    expect(states[STATES.alreadyDone]).toMatchObject({
      Choices: [{ Variable: '$.run.alreadyDone', BooleanEquals: true, Next: STATES.done }],
      Default: STATES.planFeatures,
    });
  });

  it('maps BuildPartitionFeatures in distributed mode over the partition list PlanFeatures wrote to the artifacts bucket', () => {
    const map = states[STATES.buildFeatures];
    expect(map).toMatchObject({
      MaxConcurrency: 7,
      Next: STATES.validateData,
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { Bucket: expect.stringMatching(/^<ArtifactsBucket[0-9A-F]{0,8}>$/), 'Key.$': '$.plan.manifestKey' },
      },
      ItemSelector: {
        'run.$': '$.run',
        plan: { 'catalogUri.$': '$.plan.catalogUri', 'usersUri.$': '$.plan.usersUri', 'cutoff.$': '$.plan.cutoff' },
        'partition.$': '$$.Map.Item.Value',
      },
    });
    expect(map?.ItemsPath).toBeUndefined();
    expect(map?.ItemProcessor).toMatchObject({ ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } });
    expect(map?.ItemProcessor?.StartAt).toBe(STATES.buildPartitionFeatures);
  });

  it('writes the per-partition results to S3 and passes on only their manifest', () => {
    const map = states[STATES.buildFeatures];
    expect(map?.ResultWriter).toEqual({
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: { Bucket: expect.stringMatching(/^<ArtifactsBucket[0-9A-F]{0,8}>$/), 'Prefix.$': '$.plan.resultsPrefix' },
    });
    expect(map?.ResultSelector).toEqual({ 'Bucket.$': '$.ResultWriterDetails.Bucket', 'Key.$': '$.ResultWriterDetails.Key' });
    expect(map?.ResultPath).toBe('$.partitions');
  });

  it('tolerates as many failed partitions as configured, and none by default', () => {
    expect(states[STATES.buildFeatures]?.ToleratedFailurePercentage).toBeUndefined();
    expect(states[STATES.buildFeatures]?.ToleratedFailureCount).toBeUndefined();
    const tolerant = standaloneStates({ toleratedFailurePercentage: 5, toleratedFailureCount: 2 });
    expect(tolerant[STATES.buildFeatures]).toMatchObject({ ToleratedFailurePercentage: 5, ToleratedFailureCount: 2 });
  });

  it('gives every Task state a timeout shorter than the execution timeout', () => {
    const definition = renderDefinition(stack.json.Resources, STATE_MACHINE.id) as { TimeoutSeconds?: number };
    const executionTimeout = definition.TimeoutSeconds;
    expect(executionTimeout).toBeGreaterThan(0);
    const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');
    // Every Task of the graph, whatever states others add; at least the pipeline's own.
    expect(tasks.map(([name]) => name)).toEqual(expect.arrayContaining([...LAMBDA_TASKS.map(([name]) => name), STATES.train]));
    for (const [name, state] of tasks) {
      expect({ name, timeout: state.TimeoutSeconds }).toEqual({ name, timeout: expect.any(Number) });
      expect(state.TimeoutSeconds).toBeLessThan(executionTimeout as number);
    }
    // A Lambda task outlives its function's own timeout, so the function's error arrives first.
    for (const [name, functionId] of LAMBDA_TASKS) {
      const spec = Object.values(FUNCTIONS).find((f) => f.id === functionId);
      expect(states[name]?.TimeoutSeconds).toBeGreaterThan(spec?.timeoutSeconds ?? Number.POSITIVE_INFINITY);
    }
    expect(states[STATES.train]?.TimeoutSeconds).toBeGreaterThan(90 * 60);
  });

  it('refuses a training limit that the execution timeout cannot hold, naming both', () => {
    expect(() => standaloneStates({ timeout: Duration.minutes(60) })).toThrow(ConfigError);
    expect(() => standaloneStates({ timeout: Duration.minutes(60) })).toThrow(/5400 s .* 3600 s/);
  });

  it('is valid Amazon States Language, Distributed Map fields included (asl-validator, tokens as literal ARNs)', () => {
    // The local runner's resolver turns every token into a literal ARN or name.
    const literal = JSON.stringify(definitionFromTemplate(stack.template.toJSON() as CfnTemplate));
    expect(literal).not.toMatch(/Fn::|"Ref"|\$\{AWS::/);
    const result = validateAsl(JSON.parse(literal));
    expect(result.errorsText?.('\n') ?? '').toBe('');
    expect(result.isValid).toBe(true);
  });

  it('trains on SageMaker and the baselines in parallel, results at $.training in that order', () => {
    const trainAll = states[STATES.trainAll];
    expect(trainAll?.ResultPath).toBe('$.training');
    expect(trainAll?.Branches?.map((b) => b.StartAt)).toEqual([STATES.train, STATES.trainBaselines]);
    // Then the serving state is published (PlanServingShards -> PublishServingState) before Evaluate.
    expect(trainAll?.Next).toBe(STATES.planServingShards);
    expect(states[STATES.planServingShards]?.Next).toBe(STATES.publishServingState);
    expect(states[STATES.publishServingState]?.Next).toBe(STATES.evaluate);
  });

  it("runs the training job synchronously with the run's name, hyperparameters, train channel and configured resources", () => {
    const train = states[STATES.train];
    expect(train?.Resource).toBe('arn:aws:states:::sagemaker:createTrainingJob.sync');
    expect(train?.Parameters).toMatchObject({
      'TrainingJobName.$': '$.run.trainingJobName',
      'HyperParameters.$': '$.run.hyperparameters',
      RoleArn: expect.stringMatching(/^<TrainingRole[0-9A-F]{8}\.Arn>$/),
      AlgorithmSpecification: { TrainingInputMode: 'File', TrainingImage: expect.stringMatching(/container-assets.*:[0-9a-f]{64}$/) },
      InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', 'S3Uri.$': '$.data.trainUri' } } }],
      OutputDataConfig: { 'S3OutputPath.$': '$.run.artifactsPrefix' },
      ResourceConfig: { InstanceCount: 1, InstanceType: 'ml.c5.xlarge', VolumeSizeInGB: 20 },
      StoppingCondition: { MaxRuntimeInSeconds: 90 * 60 },
    });
    expect(train?.ResultSelector).toEqual({
      'TrainingJobName.$': '$.TrainingJobName',
      'TrainingJobStatus.$': '$.TrainingJobStatus',
      'ModelArtifacts.$': '$.ModelArtifacts',
    });
    expect(train?.Retry?.[0]).toMatchObject({
      ErrorEquals: expect.arrayContaining(['SageMaker.AmazonSageMakerException']),
      MaxAttempts: expect.any(Number),
      BackoffRate: 2,
    });
  });

  it('gates on the evaluation decision: Deploy when it passes, RecordRejection otherwise, both then Done', () => {
    expect(states[STATES.evaluate]?.Next).toBe(STATES.gate);
    expect(states[STATES.gate]).toMatchObject({
      Choices: [{ Variable: '$.evaluation.decision.pass', BooleanEquals: true, Next: STATES.deploy }],
      Default: STATES.recordRejection,
    });
    expect(states[STATES.deploy]?.Next).toBe(STATES.done);
    expect(states[STATES.recordRejection]?.Next).toBe(STATES.done);
  });
});

describe('the state machine resource', () => {
  it('has the logical id of STATE_MACHINE, logs everything and traces', () => {
    const props = stack.json.Resources[STATE_MACHINE.id]?.Properties;
    expect(props).toMatchObject({
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
    });
  });

  it('resolves through the local runner to local function ARNs named by FUNCTIONS ids', () => {
    const local = allStates(definitionFromTemplate(stack.template.toJSON() as CfnTemplate) as never);
    for (const [name, functionId] of LAMBDA_TASKS)
      expect(local[name]?.Resource).toMatch(new RegExp(`^arn:aws:lambda:[^:]+:\\d+:function:${functionId}$`));
  });

  it('may invoke exactly the pipeline functions', () => {
    const role = (stack.json.Resources[STATE_MACHINE.id]?.Properties?.RoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const invoked = statementsOfRole(stack.json.Resources, role)
      .filter((s) => s.Action.includes('lambda:InvokeFunction'))
      .flatMap((s) => s.Resource)
      .map((r) => JSON.stringify(r).match(/"Fn::GetAtt":\["(\w+)","Arn"\]/)?.[1]);
    expect(new Set(invoked)).toEqual(new Set([...LAMBDA_TASKS.map(([, id]) => id), FUNCTIONS.publishServingState.id]));
  });

  it('may manage only training jobs named with the pipeline prefix', () => {
    const role = (stack.json.Resources[STATE_MACHINE.id]?.Properties?.RoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const sagemaker = statementsOfRole(stack.json.Resources, role).filter((s) => s.Action.some((a) => a.startsWith('sagemaker:')));
    expect(sagemaker.flatMap((s) => s.Action).sort()).toEqual([
      'sagemaker:AddTags',
      'sagemaker:CreateTrainingJob',
      'sagemaker:DescribeTrainingJob',
      'sagemaker:ListTags',
      'sagemaker:StopTrainingJob',
    ]);
    expect(JSON.stringify(sagemaker.flatMap((s) => s.Resource))).toContain(`:training-job/${TRAINING_JOB_PREFIX}*`);
    expect(sagemaker.flatMap((s) => s.Resource)).not.toContain('*');
  });

  it('uses the prefix BeginRun gives training job names', () => {
    expect(trainingJobNameFor('podcasts', 'run-1', 1).startsWith(TRAINING_JOB_PREFIX)).toBe(true);
  });
});

// The SageMaker execution role's statements, exactly (no arrayContaining): least-privilege.test.ts.
