/**
 * Operations: one SNS topic that tells a person when something breaks, the CloudWatch alarms that
 * publish to it, and the EventBridge rule that catches retraining executions ending FAILED,
 * TIMED_OUT or ABORTED: it notifies the topic and invokes RecordExecutionFailure, so a run whose
 * execution died where no Catch could run (the execution timeout, an abort) is still recorded failed.
 *
 * Rejected runs and canary rollbacks reach the same topic from the functions themselves
 * (lib/aws/notify.ts; `ShelvesFunction.bindTopic` sets the ARN and the publish grant together).
 * The runbook (what each alarm means, what to do) is in the README's operations section.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { FAILED_EXECUTION_STATUSES } from '../wiring/resources.ts';
import type { AlarmThresholds } from './app-config.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';

/** The detail type EventBridge gives Step Functions execution status changes. */
export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';

export interface MonitoringProps {
  /** Every Lambda of the stack, by a readable name (its FUNCTIONS id): Errors and Throttles alarms each. */
  readonly functions: Readonly<Record<string, IFunction>>;
  readonly stateMachine: IStateMachine;
  /** Invoked with the status-change event of every failed, timed-out or aborted execution. */
  readonly recordExecutionFailure: IFunction;
  readonly httpApi: HttpApi;
  /**
   * The Firehose delivery streams by alarm prefix (e.g. RequestLog, Feedback) with what they carry, in
   * words for the alarm text: a freshness and a delivery-success alarm each.
   */
  readonly deliveryStreams: Readonly<Record<string, { readonly name: string; readonly carries: string }>>;
  /** Dead-letter queues of the schedules, by name: an alarm fires on the first message. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
  readonly thresholds: AlarmThresholds;
  /** Subscribed to the topic by e-mail (the address confirms once); default no subscription. */
  readonly alarmEmail?: string;
  /** The topic's key on stack deletion; default RETAIN. */
  readonly removalPolicy?: RemovalPolicy;
}

/** The operations topic, every alarm, and the failed-execution rule. */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  /** Catches FAILED, TIMED_OUT and ABORTED executions of the retraining state machine. */
  readonly executionFailedRule: events.Rule;
  /** Dead letters of the failed-execution rule's Lambda target. */
  readonly executionFailedDeadLetters: DeadLetterQueue;

  private readonly period: Duration;
  private readonly thresholds: AlarmThresholds;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.thresholds = props.thresholds;
    this.period = Duration.minutes(props.thresholds.periodMinutes);

    // A customer managed key: CloudWatch and EventBridge cannot publish to a topic under the AWS managed SNS key.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the home-shelves operations topic',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal(service)],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
    }
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'home-shelves operations',
      masterKey: key,
      enforceSSL: true,
    });
    // CloudWatch alarms publish as the service principal.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
      }),
    );
    if (props.alarmEmail !== undefined) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    for (const [name, fn] of Object.entries(props.functions)) {
      this.alarm(`${name}Errors`, fn.metricErrors({ period: this.period, statistic: 'Sum' }), {
        threshold: this.thresholds.lambdaErrors,
        description: `${name} raised errors (function error or timeout). Runbook: Lambda errors.`,
      });
      this.alarm(`${name}Throttles`, fn.metricThrottles({ period: this.period, statistic: 'Sum' }), {
        threshold: this.thresholds.lambdaThrottles,
        description: `${name} invocations were throttled (account or reserved concurrency). Runbook: Lambda throttles.`,
      });
    }

    this.alarm('ApiLatencyP99', props.httpApi.metricLatency({ period: this.period, statistic: 'p99' }), {
      threshold: this.thresholds.apiLatencyP99Ms,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `p99 latency of the serving API above ${this.thresholds.apiLatencyP99Ms} ms. Runbook: API latency.`,
    });
    this.alarm('Api5xx', props.httpApi.metricServerError({ period: this.period, statistic: 'Sum' }), {
      threshold: this.thresholds.api5xxErrors,
      description: 'The serving API answered 5xx. Runbook: API server errors.',
    });

    for (const [prefix, stream] of Object.entries(props.deliveryStreams)) {
      const firehose = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/Firehose',
          metricName,
          dimensionsMap: { DeliveryStreamName: stream.name },
          period: this.period,
          statistic,
        });
      const runbook = `Runbook: ${stream.carries} delivery.`;
      this.alarm(`${prefix}DeliveryFreshness`, firehose('DeliveryToS3.DataFreshness', 'Maximum'), {
        threshold: this.thresholds.deliveryFreshnessSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: `${stream.carries.charAt(0).toUpperCase()}${stream.carries.slice(1)} records older than ${this.thresholds.deliveryFreshnessSeconds} s are still not in S3. ${runbook}`,
      });
      // Success is the share of S3 puts that succeeded (0..1), reported only while the stream delivers.
      this.alarm(`${prefix}DeliverySuccess`, firehose('DeliveryToS3.Success', 'Minimum'), {
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        description: `Firehose failed to put ${stream.carries} objects into the raw bucket. ${runbook}`,
      });
    }

    const sm = props.stateMachine;
    const runAlarms: [string, cloudwatch.IMetric][] = [
      ['ExecutionsFailed', sm.metricFailed({ period: this.period, statistic: 'Sum' })],
      ['ExecutionsTimedOut', sm.metricTimedOut({ period: this.period, statistic: 'Sum' })],
      ['ExecutionsAborted', sm.metricAborted({ period: this.period, statistic: 'Sum' })],
    ];
    for (const [name, metric] of runAlarms) {
      // One failed retraining run is worth a look in every stage: a shelf keeps serving an older model.
      this.alarm(`Retraining${name}`, metric, {
        threshold: 1,
        evaluationPeriods: 1,
        description: `A retraining execution ended ${name.replace('Executions', '').toLowerCase()}. Runbook: failed runs.`,
      });
    }

    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      this.alarm(`${name}DeadLetters`, queue.metricApproximateNumberOfMessagesVisible({ period: this.period, statistic: 'Maximum' }), {
        threshold: 1,
        evaluationPeriods: 1,
        description: `${name}: EventBridge could not deliver an event to its target after retrying. Runbook: dead letters.`,
      });
    }

    this.executionFailedDeadLetters = new DeadLetterQueue(this, 'ExecutionFailedDeadLetters', {
      deliveredBy: 'the failed-execution rule (RecordExecutionFailure target)',
    });
    this.executionFailedRule = new events.Rule(this, 'ExecutionFailedRule', {
      description: 'A retraining execution failed, timed out or was aborted: notify, and record the run failed',
      eventPattern: {
        source: ['aws.states'],
        detailType: [EXECUTION_STATUS_CHANGE],
        detail: { status: [...FAILED_EXECUTION_STATUSES], stateMachineArn: [sm.stateMachineArn] },
      },
      targets: [
        new targets.SnsTopic(this.topic, {
          message: events.RuleTargetInput.fromText(
            `home-shelves retraining execution ${events.EventField.fromPath('$.detail.name')} ended ${events.EventField.fromPath('$.detail.status')}. Input: ${events.EventField.fromPath('$.detail.input')}. Error: ${events.EventField.fromPath('$.detail.error')}. Cause: ${events.EventField.fromPath('$.detail.cause')}`,
          ),
        }),
        new targets.LambdaFunction(props.recordExecutionFailure, {
          deadLetterQueue: this.executionFailedDeadLetters.queue,
          retryAttempts: 4,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
    this.alarm(
      'ExecutionFailedRuleDeadLetters',
      this.executionFailedDeadLetters.queue.metricApproximateNumberOfMessagesVisible({ period: this.period, statistic: 'Maximum' }),
      {
        threshold: 1,
        evaluationPeriods: 1,
        description: 'A failed execution could not be recorded in the registry. Runbook: dead letters.',
      },
    );
  }

  private alarm(
    id: string,
    metric: cloudwatch.IMetric,
    options: {
      readonly threshold: number;
      readonly description: string;
      readonly evaluationPeriods?: number;
      readonly comparisonOperator?: cloudwatch.ComparisonOperator;
    },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods ?? this.thresholds.evaluationPeriods,
      comparisonOperator: options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means nothing ran (no invocations, no deliveries): not a failure.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}
