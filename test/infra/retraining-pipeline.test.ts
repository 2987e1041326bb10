import { beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_SERVICE_ERRORS, TRAINING_JOB_PREFIX } from '../../lib/infra/retraining-pipeline.ts';
import { definitionFromTemplate, type CfnTemplate } from '../../lib/local/state-machine.ts';
import { trainingJobNameFor } from '../../lib/pipeline/naming.ts';
import { STATES, TRANSIENT_ERRORS } from '../../lib/wiring/pipeline.ts';
import { FUNCTIONS, STATE_MACHINE } from '../../lib/wiring/resources.ts';
import { allStates, renderDefinition, statementsOfRole, synthStack, type StateJson } from './stack-fixture.ts';

let stack: ReturnType<typeof synthStack>;
let states: Record<string, StateJson>;
beforeAll(() => {
  stack = synthStack({ trainingInstanceType: 'ml.c5.xlarge', trainingMaxRuntimeMinutes: 90, trainingVolumeGb: 20, mapMaxConcurrency: 7 });
  states = allStates(renderDefinition(stack.json.Resources, STATE_MACHINE.id));
});

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

  it('ends a failed run in RunFailed with the original error and cause', () => {
    expect(states[STATES.recordFailure]?.Next).toBe(STATES.runFailed);
    expect(states[STATES.recordFailure]?.Catch).toBeUndefined();
    expect(states[STATES.runFailed]).toMatchObject({ ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
  });

  it('skips to Done when BeginRun reports the run already done', () => {
    expect(states[STATES.beginRun]?.Next).toBe(STATES.alreadyDone);
    expect(states[STATES.alreadyDone]).toMatchObject({
      Choices: [{ Variable: '$.run.alreadyDone', BooleanEquals: true, Next: STATES.done }],
      Default: STATES.planFeatures,
    });
  });

  it('maps BuildPartitionFeatures over the planned partitions with the run, the plan without partitions and the partition', () => {
    const map = states[STATES.buildFeatures];
    expect(map).toMatchObject({
      ItemsPath: '$.plan.partitions',
      MaxConcurrency: 7,
      ResultPath: '$.partitions',
      Next: STATES.validateData,
      ItemSelector: {
        'run.$': '$.run',
        plan: { 'catalogUri.$': '$.plan.catalogUri', 'usersUri.$': '$.plan.usersUri', 'cutoff.$': '$.plan.cutoff' },
        'partition.$': '$$.Map.Item.Value',
      },
    });
    expect(map?.ItemProcessor?.StartAt).toBe(STATES.buildPartitionFeatures);
  });

  it('trains on SageMaker and the baselines in parallel, results at $.training in that order', () => {
    const trainAll = states[STATES.trainAll];
    expect(trainAll?.ResultPath).toBe('$.training');
    expect(trainAll?.Branches?.map((b) => b.StartAt)).toEqual([STATES.train, STATES.trainBaselines]);
    expect(trainAll?.Next).toBe(STATES.evaluate);
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
    expect(new Set(invoked)).toEqual(new Set(LAMBDA_TASKS.map(([, id]) => id)));
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
