import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, PREFIXES } from '../../lib/wiring/resources.ts';
import { acknowledgements, type Json, policyStatements, roleOfFunction, s3Actions, statementsOfRole, synthStack } from './stack-fixture.ts';

/**
 * The acknowledgements a person has read and accepted, one line per construct and finding. A new
 * acknowledgement (or a changed one) fails the test below until it is reviewed and added here.
 */
const REVIEWED: readonly string[] = JSON.parse(readFileSync(new URL('./fixtures/reviewed-acknowledgements.json', import.meta.url), 'utf8'));

/**
 * Actions that AWS does not scope to resources, the only ones a statement on Resource "*" may carry.
 * Each is covered by an `IAM5[Resource::*]` acknowledgement; this list is what makes that one exact.
 */
const UNSCOPED_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'ecr:GetAuthorizationToken',
  'cloudwatch:PutMetricData',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

let stack: ReturnType<typeof synthStack>;
let prod: ReturnType<typeof synthStack>;
// Two syntheses take long on a busy machine.
beforeAll(() => {
  stack = synthStack();
  prod = synthStack({ stage: 'prod' });
}, 600_000);

const objectGrants = (functionId: string, bucketId: string) =>
  statementsOfRole(stack.json.Resources, roleOfFunction(stack.json.Resources, functionId))
    .filter((s) => s3Actions(s).length > 0)
    .flatMap((s) => s.Resource.map((r) => ({ actions: s3Actions(s).sort().join(','), resource: r, condition: s.Condition })))
    .filter((g) => JSON.stringify(g.resource).includes(`"${bucketId}"`));

/** `<bucket>/<suffix>` of an object ARN rendered as Fn::Join [bucket Arn, '/suffix']; the bucket ARN itself as ''. */
const suffixOf = (resource: Json): string | undefined => {
  const join = (resource as { 'Fn::Join'?: [string, Json[]] })['Fn::Join'];
  if (join === undefined) return (resource as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'] !== undefined ? '' : undefined;
  const last = join[1][join[1].length - 1];
  return typeof last === 'string' ? last : undefined;
};

describe('S3 grants', () => {
  it.each([
    ['the dev stage', () => stack],
    ['the prod stage', () => prod],
  ])('no policy statement in %s allows an S3 action on Resource "*"', (_, get) => {
    const wildcard = policyStatements(get().json.Resources).filter((s) => s3Actions(s).length > 0 && s.Resource.includes('*'));
    expect(wildcard).toEqual([]);
  });

  it('the SageMaker execution role holds exactly these statements: runs/ of features (read), runs/ of artifacts (write), its image, its logs', () => {
    const roleId = Object.keys(stack.json.Resources).find((id) => /^TrainingRole[0-9A-F]{8}$/.test(id))!;
    const statements = statementsOfRole(stack.json.Resources, roleId).map((s) => ({
      actions: [...s.Action].sort().join(','),
      resource: JSON.stringify(s.Resource),
      ...(s.Condition !== undefined ? { condition: JSON.stringify(s.Condition) } : {}),
    }));
    expect(statements).toEqual([
      {
        actions: 's3:GetObject',
        resource: expect.stringMatching(/^\[\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["FeaturesBucket","Arn"\]\},"\/runs\/\*"\]\]\}\]$/),
      },
      {
        actions: 's3:ListBucket',
        resource: '[{"Fn::GetAtt":["FeaturesBucket","Arn"]}]',
        condition: '{"StringLike":{"s3:prefix":["runs/*"]}}',
      },
      {
        actions: 's3:AbortMultipartUpload,s3:PutObject',
        resource: expect.stringMatching(/^\[\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["ArtifactsBucket","Arn"\]\},"\/runs\/\*"\]\]\}\]$/),
      },
      {
        actions: 'logs:CreateLogGroup,logs:DescribeLogStreams',
        resource: expect.stringContaining(':log-group:/aws/sagemaker/TrainingJobs"'),
      },
      { actions: 'logs:CreateLogStream,logs:PutLogEvents', resource: expect.stringContaining('/aws/sagemaker/TrainingJobs:log-stream:*') },
      {
        actions: 'cloudwatch:PutMetricData',
        resource: '["*"]',
        condition: '{"StringEquals":{"cloudwatch:namespace":"/aws/sagemaker/TrainingJobs"}}',
      },
      {
        actions: 'ecr:BatchCheckLayerAvailability,ecr:BatchGetImage,ecr:GetDownloadUrlForLayer',
        resource: expect.stringContaining('container-assets'),
      },
      { actions: 'ecr:GetAuthorizationToken', resource: '["*"]' },
    ]);
  });

  // What each function may do in the raw bucket: the prefixes its code lists and gets, nothing else.
  it.each([
    [FUNCTIONS.planFeatures.id, ['s3:GetObject /events/*', 's3:GetObject /manifest.json']],
    [FUNCTIONS.buildPartitionFeatures.id, ['s3:GetObject /events/*', 's3:GetObject /catalog/*']],
    [FUNCTIONS.validateData.id, ['s3:GetObject /catalog/*', 's3:GetObject /users/*']],
    [FUNCTIONS.canaryMonitor.id, ['s3:GetObject /feedback/*', 's3:GetObject /requests/*']],
    // Feedback goes through its Firehose stream (FeedbackEvents), which alone writes feedback/.
    [FUNCTIONS.ingestEvents.id, []],
    [FUNCTIONS.beginRun.id, []],
    [FUNCTIONS.trainBaselines.id, []],
    // Train/serve skew: Evaluate recomputes logged requests with the run's transforms.
    [FUNCTIONS.evaluate.id, ['s3:GetObject /requests/*']],
    [FUNCTIONS.deploy.id, []],
    // Raw catalog files newer than the pipeline's snapshot; listeners come from the user-state table, never from raw files.
    [FUNCTIONS.serve.id, ['s3:GetObject /catalog/*']],
    [FUNCTIONS.admin.id, []],
    [FUNCTIONS.recordRejection.id, []],
    [FUNCTIONS.recordFailure.id, []],
    [FUNCTIONS.recordExecutionFailure.id, []],
  ])('%s touches exactly these objects of the raw bucket: %j', (functionId, expected) => {
    const objects = objectGrants(functionId, 'RawBucket')
      .filter((g) => g.actions !== 's3:ListBucket')
      .map((g) => `${g.actions} ${suffixOf(g.resource)}`)
      .sort();
    expect(objects).toEqual([...expected].sort());
  });

  it("lets ValidateData read the BuildFeatures map's results (runs/ of the artifacts bucket), and not write there", () => {
    const grants = objectGrants(FUNCTIONS.validateData.id, 'ArtifactsBucket').map((g) => `${g.actions} ${suffixOf(g.resource)}`);
    expect(grants.sort()).toEqual(['s3:GetObject /runs/*', 's3:ListBucket ']);
  });

  it('lets only the canary monitor and Evaluate (and the Firehose role that writes them) read the request logs', () => {
    const readers = policyStatements(stack.json.Resources)
      .filter((s) => s.Action.includes('s3:GetObject') && JSON.stringify(s.Resource).includes(`/${PREFIXES.requestLogs}*`))
      .map((s) => s.logicalId.replace(/[0-9A-F]{8}$/, ''));
    expect(readers.sort()).toEqual([
      'CanaryMonitorFunctionRoleDefaultPolicy',
      'EvaluateFunctionRoleDefaultPolicy',
      'RequestLogsDeliveryPolicy',
    ]);
  });

  it('limits every function listing to the prefixes it reads', () => {
    for (const { id } of Object.values(FUNCTIONS)) {
      const lists = statementsOfRole(stack.json.Resources, roleOfFunction(stack.json.Resources, id)).filter((s) =>
        s.Action.includes('s3:ListBucket'),
      );
      for (const list of lists)
        expect(list.Condition, `${id} lists without a prefix condition`).toMatchObject({ StringLike: { 's3:prefix': expect.any(Array) } });
    }
  });

  it('grants no function, and no service role of ours, every object of a data bucket', () => {
    const whole = policyStatements(stack.json.Resources)
      .filter((s) => s3Actions(s).length > 0)
      .filter((s) => !/^CustomS3AutoDeleteObjects/.test(s.logicalId))
      .filter((s) => s.Resource.some((r) => suffixOf(r) === '/*' || (typeof r === 'string' && r.endsWith(':::*'))))
      .map((s) => s.logicalId);
    expect(whole).toEqual([]);
  });
});

describe('statements on Resource "*"', () => {
  it('carry only actions AWS cannot scope to a resource', () => {
    const unscoped = policyStatements(stack.json.Resources)
      .filter((s) => s.Resource.includes('*'))
      .flatMap((s) => s.Action.filter((a) => !UNSCOPED_ACTIONS.has(a)).map((a) => `${s.logicalId}: ${a}`));
    expect(unscoped).toEqual([]);
  });
});

describe('cdk-nag acknowledgements', () => {
  it('are exactly the reviewed list, in every stage', () => {
    expect(acknowledgements(stack.app, stack.stack.stackName)).toEqual(REVIEWED);
    expect(acknowledgements(prod.app, prod.stack.stackName)).toEqual(REVIEWED);
  });

  it('never accept a whole rule that has per-finding ids (IAM4, IAM5)', () => {
    const wholeRule = REVIEWED.filter((line) => /AwsSolutions-IAM[45]$/.test(line));
    expect(wholeRule).toEqual([]);
  });

  it('name only exact resources and actions: no pattern other than the ARN wildcards IAM itself evaluates', () => {
    for (const line of REVIEWED.filter((l) => l.includes('AwsSolutions-IAM5['))) {
      const finding = line.slice(line.indexOf('[') + 1, -1);
      expect(finding).toMatch(/^(Resource|Action)::/);
      // A regex would need metacharacters such as ( | ^ $ + ?; IAM wildcards are only * at the end of a path.
      expect(finding).not.toMatch(/[()|^$+?\\]/);
    }
  });
});
