/**
 * Notifications on the operations topic, sent by the real SNS client to a loopback server that
 * speaks SNS's query protocol (there is no local SNS engine): what goes over the wire, and what a
 * rejected run publishes when the topic ARN is in the environment as the stack sets it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { publishNotification, subjectLine } from '../../lib/aws/notify.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { ENV } from '../../lib/wiring/resources.ts';

const TOPIC = 'arn:aws:sns:us-east-1:000000000000:home-shelves-ops';
let server: Server;
let endpoint: string;
const received: Record<string, string>[] = [];
/** The status and body the server answers with next (default: a successful Publish). */
let reply: { status: number; body: string } | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      received.push(Object.fromEntries(new URLSearchParams(body)));
      const answer = reply ?? {
        status: 200,
        body: `<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>msg-${received.length}</MessageId></PublishResult><ResponseMetadata><RequestId>req-${received.length}</RequestId></ResponseMetadata></PublishResponse>`,
      };
      res.writeHead(answer.status, { 'content-type': 'text/xml' }).end(answer.body);
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((closed) => server.close(closed));
});

const client = () =>
  new SNSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });

describe('publishNotification', () => {
  it('publishes the subject and message to the topic and returns the message id', async () => {
    received.length = 0;
    const result = await publishNotification(TOPIC, { subject: 'home-shelves: podcasts canary rolled back', message: 'why' }, client());
    expect(result).toEqual({ sent: true, messageId: 'msg-1' });
    expect(received).toEqual([
      expect.objectContaining({
        Action: 'Publish',
        TopicArn: TOPIC,
        Subject: 'home-shelves: podcasts canary rolled back',
        Message: 'why',
      }),
    ]);
  });

  it('reports a refused publish without throwing, naming the topic and the error', async () => {
    reply = {
      status: 404,
      body: '<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>',
    };
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const result = await publishNotification(TOPIC, { subject: 's', message: 'm' }, client());
      expect(result).toEqual({ sent: false, reason: expect.stringMatching(new RegExp(`^publish to ${TOPIC} failed: NotFound`)) });
      expect(errors).toHaveBeenCalledOnce();
    } finally {
      reply = undefined;
      errors.mockRestore();
    }
  });
});

describe('subjectLine', () => {
  it.each([
    ['short', 'short'],
    ['two\nlines', 'two lines'],
    ['café', 'caf?'],
    ['x'.repeat(120), `${'x'.repeat(97)}...`],
  ])('makes %j a subject SNS accepts: %j', (subject, expected) => {
    expect(subjectLine(subject)).toBe(expected);
    expect(subjectLine(subject).length).toBeLessThanOrEqual(100);
  });
});

describe('a rejected run', () => {
  let home: string;
  let engines: LocalEngines;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'shelves-notify-'));
    engines = await startLocalEngines({ home });
  }, 120_000);
  afterAll(async () => {
    await engines.stop();
    await rm(home, { recursive: true, force: true });
    delete process.env[ENV.notificationTopic];
    delete process.env.AWS_ENDPOINT_URL_SNS;
  });

  it('is told on the topic named by the environment, after the registry holds the rejection', async () => {
    // As the stack sets it; the SDK's service endpoint variable points the client at the loopback server.
    process.env[ENV.notificationTopic] = TOPIC;
    process.env.AWS_ENDPOINT_URL_SNS = endpoint;
    vi.resetModules();
    const { recordRejection } = await import('../../lib/pipeline/outcomes.ts');
    const { ModelRegistry } = await import('../../lib/aws/registry.ts');
    const registry = new ModelRegistry();
    await registry.beginRun('podcasts', 'notify-1', { startedAt: '2026-12-01T03:00:00.000Z' });
    await registry.putVersion({
      shelf: 'podcasts',
      versionId: 'podcasts-notify-1',
      runId: 'notify-1',
      kind: 'hybrid',
      status: 'evaluated',
      artifactUri: 's3://home-shelves-artifacts/runs/podcasts/notify-1/model.tar.gz',
      reportUri: 's3://home-shelves-artifacts/runs/podcasts/notify-1/report.json',
      metrics: {},
      decision: { pass: false, reasons: ['ndcg@10 below the floor'] },
      dataSnapshot: 'snap',
      transformVersion: 't1',
      createdAt: '2026-12-01T03:00:00.000Z',
    });
    received.length = 0;
    type Args = Parameters<typeof recordRejection>;
    const outcome = await recordRejection(
      { shelf: 'podcasts', runId: 'notify-1' } as Args[0],
      { versionId: 'podcasts-notify-1', decision: { pass: false, reasons: ['ndcg@10 below the floor'] } } as Args[1],
      { registry, now: () => new Date('2026-12-01T04:00:00.000Z') },
    );
    expect(outcome.status).toBe('rejected');
    expect((await registry.getRun('podcasts', 'notify-1'))?.status).toBe('rejected');
    expect(received).toEqual([
      expect.objectContaining({
        Action: 'Publish',
        TopicArn: TOPIC,
        Subject: 'home-shelves: podcasts run notify-1 rejected by the gate',
        Message: expect.stringContaining('ndcg@10 below the floor'),
      }),
    ]);
  });
});
