import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGE_PRESETS } from '../../lib/infra/app-config.ts';
import { EXECUTION_STATUS_CHANGE } from '../../lib/infra/monitoring.ts';
import { ENV, FUNCTIONS, STATE_MACHINE } from '../../lib/wiring/resources.ts';
import { roleOfFunction, statementsOfRole, synthStack } from './stack-fixture.ts';

const DEV = STAGE_PRESETS.dev.alarms;
let stack: ReturnType<typeof synthStack>;
beforeAll(() => {
  // One threshold overridden, the rest from the dev preset.
  stack = synthStack({ alarmEmail: 'oncall@example.com', alarms: { lambdaErrors: 2 } });
}, 600_000);

type Resource = { Type: string; Properties?: Record<string, unknown> };
const ofType = (type: string): [string, Resource][] => Object.entries(stack.json.Resources).filter(([, r]) => r.Type === type);
const topicId = () => {
  const topics = ofType('AWS::SNS::Topic');
  expect(topics).toHaveLength(1);
  return topics[0]![0];
};
const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties as Record<string, unknown>);
const alarmOn = (namespace: string, metricName: string, dimension: Record<string, unknown>) =>
  alarms().filter(
    (a) =>
      a.Namespace === namespace &&
      a.MetricName === metricName &&
      JSON.stringify(a.Dimensions).includes(JSON.stringify(dimension).slice(1, -1)),
  );

describe('the operations topic', () => {
  it('is encrypted with a rotating key that CloudWatch and EventBridge may use, and refuses plain HTTP', () => {
    const topic = stack.json.Resources[topicId()]!;
    const keyId = (topic.Properties?.KmsMasterKeyId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const key = stack.json.Resources[keyId]!;
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true });
    const principals = JSON.stringify((key.Properties?.KeyPolicy as { Statement: unknown[] }).Statement);
    expect(principals).toContain('cloudwatch.amazonaws.com');
    expect(principals).toContain('events.amazonaws.com');
    stack.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('subscribes the configured address by e-mail', () => {
    stack.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: topicId() },
    });
  });

  it('has no subscription when no address is configured', () => {
    const bare = synthStack();
    expect(Object.values(bare.json.Resources).filter((r) => r.Type === 'AWS::SNS::Subscription')).toEqual([]);
  }, 600_000);

  it.each([
    [FUNCTIONS.recordRejection.id, true],
    [FUNCTIONS.canaryMonitor.id, true],
    [FUNCTIONS.deploy.id, false],
    [FUNCTIONS.serve.id, false],
  ])('%s learns the topic ARN and may publish to it: %s', (functionId, expected) => {
    const env = (stack.json.Resources[functionId]?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    const publishes = statementsOfRole(stack.json.Resources, roleOfFunction(stack.json.Resources, functionId)).filter((s) =>
      s.Action.includes('sns:Publish'),
    );
    if (expected) {
      expect(env[ENV.notificationTopic]).toEqual({ Ref: topicId() });
      expect(publishes.flatMap((s) => s.Resource)).toEqual([{ Ref: topicId() }]);
      // The topic is encrypted: publishing needs a data key of its key, and nothing else of KMS.
      const keyId = (stack.json.Resources[topicId()]?.Properties?.KmsMasterKeyId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      const kms = statementsOfRole(stack.json.Resources, roleOfFunction(stack.json.Resources, functionId)).filter((s) =>
        s.Action.some((a) => a.startsWith('kms:')),
      );
      expect(kms.map((s) => [s.Action, s.Resource])).toEqual([
        [['kms:Decrypt', 'kms:GenerateDataKey'], [{ 'Fn::GetAtt': [keyId, 'Arn'] }]],
      ]);
    } else {
      expect(env[ENV.notificationTopic]).toBeUndefined();
      expect(publishes).toEqual([]);
    }
  });
});

describe('alarms', () => {
  it('all notify the topic and treat missing data as fine', () => {
    expect(alarms().length).toBeGreaterThan(0);
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId() }]);
      expect(alarm.TreatMissingData).toBe('notBreaching');
    }
  });

  it.each(Object.values(FUNCTIONS).map((f) => [f.id]))('watch %s for errors and throttles', (functionId) => {
    const errors = alarmOn('AWS/Lambda', 'Errors', { Name: 'FunctionName', Value: { Ref: functionId } });
    const throttles = alarmOn('AWS/Lambda', 'Throttles', { Name: 'FunctionName', Value: { Ref: functionId } });
    expect(errors).toEqual([
      expect.objectContaining({
        Statistic: 'Sum',
        Threshold: 2,
        Period: DEV.periodMinutes * 60,
        EvaluationPeriods: DEV.evaluationPeriods,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    ]);
    expect(throttles).toEqual([expect.objectContaining({ Statistic: 'Sum', Threshold: DEV.lambdaThrottles })]);
  });

  it("watch the serving API's p99 latency and its 5xx answers", () => {
    const api = ofType('AWS::ApiGatewayV2::Api')[0]![0];
    expect(alarmOn('AWS/ApiGateway', 'Latency', { Name: 'ApiId', Value: { Ref: api } })).toEqual([
      expect.objectContaining({ ExtendedStatistic: 'p99', Threshold: DEV.apiLatencyP99Ms, ComparisonOperator: 'GreaterThanThreshold' }),
    ]);
    expect(alarmOn('AWS/ApiGateway', '5xx', { Name: 'ApiId', Value: { Ref: api } })).toEqual([
      expect.objectContaining({ Statistic: 'Sum', Threshold: DEV.api5xxErrors }),
    ]);
  });

  it('watch every delivery stream (request log and feedback events): records waiting too long, and failed S3 puts', () => {
    const streams = ofType('AWS::KinesisFirehose::DeliveryStream').map(([id]) => id);
    expect(streams).toHaveLength(2);
    for (const stream of streams) {
      const dimension = { Name: 'DeliveryStreamName', Value: { Ref: stream } };
      expect(alarmOn('AWS/Firehose', 'DeliveryToS3.DataFreshness', dimension)).toEqual([
        expect.objectContaining({
          Statistic: 'Maximum',
          Threshold: DEV.deliveryFreshnessSeconds,
          ComparisonOperator: 'GreaterThanThreshold',
        }),
      ]);
      expect(alarmOn('AWS/Firehose', 'DeliveryToS3.Success', dimension)).toEqual([
        expect.objectContaining({ Statistic: 'Minimum', Threshold: 1, ComparisonOperator: 'LessThanThreshold' }),
      ]);
    }
  });

  it.each(['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'])(
    'fire on the first retraining execution counted in %s',
    (metric) => {
      expect(alarmOn('AWS/States', metric, { Name: 'StateMachineArn', Value: { Ref: STATE_MACHINE.id } })).toEqual([
        expect.objectContaining({
          Statistic: 'Sum',
          Threshold: 1,
          EvaluationPeriods: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        }),
      ]);
    },
  );
});

describe('EventBridge targets', () => {
  const rules = () => ofType('AWS::Events::Rule');
  const targetsOf = (rule: Resource) =>
    rule.Properties?.Targets as { Arn: unknown; RetryPolicy?: Record<string, number>; DeadLetterConfig?: { Arn: unknown } }[];

  it('every target that runs our code has a retry policy and a dead-letter queue', () => {
    const ours = rules().flatMap(([id, rule]) =>
      targetsOf(rule)
        .filter((t) => !JSON.stringify(t.Arn).includes('"Ref":"MonitoringTopic'))
        .map((t) => [id, t] as const),
    );
    // 3 retraining schedules, the canary monitor schedule, the failed-execution rule's Lambda.
    expect(ours).toHaveLength(5);
    for (const [id, target] of ours) {
      expect(target.RetryPolicy, id).toMatchObject({
        MaximumRetryAttempts: expect.any(Number),
        MaximumEventAgeInSeconds: expect.any(Number),
      });
      const queueId = (target.DeadLetterConfig?.Arn as { 'Fn::GetAtt': [string, string] } | undefined)?.['Fn::GetAtt'][0];
      expect(stack.json.Resources[queueId ?? '']?.Type, id).toBe('AWS::SQS::Queue');
    }
    expect(new Set(ours.map(([, t]) => JSON.stringify(t.DeadLetterConfig))).size).toBe(5);
  });

  it('dead-letter queues are encrypted, refuse plain HTTP, accept their rule only, and page on their first message', () => {
    const queues = ofType('AWS::SQS::Queue');
    expect(queues).toHaveLength(5);
    for (const [id, queue] of queues) {
      expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
      const policy = ofType('AWS::SQS::QueuePolicy').find(([, p]) => JSON.stringify(p.Properties?.Queues).includes(`"${id}"`));
      const statements = JSON.stringify(policy?.[1].Properties?.PolicyDocument);
      expect(statements).toContain('"aws:SecureTransport":"false"');
      expect(statements).toContain('"Service":"events.amazonaws.com"');
      expect(statements).toContain('"aws:SourceArn"');
      expect(
        alarmOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }),
      ).toEqual([expect.objectContaining({ Threshold: 1, EvaluationPeriods: 1 })]);
    }
  });

  it('a failed, timed-out or aborted retraining execution notifies the topic and invokes RecordExecutionFailure', () => {
    const matching = rules().filter(([, r]) => JSON.stringify(r.Properties?.EventPattern ?? {}).includes(EXECUTION_STATUS_CHANGE));
    expect(matching).toHaveLength(1);
    const rule = matching[0]![1];
    expect(rule.Properties?.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: STATE_MACHINE.id }] },
    });
    const arns = targetsOf(rule).map((t) => t.Arn);
    expect(arns).toEqual([{ Ref: topicId() }, { 'Fn::GetAtt': [FUNCTIONS.recordExecutionFailure.id, 'Arn'] }]);
    stack.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [FUNCTIONS.recordExecutionFailure.id, 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
  });

  it('RecordExecutionFailure may write the registry and nothing in S3', () => {
    const statements = statementsOfRole(stack.json.Resources, roleOfFunction(stack.json.Resources, FUNCTIONS.recordExecutionFailure.id));
    expect(statements.filter((s) => s.Action.includes('dynamodb:UpdateItem')).flatMap((s) => s.Resource)).toContainEqual({
      'Fn::GetAtt': ['RegistryTable', 'Arn'],
    });
    expect(statements.filter((s) => s.Action.some((a) => a.startsWith('s3:')))).toEqual([]);
  });
});
