/**
 * Serving's record streams (lib/serving/record-stream.ts): PutRecordBatch calls as Firehose takes them
 * (a stand-in client that answers as the service does, there being no local Firehose), and the local
 * stand-in on s3rver: batches by size and time, one object per day partition, nothing lost on flush,
 * and POST /v1/events through the real handler lands in feedback/dt=YYYY-MM-DD/ in batches.
 */
import type { FirehoseClient, PutRecordBatchCommand, PutRecordBatchCommandOutput } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../lib/aws/clients.ts';
import { formatS3Uri, getObjectBytes, listKeys } from '../../lib/aws/s3-uri.ts';
import { awsServingPorts } from '../../lib/serving/aws-ports.ts';
import { inProcessLimiters } from '../../lib/serving/feedback-intake.ts';
import { BufferedBucketStream, firehoseStream, flushRecordStreams, RecordDeliveryError } from '../../lib/serving/record-stream.ts';
import { PREFIXES, RAW_BUCKET } from '../../lib/wiring/resources.ts';
import type { FeedbackEvent } from '../../lib/api/schemas.ts';
import { startTestEngines } from '../aws/local-engines.ts';

const bucket = RAW_BUCKET.localName;

/** A Firehose client double: records every PutRecordBatch and refuses the records `refuse` picks. */
function firehose(refuse: (call: number, index: number) => boolean = () => false) {
  const calls: { stream: string; lines: string[] }[] = [];
  const client = {
    async send(command: PutRecordBatchCommand): Promise<PutRecordBatchCommandOutput> {
      const input = command.input;
      const call = calls.length;
      calls.push({
        stream: input.DeliveryStreamName as string,
        lines: (input.Records ?? []).map((r) => Buffer.from(r.Data as Uint8Array).toString()),
      });
      const responses = (input.Records ?? []).map((_, i) =>
        refuse(call, i) ? { ErrorCode: 'ServiceUnavailableException' } : { RecordId: `r${i}` },
      );
      return { FailedPutCount: responses.filter((r) => 'ErrorCode' in r).length, RequestResponses: responses, $metadata: {} };
    },
  } as unknown as Pick<FirehoseClient, 'send'>;
  return { client, calls };
}

describe('the Firehose stream', () => {
  it('sends JSON Lines, at most 500 records per PutRecordBatch', async () => {
    const { client, calls } = firehose();
    await firehoseStream('feedback-stream', client).put(Array.from({ length: 1201 }, (_, i) => ({ n: i })));
    expect(calls.map((c) => c.lines.length)).toEqual([500, 500, 201]);
    expect(calls[0]?.stream).toBe('feedback-stream');
    expect(calls[2]?.lines.at(-1)).toBe('{"n":1200}\n');
  });

  it('sends records refused by the service again, and only those', async () => {
    const { client, calls } = firehose((call, i) => call === 0 && i % 2 === 1);
    await firehoseStream('s', client).put([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
    expect(calls.map((c) => c.lines.join(''))).toEqual(['{"n":0}\n{"n":1}\n{"n":2}\n{"n":3}\n', '{"n":1}\n{"n":3}\n']);
  });

  it('fails with RecordDeliveryError naming how many records it could not deliver', async () => {
    const { client } = firehose((_, i) => i === 0);
    const put = firehoseStream('s', client).put([{ n: 0 }, { n: 1 }]);
    await expect(put).rejects.toThrow(RecordDeliveryError);
    await expect(firehoseStream('s', firehose((_, i) => i === 0).client).put([{ n: 0 }])).rejects.toThrow(
      /refused 1 of 1 records after 4 attempts \(ServiceUnavailableException\); expected 0/,
    );
  });
});

describe('the local stand-in on s3rver', () => {
  let engines: Awaited<ReturnType<typeof startTestEngines>>;
  beforeAll(async () => {
    engines = await startTestEngines();
  }, 60_000);
  afterAll(async () => {
    await engines?.cleanup();
  });
  beforeEach(async () => {
    for (const Key of await listKeys(formatS3Uri(bucket, 'test-stream/')))
      await s3Client().send(new DeleteObjectCommand({ Bucket: bucket, Key }));
  });

  const objects = async (prefix: string) => {
    const keys = (await listKeys(formatS3Uri(bucket, prefix))).sort();
    const lines = [];
    for (const key of keys)
      lines.push(
        ...Buffer.from(await getObjectBytes(formatS3Uri(bucket, key)))
          .toString()
          .trim()
          .split('\n'),
      );
    return { keys, lines };
  };

  it('writes one object when the buffer reaches its size, and holds fewer records until then', async () => {
    const stream = new BufferedBucketStream({
      bucket: () => bucket,
      prefix: 'test-stream/',
      maxRecords: 3,
      maxDelayMs: 60_000,
      now: () => Date.parse('2026-10-01T10:00:00Z'),
    });
    await stream.put([{ n: 0 }, { n: 1 }]);
    expect((await objects('test-stream/')).keys).toEqual([]);
    await stream.put([{ n: 2 }]);
    const { keys, lines } = await objects('test-stream/');
    expect(keys).toEqual([expect.stringMatching(/^test-stream\/dt=2026-10-01\/[0-9a-z]+-[0-9a-z]+\.jsonl$/)]);
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
  });

  it('writes what waited its longest delay', async () => {
    const stream = new BufferedBucketStream({ bucket: () => bucket, prefix: 'test-stream/', maxRecords: 100, maxDelayMs: 50 });
    await stream.put([{ n: 0 }]);
    for (let i = 0; i < 100 && stream.objectsWritten === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await objects('test-stream/')).lines).toEqual(['{"n":0}']);
  });

  it('writes one object per day of arrival, and everything on flush', async () => {
    let now = Date.parse('2026-10-01T23:59:59Z');
    const stream = new BufferedBucketStream({ bucket: () => bucket, prefix: 'test-stream/', maxDelayMs: 60_000, now: () => now });
    await stream.put([{ n: 0 }]);
    now += 2000;
    await stream.put([{ n: 1 }, { n: 2 }]);
    await flushRecordStreams();
    const { keys, lines } = await objects('test-stream/');
    expect(keys.map((k) => k.split('/')[1])).toEqual(['dt=2026-10-01', 'dt=2026-10-02']);
    expect(lines).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
  });

  it('keeps the records of a failed write and writes them at the next flush', async () => {
    let name = 'no-such-bucket';
    const stream = new BufferedBucketStream({ bucket: () => name, prefix: 'test-stream/', maxDelayMs: 60_000 });
    await stream.put([{ n: 0 }, { n: 1 }]);
    await expect(stream.flush()).rejects.toThrow();
    name = bucket;
    await stream.flush();
    expect((await objects('test-stream/')).lines).toEqual(['{"n":0}', '{"n":1}']);
  });

  it('lands POST /v1/events feedback in feedback/dt=YYYY-MM-DD/ as a few objects, not one per request', async () => {
    const ports = awsServingPorts({ now: () => Date.parse('2026-11-05T08:00:00Z'), feedbackLimiters: inProcessLimiters() });
    const event = (userId: string, n: number): FeedbackEvent => ({
      userId,
      itemId: `sh-${n}`,
      eventType: 'impression',
      timestamp: '2026-11-05T07:59:00Z',
      msPlayed: 0,
    });
    const before = await listKeys(formatS3Uri(bucket, `${PREFIXES.feedback}dt=2026-11-05/`));
    for (let request = 0; request < 40; request++) await ports.writeFeedback([event(`u-${request}`, 1), event(`u-${request}`, 2)]);
    await flushRecordStreams();
    const keys = (await listKeys(formatS3Uri(bucket, `${PREFIXES.feedback}dt=2026-11-05/`))).filter((k) => !before.includes(k));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length).toBeLessThan(5);
    let lines = 0;
    for (const key of keys)
      lines += Buffer.from(await getObjectBytes(formatS3Uri(bucket, key)))
        .toString()
        .trim()
        .split('\n').length;
    expect(lines).toBe(80);
  });
});
