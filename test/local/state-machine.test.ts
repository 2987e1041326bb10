import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getObjectBytes, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { ConfigError } from '../../lib/core/errors.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import {
  definitionFromTemplate,
  matchConstructId,
  messageFromCause,
  runPipelineLocally,
  type CfnTemplate,
  type LocalExecutionEvent,
  type RunPipelineOptions,
} from '../../lib/local/state-machine.ts';

const TEMPLATE = JSON.parse(await readFile(new URL('./fixtures/pipeline-template.json', import.meta.url), 'utf8')) as CfnTemplate;
const HANDLER = 'test/local/fixtures/pipeline-handler.ts';
const ENTRYPOINT = 'test/local/fixtures/train-entrypoint.ts';

type States = Record<string, Record<string, unknown> & { Parameters?: Record<string, unknown> }>;
const statesOf = (definition: Record<string, unknown>) => definition.States as States;

describe('definitionFromTemplate', () => {
  const definition = definitionFromTemplate(TEMPLATE);
  const states = statesOf(definition);

  it('picks the retraining state machine among several', () => {
    expect(Object.keys(states)).toEqual(['BeginRun', 'PlanFeatures', 'Train', 'RecordFailure', 'RunFailed', 'Done']);
  });

  it.each([
    ['BeginRun', 'arn:aws:lambda:us-east-1:000000000000:function:BeginRunFunction'],
    ['RecordFailure', 'arn:aws:lambda:us-east-1:000000000000:function:RecordFailureFunction'],
    ['PlanFeatures', 'arn:aws:states:::lambda:invoke'],
    ['Train', 'arn:aws:states:::sagemaker:createTrainingJob.sync'],
  ])('resolves the resource of %s to %s', (state, resource) => {
    expect(states[state]?.Resource).toBe(resource);
  });

  it('resolves a Lambda named by a logical id without cdk path metadata', () => {
    expect(states.PlanFeatures?.Parameters?.FunctionName).toBe('arn:aws:lambda:us-east-1:000000000000:function:PlanFeaturesFunction');
  });

  it('resolves buckets to local names and the role and image to placeholders', () => {
    const params = states.Train?.Parameters as {
      RoleArn: string;
      OutputDataConfig: { S3OutputPath: string };
      AlgorithmSpecification: { TrainingImage: string };
    };
    expect(params.OutputDataConfig.S3OutputPath).toBe('s3://home-shelves-artifacts/models');
    expect(params.RoleArn).toBe('arn:aws:iam::000000000000:role/local-TrainingRole5E6F7A8B');
    expect(params.AlgorithmSpecification.TrainingImage).toBe(
      '000000000000.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets-000000000000-us-east-1:0123abcd',
    );
  });

  it('selects another state machine by its construct id', () => {
    expect(definitionFromTemplate(TEMPLATE, { stateMachine: 'OtherStateMachine' })).toEqual({
      StartAt: 'X',
      States: { X: { Type: 'Succeed' } },
    });
  });

  it.each([
    ['a missing state machine', TEMPLATE, { stateMachine: 'Nope' }],
    [
      'a Lambda outside FUNCTIONS',
      {
        Resources: {
          M: {
            Type: 'AWS::StepFunctions::StateMachine',
            Properties: { DefinitionString: { 'Fn::Join': ['', ['{"r":"', { 'Fn::GetAtt': ['MysteryFn12345678', 'Arn'] }, '"}']] } },
          },
          MysteryFn12345678: { Type: 'AWS::Lambda::Function' },
        },
      },
      {},
    ],
    [
      'an unsupported intrinsic',
      { Resources: { M: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: { 'Fn::If': ['c', 'a', 'b'] } } } } },
      {},
    ],
  ] as const)('refuses %s with ConfigError', (_title, template, options) => {
    expect(() => definitionFromTemplate(template as CfnTemplate, options)).toThrow(ConfigError);
  });
});

describe('matchConstructId', () => {
  const ids = ['PlanFeaturesFunction', 'BuildPartitionFeaturesFunction', 'RecordFailureFunction'];
  it.each([
    ['PlanFeaturesFunctionABCDEF12', {}, 'PlanFeaturesFunction'],
    ['PipelineBuildPartitionFeaturesFunction0123ABCD', {}, 'BuildPartitionFeaturesFunction'],
    ['Whatever00000000', { Metadata: { 'aws:cdk:path': 'Stack/RecordFailureFunction/Resource' } }, 'RecordFailureFunction'],
    ['ServeFunction12345678', {}, undefined],
  ])('maps %s to %s', (logicalId, resource, expected) => {
    expect(matchConstructId(logicalId, resource, ids)).toBe(expected);
  });
});

describe('messageFromCause', () => {
  it.each([
    ['{"errorType":"DataQualityError","errorMessage":"too many rejects","trace":[]}', 'too many rejects'],
    ['{"TrainingJobStatus":"Failed","FailureReason":"ValueError: x"}', 'ValueError: x'],
    ['plain words', 'plain words'],
  ])('reads %s as %s', (cause, expected) => {
    expect(messageFromCause(cause)).toBe(expected);
  });
});

describe('runPipelineLocally on the local engines', () => {
  let engines: LocalEngines;
  let home: string;
  const trainingLog: string[] = [];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'shelves-sfn-'));
    engines = await startLocalEngines({ home });
    await putObjectBytes('s3://home-shelves-features/runs/r1/train/part-0.json', '{"u":"a"}');
    await putObjectBytes('s3://home-shelves-features/runs/r1/train/part-1.json', '{"u":"b"}');
  });
  afterAll(async () => {
    await engines.stop();
    await rm(home, { recursive: true, force: true });
  });

  async function run(executionName: string, input: Record<string, unknown>, extra: Partial<RunPipelineOptions> = {}) {
    const events: LocalExecutionEvent[] = [];
    const result = await runPipelineLocally({
      template: TEMPLATE,
      input: { runId: executionName, trainUri: 's3://home-shelves-features/runs/r1/train/', hyperparameters: { epochs: '2' }, ...input },
      executionName,
      onEvent: (event) => events.push(event),
      home,
      trainingEntrypoint: ENTRYPOINT,
      trainingLog: (line) => trainingLog.push(line),
      handlerEntries: { BeginRunFunction: HANDLER, PlanFeaturesFunction: HANDLER, RecordFailureFunction: HANDLER },
      retryDelayMs: 0,
      ...extra,
    });
    const entered = events.filter((e) => e.type === 'StateEntered').map((e) => e.state);
    const exited = (state: string) =>
      events.find((e) => e.type === 'StateExited' && e.state === state)?.output as Record<string, unknown> | undefined;
    return { result, events, entered, exited };
  }

  it('runs Lambda tasks and the training task through to Done', async () => {
    const { result, entered } = await run('exec-ok', {});
    expect(result.status).toBe('SUCCEEDED');
    expect(entered).toEqual(['BeginRun', 'PlanFeatures', 'Train', 'Done']);
    const output = result.output as {
      run: Record<string, unknown>;
      plan: unknown;
      training: { ModelArtifacts: { S3ModelArtifacts: string }; TrainingJobStatus: string };
    };
    expect(output.run).toEqual({
      executionName: 'exec-ok',
      functionName: 'BeginRunFunction',
      requestId: 'exec-ok-0001',
      trainingJobName: 'job-exec-ok',
    });
    expect(output.plan).toEqual({ attempts: 1 });
    expect(output.training).toEqual({
      TrainingJobName: 'job-exec-ok',
      TrainingJobStatus: 'Completed',
      ModelArtifacts: { S3ModelArtifacts: 's3://home-shelves-artifacts/models/job-exec-ok/output/model.tar.gz' },
    });
  });

  it('gives the training entrypoint the container layout and uploads its model directory', async () => {
    const jobDir = join(home, 'sagemaker', 'job-exec-ok');
    expect(JSON.parse(await readFile(join(jobDir, 'input', 'config', 'hyperparameters.json'), 'utf8'))).toEqual({ epochs: '2' });
    const tarball = join(home, 'downloaded.tar.gz');
    await writeFile(tarball, await getObjectBytes('s3://home-shelves-artifacts/models/job-exec-ok/output/model.tar.gz'));
    const out = join(home, 'extracted');
    await mkdir(out, { recursive: true });
    await extract({ file: tarball, cwd: out });
    expect(JSON.parse(await readFile(join(out, 'model.json'), 'utf8'))).toEqual({
      hyperparameters: { epochs: '2' },
      files: ['part-0.json', 'part-1.json'],
      modelDirEnv: true,
    });
    expect(trainingLog).toContain('[job-exec-ok] training on 2 files');
  });

  it('retries a transient error and succeeds the second time', async () => {
    const { result, events } = await run('exec-flaky', { flakyTimes: 1 });
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as { plan: unknown }).plan).toEqual({ attempts: 2 });
    expect(events.filter((e) => e.type === 'StateRetried').map((e) => e.state)).toEqual(['PlanFeatures']);
  });

  it('catches a transient error once retries run out and records the failure', async () => {
    const { result, entered, exited } = await run('exec-exhausted', { flakyTimes: 5 });
    expect(result).toEqual({ status: 'FAILED', error: { Error: 'RunFailed', Cause: 'the run failed; RecordFailure recorded why' } });
    expect(entered).toEqual(['BeginRun', 'PlanFeatures', 'RecordFailure', 'RunFailed']);
    const failure = exited('RecordFailure')?.failure as { recorded: string; cause: string };
    expect(failure.recorded).toBe('TransientError');
    expect(messageFromCause(failure.cause)).toBe('throttled on attempt 3');
  });

  it('routes a named error to the Catch path with the error name as Error', async () => {
    const { result, entered, exited } = await run('exec-catch', { failBeginWith: 'DataQualityError' }, {});
    expect(result.status).toBe('FAILED');
    expect(entered).toEqual(['BeginRun', 'RecordFailure', 'RunFailed']);
    const failure = exited('RecordFailure')?.failure as { recorded: string; cause: string; runId: string };
    expect(failure).toMatchObject({ recorded: 'DataQualityError', runId: 'exec-catch' });
    expect(JSON.parse(failure.cause)).toMatchObject({ errorType: 'DataQualityError', errorMessage: '12% of rows rejected, limit 5%' });
  });

  it('fails the training task with the reason the entrypoint wrote to output/failure', async () => {
    const { result, entered, exited } = await run('exec-train-fails', { hyperparameters: { fail: 'true' } });
    expect(result.status).toBe('FAILED');
    expect(entered).toEqual(['BeginRun', 'PlanFeatures', 'Train', 'RecordFailure', 'RunFailed']);
    const failure = exited('RecordFailure')?.failure as { recorded: string; cause: string };
    expect(failure.recorded).toBe('States.TaskFailed');
    expect(messageFromCause(failure.cause)).toBe('ValueError: hyperparameter fail=true is not allowed');
    expect(trainingLog).toContain('[job-exec-train-fails] bad hyperparameter');
  });

  it('reports an execution that fails without a Catch as FAILED with the error name and message', async () => {
    const definition = definitionFromTemplate(TEMPLATE);
    delete (statesOf(definition).BeginRun as { Catch?: unknown }).Catch;
    const { result } = await run('exec-uncaught', { failBeginWith: 'DataQualityError' }, { template: undefined, definition });
    expect(result.status).toBe('FAILED');
    expect(result.error?.Error).toBe('DataQualityError');
    expect(messageFromCause(result.error?.Cause ?? '')).toBe('12% of rows rejected, limit 5%');
  });
});

describe('the local runner modules', () => {
  const source = (file: string) => readFile(new URL(`../../lib/local/${file}`, import.meta.url), 'utf8');

  it('has Promise.withResolvers once the entry module is loaded (aws-local-stepfunctions needs it on Node 20)', () => {
    expect(typeof (Promise as unknown as { withResolvers?: unknown }).withResolvers).toBe('function');
  });

  it.each(['local-executor.ts', 'cfn-definition.ts', 'distributed-map.ts'])('%s patches no global', async (file) => {
    // No assignment to a global: the polyfill module alone may define Promise.withResolvers.
    expect(await source(file)).not.toMatch(/withResolvers\s*(\?\?=|=[^=])|globalThis\.\w+\s*(\?\?=|=[^=])|Promise\s+as\s+unknown/);
  });

  it('installs the polyfill from the entry module, first', async () => {
    const entry = await source('state-machine.ts');
    expect(entry.split('\n').find((line) => line.startsWith('import'))).toBe("import './promise-with-resolvers.ts';");
  });
});
