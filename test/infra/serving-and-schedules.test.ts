import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/api/routes.ts';
import { SHELVES } from '../../lib/core/contract.ts';
import { ExecutionInputSchema } from '../../lib/wiring/pipeline.ts';
import { FUNCTIONS, STATE_MACHINE } from '../../lib/wiring/resources.ts';
import { synthStack } from './stack-fixture.ts';

const SCHEDULES = { shortcuts: 'cron(5 1 * * ? *)', podcasts: 'cron(10 2 * * ? *)', playlists: 'rate(12 hours)' } as const;
let stack: ReturnType<typeof synthStack>;
// Synthesis takes minutes when the machine is busy.
beforeAll(() => {
  stack = synthStack({ schedules: SCHEDULES, apiRateLimit: 50, apiBurstLimit: 80, canaryMonitorMinutes: 15 });
}, 600_000);
const resourcesOfType = (type: string) => Object.entries(stack.json.Resources).filter(([, r]) => r.Type === type);

describe('retraining schedules', () => {
  it.each(SHELVES.map((s) => [s]))('%s starts the state machine on its configured schedule with a unique run id', (shelf) => {
    const rule = resourcesOfType('AWS::Events::Rule').find(([, r]) => r.Properties?.ScheduleExpression === SCHEDULES[shelf]);
    expect(rule).toBeDefined();
    const [target] = rule![1].Properties?.Targets as {
      Arn: unknown;
      InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
    }[];
    expect(target?.Arn).toEqual({ Ref: STATE_MACHINE.id });
    expect(target?.InputTransformer.InputPathsMap).toEqual({ id: '$.id' });
    // What the state machine receives when EventBridge substitutes a real event id (a UUID).
    const input = JSON.parse(target!.InputTransformer.InputTemplate.replace('<id>', '"2f1b6f5e-8d7c-4b1a-9e3f-0a1b2c3d4e5f"'));
    expect(ExecutionInputSchema.parse(input)).toEqual({ shelf, runId: '2f1b6f5e-8d7c-4b1a-9e3f-0a1b2c3d4e5f' });
  });

  it('runs the canary monitor every 15 minutes', () => {
    stack.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [FUNCTIONS.canaryMonitor.id, 'Arn'] } })],
    });
  });

  it('outputs the state machine ARN for on-demand starts', () => {
    stack.template.hasOutput('StateMachineArn', { Value: { Ref: STATE_MACHINE.id } });
  });
});

describe('the HTTP API', () => {
  it.each([
    ['GET /v1/home', 'NONE', FUNCTIONS.serve.id],
    ['POST /v1/home', 'NONE', FUNCTIONS.serve.id],
    ['POST /v1/events', 'NONE', FUNCTIONS.ingestEvents.id],
    ['GET /openapi.json', 'NONE', FUNCTIONS.serve.id],
    ['POST /admin/{shelf}/promote', 'AWS_IAM', FUNCTIONS.admin.id],
    ['POST /admin/{shelf}/rollback', 'AWS_IAM', FUNCTIONS.admin.id],
  ])('routes %s (authorization %s) to %s', (routeKey, authorization, functionId) => {
    const route = resourcesOfType('AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties?.RouteKey === routeKey);
    expect(route?.[1].Properties?.AuthorizationType).toBe(authorization);
    const integrationId = JSON.stringify(route?.[1].Properties?.Target).match(/"Ref":"(\w+)"/)?.[1] ?? '';
    expect(JSON.stringify(stack.json.Resources[integrationId]?.Properties?.IntegrationUri)).toContain(`"${functionId}"`);
  });

  it('has exactly the routes of the route table', () => {
    const keys = resourcesOfType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties?.RouteKey);
    expect(keys.sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it('throttles and writes access logs', () => {
    stack.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 80 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ServingAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('\\$context\\.requestId'),
      },
    });
  });
});

describe('the request log stream', () => {
  it('delivers encrypted to the requests/ prefix of the raw bucket, by day', () => {
    stack.template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BucketARN: { 'Fn::GetAtt': ['RawBucket', 'Arn'] },
        Prefix: 'requests/dt=!{timestamp:yyyy-MM-dd}/',
      }),
    });
  });

  it('is the only stream Serve may put records into', () => {
    const serveRole = (stack.json.Resources[FUNCTIONS.serve.id]?.Properties?.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    stack.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: serveRole }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RequestLogsDeliveryStream'), 'Arn'] },
          },
        ]),
      },
    });
  });
});

describe('the feedback stream', () => {
  const feedbackStream = () => {
    const found = resourcesOfType('AWS::KinesisFirehose::DeliveryStream').filter(([id]) => id.startsWith('FeedbackEventsDeliveryStream'));
    expect(found).toHaveLength(1);
    return found[0]![1].Properties?.ExtendedS3DestinationConfiguration as Record<string, unknown>;
  };

  it('delivers POST /v1/events feedback, encrypted and compressed, to feedback/ of the raw bucket by day of arrival', () => {
    expect(feedbackStream()).toMatchObject({
      BucketARN: { 'Fn::GetAtt': ['RawBucket', 'Arn'] },
      Prefix: 'feedback/dt=!{timestamp:yyyy-MM-dd}/',
      ErrorOutputPrefix: 'feedback-errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/',
      CompressionFormat: 'GZIP',
    });
  });

  it('has a delivery role that may write only feedback/ and feedback-errors/', () => {
    const role = (feedbackStream().RoleARN as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const objects = resourcesOfType('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties?.Roles) === JSON.stringify([{ Ref: role }]))
      .flatMap(([, p]) => (p.Properties?.PolicyDocument as { Statement: { Action: string[]; Resource: unknown }[] }).Statement)
      .filter((s) => [s.Action].flat().includes('s3:PutObject'))
      .flatMap((s) => [s.Resource].flat());
    expect(objects).toEqual([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['RawBucket', 'Arn'] }, '/feedback/*']] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['RawBucket', 'Arn'] }, '/feedback-errors/*']] },
    ]);
  });
});
