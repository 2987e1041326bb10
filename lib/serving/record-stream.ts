/**
 * Where serving's streams of JSON records go (feedback posted to /v1/events, request logs): a
 * Kinesis Data Firehose delivery stream in AWS, which lands them in the raw bucket under
 * `<prefix>dt=YYYY-MM-DD/` (lib/infra/serving.ts, BucketDeliveryStream); locally, where there is no
 * Firehose, the same JSON Lines under the same day-partitioned prefix of the local bucket, written in
 * batches by a buffer flushed by size, by time, on `flush()` and before the process exits.
 *
 * Either way a request does not become one S3 object: Firehose buffers (300 s or 64 MB) and the local
 * buffer writes one object per day per flush.
 */
import { FirehoseClient, PutRecordBatchCommand, type _Record } from '@aws-sdk/client-firehose';
import { formatS3Uri, putObjectBytes } from '../aws/s3-uri.ts';

/** A sink of JSON records, delivered in order of arrival (best effort across flushes). */
export interface RecordStream {
  /** Accepts records; they are durable once Firehose accepted them (AWS) or once flushed (locally). */
  put(records: readonly object[]): Promise<void>;
  /** Delivers whatever is buffered (a no-op for Firehose, which buffers on its side). */
  flush(): Promise<void>;
}

/** Records Firehose still refused after every retry of a PutRecordBatch. */
export class RecordDeliveryError extends Error {
  override readonly name = 'RecordDeliveryError';
}

/** PutRecordBatch takes at most 500 records and 4 MiB per call. */
const FIREHOSE_MAX_RECORDS = 500;
const FIREHOSE_MAX_BYTES = 4 * 1024 * 1024;
const FIREHOSE_ATTEMPTS = 4;

/** A Firehose delivery stream: records as JSON Lines, 500 (or 4 MiB) per call, refused records retried. */
export function firehoseStream(streamName: string, client: Pick<FirehoseClient, 'send'> = new FirehoseClient({})): RecordStream {
  const send = async (batch: _Record[]): Promise<void> => {
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const out = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: streamName, Records: pending }));
      if ((out.FailedPutCount ?? 0) === 0) return;
      // Responses are in request order; a record with an ErrorCode was not taken (throttling, mostly).
      const refused = pending.filter((_, i) => out.RequestResponses?.[i]?.ErrorCode !== undefined);
      if (attempt >= FIREHOSE_ATTEMPTS) {
        const code = out.RequestResponses?.find((r) => r.ErrorCode !== undefined)?.ErrorCode;
        throw new RecordDeliveryError(
          `Firehose stream ${streamName} refused ${refused.length} of ${batch.length} records after ${attempt} attempts (${code}); expected 0`,
        );
      }
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      pending = refused;
    }
  };
  return {
    async put(records) {
      let batch: _Record[] = [];
      let bytes = 0;
      for (const record of records) {
        const data = Buffer.from(`${JSON.stringify(record)}\n`);
        if (batch.length === FIREHOSE_MAX_RECORDS || (batch.length > 0 && bytes + data.length > FIREHOSE_MAX_BYTES)) {
          await send(batch);
          batch = [];
          bytes = 0;
        }
        batch.push({ Data: data });
        bytes += data.length;
      }
      if (batch.length > 0) await send(batch);
    },
    async flush() {},
  };
}

export interface BufferedBucketStreamOptions {
  /** The bucket (read at the first flush: a process that never writes needs no bucket). */
  readonly bucket: () => string;
  /** Key prefix ending with `/`; objects are `<prefix>dt=YYYY-MM-DD/<time>-<random>.jsonl`. */
  readonly prefix: string;
  /** Records that trigger a flush; default 500. 1 writes every put at once. */
  readonly maxRecords?: number;
  /** Longest a record waits in the buffer, ms; default 1000. */
  readonly maxDelayMs?: number;
  /** The clock that dates records (their day partition); default Date.now. */
  readonly now?: () => number;
}

/** Every buffered stream of this process, flushed before it exits and by flushRecordStreams. */
const LIVE = new Set<BufferedBucketStream>();
let exitHookInstalled = false;

/** Delivers what every buffered stream of this process holds (a reader in the same process calls it first). */
export async function flushRecordStreams(): Promise<void> {
  await Promise.all([...LIVE].map((s) => s.flush()));
}

/** The local stand-in for a delivery stream: JSON Lines objects in the bucket, by day of arrival. */
export class BufferedBucketStream implements RecordStream {
  private buffer: { readonly day: string; readonly line: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxRecords: number;
  private readonly maxDelayMs: number;
  private readonly now: () => number;
  /** Objects written so far (for tests and logs). */
  objectsWritten = 0;

  constructor(private readonly options: BufferedBucketStreamOptions) {
    this.maxRecords = options.maxRecords ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 1000;
    this.now = options.now ?? Date.now;
    LIVE.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      // The event loop is empty but records are buffered: write them (the flush keeps the process alive until done).
      process.on('beforeExit', () => void flushRecordStreams().catch(() => undefined));
    }
  }

  async put(records: readonly object[]): Promise<void> {
    if (records.length === 0) return;
    const day = new Date(this.now()).toISOString().slice(0, 10);
    for (const r of records) this.buffer.push({ day, line: JSON.stringify(r) });
    if (this.buffer.length >= this.maxRecords) await this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush().catch(() => undefined), this.maxDelayMs);
      this.timer.unref(); // a quiet process may exit; the beforeExit hook writes what is left
    }
  }

  /** Writes the buffer: one object per day partition. Records of a failed write go back to the buffer and the error is thrown. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    // One flush at a time, in order: a later flush waits for the one writing (failed or not).
    this.flushing = this.flushing.catch(() => undefined).then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    const byDay = new Map<string, string[]>();
    for (const { day, line } of batch) (byDay.get(day) ?? byDay.set(day, []).get(day))?.push(line);
    const written = new Set<string>();
    try {
      for (const [day, lines] of byDay) {
        const name = `${this.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}.jsonl`;
        await putObjectBytes(
          formatS3Uri(this.options.bucket(), `${this.options.prefix}dt=${day}/${name}`),
          `${lines.join('\n')}\n`,
          'application/x-ndjson',
        );
        written.add(day);
        this.objectsWritten++;
      }
    } catch (error) {
      this.buffer = [...batch.filter((r) => !written.has(r.day)), ...this.buffer];
      throw error;
    }
  }
}

export interface RecordStreamOptions extends BufferedBucketStreamOptions {
  /** The Firehose delivery stream; unset: the local buffered stand-in. */
  readonly streamName?: string | undefined;
}

/** The stream for `streamName` when there is one (AWS), else the local buffered stand-in. */
export function recordStream(options: RecordStreamOptions): RecordStream {
  return options.streamName !== undefined ? firehoseStream(options.streamName) : new BufferedBucketStream(options);
}
