import { beforeAll, describe, expect, it } from 'vitest';
import { ENV, FUNCTIONS } from '../../lib/wiring/resources.ts';
import { policyStatements, roleOfFunction, statementsOfRole, synthStack } from './stack-fixture.ts';

let stack: ReturnType<typeof synthStack>;
// Synthesis takes minutes when the machine is busy.
beforeAll(() => {
  stack = synthStack({ canaryWeight: 0.1, endpointCacheSeconds: 12 });
}, 600_000);

const fnProps = (id: string) => stack.json.Resources[id]?.Properties ?? {};
const envOf = (id: string) => (fnProps(id).Environment as { Variables: Record<string, unknown> }).Variables;
const statementsOf = (id: string) => statementsOfRole(stack.json.Resources, roleOfFunction(stack.json.Resources, id));

describe('Lambda functions', () => {
  it.each(Object.values(FUNCTIONS).map((f) => [f.id, f] as const))(
    '%s runs on nodejs22.x arm64 with the memory, timeout, tracing and log group of its spec',
    (id, spec) => {
      expect(stack.json.Resources[id]?.Type).toBe('AWS::Lambda::Function');
      expect(fnProps(id)).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSeconds,
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(new RegExp(`^${id}LogGroup`)) } },
      });
    },
  );

  it('leaves no Lambda outside FUNCTIONS but the dev stage bucket emptier CDK provides', () => {
    const lambdas = Object.entries(stack.json.Resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([id]) => id)
      // autoDeleteObjects (dev stage only, stages.test.ts): CDK's provider that empties buckets on stack deletion.
      .filter((id) => !/^CustomS3AutoDeleteObjectsCustomResourceProviderHandler[0-9A-F]{8}$/.test(id));
    expect(lambdas.sort()).toEqual(
      Object.values(FUNCTIONS)
        .map((f) => f.id)
        .sort(),
    );
  });

  it.each([
    [
      FUNCTIONS.serve.id,
      {
        ENDPOINTS_TABLE: 'EndpointsTable',
        REGISTRY_TABLE: 'RegistryTable',
        ARTIFACTS_BUCKET: 'ArtifactsBucket',
      },
    ],
    [
      FUNCTIONS.beginRun.id,
      { REGISTRY_TABLE: 'RegistryTable', RAW_BUCKET: 'RawBucket', FEATURES_BUCKET: 'FeaturesBucket', ARTIFACTS_BUCKET: 'ArtifactsBucket' },
    ],
    [FUNCTIONS.deploy.id, { REGISTRY_TABLE: 'RegistryTable', ENDPOINTS_TABLE: 'EndpointsTable' }],
    [FUNCTIONS.ingestEvents.id, { USER_STATE_TABLE: 'UserStateTable' }],
  ])('%s learns the physical names of its resources through their environment variables', (id, expected) => {
    const env = envOf(id);
    for (const [variable, logicalId] of Object.entries(expected)) expect(env[variable]).toEqual({ Ref: logicalId });
  });

  it('passes the configured canary weight to Deploy and the cache time and request log stream to Serve', () => {
    expect(envOf(FUNCTIONS.deploy.id)[ENV.canaryWeight]).toBe('0.1');
    // The canary monitor moves canaries through the staged rollout's steps (app config rolloutSteps).
    expect(envOf(FUNCTIONS.canaryMonitor.id)[ENV.rolloutSteps]).toBe('0.05,0.25,0.5,1');
    expect(envOf(FUNCTIONS.serve.id)[ENV.endpointCacheSeconds]).toBe('12');
    expect(envOf(FUNCTIONS.serve.id)[ENV.requestLogStream]).toEqual({ Ref: expect.stringMatching(/^RequestLogsDeliveryStream/) });
  });
});

describe('grants', () => {
  it('contain no wildcard in any IAM action', () => {
    const wildcards = policyStatements(stack.json.Resources).filter((s) => s.Action.some((a) => a.includes('*')));
    expect(wildcards).toEqual([]);
  });

  it('give Serve read-only table access', () => {
    const actions = statementsOf(FUNCTIONS.serve.id).flatMap((s) => s.Action);
    expect(actions).toContain('dynamodb:GetItem');
    expect(actions.filter((a) => /dynamodb:(Put|Update|Delete|BatchWrite)/.test(a))).toEqual([]);
  });

  it('let IngestEvents put records into the feedback stream only, and touch no S3 object', () => {
    const statements = statementsOf(FUNCTIONS.ingestEvents.id);
    expect(statements.filter((s) => s.Action.some((a) => a.startsWith('s3:')))).toEqual([]);
    expect(statements.filter((s) => s.Action.some((a) => a.startsWith('firehose:')))).toEqual([
      {
        logicalId: expect.any(String),
        Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        Resource: [{ 'Fn::GetAtt': [expect.stringMatching(/^FeedbackEventsDeliveryStream/), 'Arn'] }],
      },
    ]);
    expect(envOf(FUNCTIONS.ingestEvents.id)[ENV.feedbackStream]).toEqual({ Ref: expect.stringMatching(/^FeedbackEventsDeliveryStream/) });
  });

  it('let Deploy write the endpoints and registry tables', () => {
    const writes = statementsOf(FUNCTIONS.deploy.id)
      .filter((s) => s.Action.includes('dynamodb:UpdateItem'))
      .flatMap((s) => s.Resource);
    expect(writes).toEqual(
      expect.arrayContaining([{ 'Fn::GetAtt': ['EndpointsTable', 'Arn'] }, { 'Fn::GetAtt': ['RegistryTable', 'Arn'] }]),
    );
  });

  it('let each function write only to its own log group', () => {
    for (const { id } of Object.values(FUNCTIONS)) {
      const logs = statementsOf(id).filter((s) => s.Action.some((a) => a.startsWith('logs:')));
      expect(JSON.stringify(logs.flatMap((s) => s.Resource))).not.toMatch(new RegExp(`"(?!${id}LogGroup)\\w+LogGroup`));
    }
  });

  it('attach no managed policies to function roles', () => {
    for (const { id } of Object.values(FUNCTIONS))
      expect(stack.json.Resources[roleOfFunction(stack.json.Resources, id)]?.Properties?.ManagedPolicyArns).toBeUndefined();
  });
});
