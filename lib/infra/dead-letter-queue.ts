/**
 * The dead-letter queue of one EventBridge target: events the target still could not take after the
 * rule's retries land here (with the error in their attributes) instead of being dropped, and the
 * monitoring alarms on the queue's depth.
 */
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeRule } from './nag.ts';

export interface DeadLetterQueueProps {
  /** What delivers into this queue, for the description of the nag acknowledgement. */
  readonly deliveredBy: string;
  /** How long a dead letter is kept; default 14 days (the SQS maximum), time to read and replay it. */
  readonly retention?: Duration;
}

/** An encrypted, TLS-only SQS queue that receives one EventBridge target's undeliverable events. */
export class DeadLetterQueue extends Construct {
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.retention ?? Duration.days(14),
    });
    acknowledgeRule(
      this.queue,
      'AwsSolutions-SQS3',
      `This queue is itself the dead-letter queue of ${props.deliveredBy} (an EventBridge target DLQ, which SQS redrive policies do not show).`,
    );
  }
}
