/**
 * Reads what the canary monitor judges feedback against: the request log (what serving actually
 * served, under the raw bucket's requests/ prefix: JSON Lines written by serving locally, GZIP JSON
 * Lines delivered by Firehose in AWS) and the feedback itself (feedback/ prefix). A line that does not
 * parse is skipped and counted, never fatal: one bad object must not stop every canary decision.
 */
import { gunzipSync } from 'node:zlib';
import { formatS3Uri, getObjectBytesIfExists, listKeys } from '../aws/s3-uri.ts';
import type { FeedbackClaim, ServedResponse } from '../core/gate/feedback-match.ts';
import { PREFIXES } from '../wiring/resources.ts';
import { flushRecordStreams } from './record-stream.ts';

/** JSON Lines of an object, gunzipped first when it starts with the GZIP magic bytes. */
function* jsonLines(bytes: Uint8Array): Generator<unknown | undefined> {
  const plain = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  for (const line of Buffer.from(plain).toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as unknown;
    } catch {
      yield undefined;
    }
  }
}

async function readLines(bucket: string, prefix: string, onSkipped: () => void, visit: (row: unknown) => void): Promise<void> {
  for (const key of await listKeys(formatS3Uri(bucket, prefix))) {
    if (key.endsWith('/')) continue;
    // A key listed and gone (lifecycle expiry) is not an error; anything else is.
    const bytes = await getObjectBytesIfExists(formatS3Uri(bucket, key));
    if (bytes === undefined) continue;
    try {
      for (const row of jsonLines(bytes)) {
        if (row === undefined || typeof row !== 'object' || row === null) onSkipped();
        else visit(row);
      }
    } catch {
      onSkipped(); // a truncated GZIP object
    }
  }
}

export interface FeedbackLog {
  /** Served responses that showed `shelf`, with only that shelf kept. */
  readonly served: ServedResponse[];
  /** Feedback events that name `shelf` or no shelf. */
  readonly events: FeedbackClaim[];
  /** Lines or objects that could not be read. */
  readonly skipped: number;
}

const isString = (v: unknown): v is string => typeof v === 'string';

/** The request log and the feedback of one shelf, from the raw bucket. */
export async function readFeedbackLog(rawBucket: string, shelf: string): Promise<FeedbackLog> {
  // Locally the API and the monitor often share a process: what its buffers hold counts too.
  await flushRecordStreams();
  let skipped = 0;
  const served: ServedResponse[] = [];
  await readLines(
    rawBucket,
    PREFIXES.requestLogs,
    () => skipped++,
    (row) => {
      const r = row as Partial<ServedResponse>;
      if (!isString(r.requestId) || !isString(r.userId) || !isString(r.at) || !Array.isArray(r.shelves)) return void skipped++;
      const shelves = r.shelves.filter((s) => s?.shelf === shelf && isString(s.modelVersion) && Array.isArray(s.items));
      if (shelves.length > 0) served.push({ requestId: r.requestId, userId: r.userId, at: r.at, shelves });
    },
  );
  const events: FeedbackClaim[] = [];
  await readLines(
    rawBucket,
    PREFIXES.feedback,
    () => skipped++,
    (row) => {
      const e = row as Partial<FeedbackClaim>;
      if (!isString(e.userId) || !isString(e.itemId) || !isString(e.eventType) || !isString(e.timestamp)) return void skipped++;
      if (e.shelf === undefined || e.shelf === shelf) events.push(e as FeedbackClaim);
    },
  );
  return { served, events, skipped };
}
