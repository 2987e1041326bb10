/**
 * Operational notifications (rejected runs, canary rollbacks) on the operations SNS topic. The topic's
 * ARN comes from the environment (ENV.notificationTopic, bound with its publish grant by the project
 * function construct); where it is unset, as in the local runtime, notifying does nothing.
 *
 * A notification never fails the work that caused it: the registry already holds the outcome, and a
 * failed publish is logged (the operator still sees it in `shelves status`).
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ENV } from '../wiring/resources.ts';
import { readEnv } from '../wiring/env.ts';

/** What an operator reads: a subject line (at most 100 characters, SNS's limit) and a body. */
export interface Notification {
  readonly subject: string;
  readonly message: string;
}

export interface NotifyResult {
  /** True when SNS accepted the message. */
  readonly sent: boolean;
  /** Why it was not sent: no topic configured, or the publish error. */
  readonly reason?: string;
  readonly messageId?: string;
}

/** SNS limits a subject to 100 printable ASCII characters without line breaks. */
const SUBJECT_MAX = 100;

const TOPIC_ARN = readEnv('NOTIFICATION_TOPIC_ARN');
let defaultClient: SNSClient | undefined;

/** Publishes `notification` to `topicArn` with `client`; never throws. */
export async function publishNotification(topicArn: string, notification: Notification, client: SNSClient): Promise<NotifyResult> {
  try {
    const result = await client.send(
      new PublishCommand({ TopicArn: topicArn, Subject: subjectLine(notification.subject), Message: notification.message }),
    );
    return { sent: true, ...(result.MessageId !== undefined ? { messageId: result.MessageId } : {}) };
  } catch (error) {
    const reason = `publish to ${topicArn} failed: ${(error as Error).name}: ${(error as Error).message}`;
    console.error(JSON.stringify({ level: 'WARN', message: 'notification not sent', reason, subject: notification.subject }));
    return { sent: false, reason };
  }
}

/** Publishes to the topic named by the environment at module load; a no-op when none is set. */
export async function notify(notification: Notification): Promise<NotifyResult> {
  if (TOPIC_ARN === undefined || TOPIC_ARN === '') return { sent: false, reason: `${ENV.notificationTopic} is not set` };
  defaultClient ??= new SNSClient({});
  return publishNotification(TOPIC_ARN, notification, defaultClient);
}

/** The subject as SNS accepts it: printable ASCII, one line, at most 100 characters. */
export function subjectLine(subject: string): string {
  const ascii = subject.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= SUBJECT_MAX ? ascii : `${ascii.slice(0, SUBJECT_MAX - 3)}...`;
}
