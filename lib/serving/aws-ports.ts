/**
 * Serving's ports over the AWS adapters: endpoints and registry in DynamoDB, artifacts and data in S3,
 * request logs to Kinesis Data Firehose when REQUEST_LOG_STREAM is set (in AWS) and to the raw bucket's
 * requests/ prefix otherwise (locally), feedback to the raw bucket's feedback/ prefix.
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { EndpointStore } from '../aws/endpoints.ts';
import { ModelRegistry } from '../aws/registry.ts';
import { formatS3Uri, getObjectBytes, listKeys, putObjectBytes } from '../aws/s3-uri.ts';
import { CatalogItemSchema, SHELVES, type CatalogItem, type Shelf } from '../core/contract.ts';
import { postedHistoryEvent } from '../core/transforms/online-history.ts';
import type { ModelArtifact } from '../core/models/artifact.ts';
import type { HistoryEvent } from '../core/models/recommender.ts';
import { UserStateStore } from '../aws/user-state.ts';
import type { FeedbackEvent } from '../api/schemas.ts';
import { parseRecords } from '../io/records.ts';
import { readArtifactUri } from '../pipeline/artifact-store.ts';
import { readEnv } from '../wiring/env.ts';
import { PREFIXES } from '../wiring/resources.ts';
import type { RequestLogRecord, ServingData, ServingPorts } from './ports.ts';
import { feedbackLimitersFromEnv, rateLimitedFeedback, type FeedbackLimiters } from './feedback-intake.ts';

const DAY = 86_400_000;

async function readFolder<T extends { timestamp?: string; itemId?: string; userId?: string }>(
  bucket: string,
  prefix: string,
  schema: Parameters<typeof parseRecords<T>>[1],
  keep: (key: string) => boolean = () => true,
): Promise<T[]> {
  const out: T[] = [];
  for (const key of (await listKeys(formatS3Uri(bucket, prefix))).filter((k) => !k.endsWith('/') && keep(k))) {
    const { rows } = await parseRecords<T>(await getObjectBytes(formatS3Uri(bucket, key)), schema, { file: key });
    for (const row of rows) out.push(row);
  }
  return out;
}

/** Appends each listener's plays, skips and completions to their online history (impressions are not history). */
async function recordPlays(store: UserStateStore, events: readonly FeedbackEvent[]): Promise<void> {
  const byUser = new Map<string, HistoryEvent[]>();
  for (const e of events) {
    const h = postedHistoryEvent(e);
    if (h === undefined) continue;
    (byUser.get(e.userId) ?? byUser.set(e.userId, []).get(e.userId))?.push(h);
  }
  await Promise.all([...byUser].map(([userId, list]) => store.appendOnline(userId, list)));
}

/** The fallback artifact of each shelf the pipeline has written one for. */
async function readFallbacks(artifactsBucket: string): Promise<Map<Shelf, ModelArtifact>> {
  const fallbacks = new Map<Shelf, ModelArtifact>();
  await Promise.all(
    SHELVES.map(async (shelf) => {
      const prefix = formatS3Uri(artifactsBucket, `${PREFIXES.servingFallbacks}${shelf}/`);
      if ((await listKeys(prefix)).length === 0) return;
      fallbacks.set(shelf, await readArtifactUri(prefix));
    }),
  );
  return fallbacks;
}

export interface AwsPortsOptions {
  readonly rawBucket?: string;
  /** Days of recent listening loaded for Shortcuts and the fallbacks; default 28. */
  readonly historyDays?: number;
  readonly now?: () => number;
  /** Online features; default the table named by USER_STATE_TABLE. */
  readonly userStates?: UserStateStore;
  /** Where the pipeline writes the serving fallbacks; default ARTIFACTS_BUCKET. */
  readonly artifactsBucket?: string;
  /** Rate limiters of POST /v1/events; default from the environment (feedbackLimitersFromEnv). */
  readonly feedbackLimiters?: FeedbackLimiters;
}

export function awsServingPorts(options: AwsPortsOptions = {}): ServingPorts {
  const bucket = options.rawBucket ?? readEnv('RAW_BUCKET');
  // Built at first use: a function that only takes feedback (IngestEvents) needs neither table nor the
  // artifacts bucket, and is granted neither.
  const lazy = <T>(make: () => T): (() => T) => {
    let value: T | undefined;
    return () => (value ??= make());
  };
  const endpoints = lazy(() => new EndpointStore());
  const registry = lazy(() => new ModelRegistry());
  const stream = readEnv('REQUEST_LOG_STREAM');
  const firehose = stream ? new FirehoseClient({}) : undefined;
  const now = options.now ?? Date.now;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const userStates = lazy(() => options.userStates ?? new UserStateStore());
  const artifactsBucket = lazy(() => options.artifactsBucket ?? readEnv('ARTIFACTS_BUCKET'));
  const feedback = rateLimitedFeedback(
    {
      async writeFeedback(events) {
        if (events.length === 0) return;
        await recordPlays(userStates(), events);
        const key = `${PREFIXES.feedback}dt=${day(now())}/${now().toString(36)}-${Math.random().toString(36).slice(2, 10)}.jsonl`;
        await putObjectBytes(formatS3Uri(bucket, key), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`, 'application/x-ndjson');
      },
    },
    options.feedbackLimiters ?? feedbackLimitersFromEnv(),
  );
  return {
    endpoint: (shelf) => endpoints().getEndpoint(shelf),
    async artifactUri(shelf, versionId) {
      const version = await registry().getVersion(shelf, versionId);
      if (version === null) throw new Error(`version ${versionId} of ${shelf} is not in the registry`);
      return version.artifactUri;
    },
    loadArtifact: (uri) => readArtifactUri(uri),
    async loadData(): Promise<ServingData> {
      // The catalog and the fallbacks only: listeners are read one at a time (userState), so a
      // container's memory does not grow with the number of users.
      const [catalog, fallbacks] = await Promise.all([
        readFolder<CatalogItem>(bucket, PREFIXES.catalog, CatalogItemSchema),
        readFallbacks(artifactsBucket()),
      ]);
      return { catalog, fallbacks, users: new Map(), history: new Map() };
    },
    userState: (userId) => userStates().get(userId),
    async logRequests(records: readonly RequestLogRecord[]) {
      if (firehose && stream) {
        for (let i = 0; i < records.length; i += 500) {
          await firehose.send(
            new PutRecordBatchCommand({
              DeliveryStreamName: stream,
              Records: records.slice(i, i + 500).map((r) => ({ Data: Buffer.from(`${JSON.stringify(r)}\n`) })),
            }),
          );
        }
        return;
      }
      const first = records[0];
      if (first === undefined) return;
      await putObjectBytes(
        formatS3Uri(bucket, `${PREFIXES.requestLogs}dt=${first.at.slice(0, 10)}/${first.requestId}.jsonl`),
        `${records.map((r) => JSON.stringify(r)).join('\n')}\n`,
        'application/x-ndjson',
      );
    },
    // Within the per-client and per-user rate limits only (FeedbackRateLimitedError otherwise).
    writeFeedback: feedback.writeFeedback,
  };
}
