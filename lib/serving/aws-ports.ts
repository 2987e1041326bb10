/**
 * Serving's ports over the AWS adapters: endpoints and registry in DynamoDB, artifacts and data in S3,
 * request logs to Kinesis Data Firehose when REQUEST_LOG_STREAM is set (in AWS) and to the raw bucket's
 * requests/ prefix otherwise (locally), feedback to the raw bucket's feedback/ prefix.
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { EndpointStore } from '../aws/endpoints.ts';
import { ModelRegistry } from '../aws/registry.ts';
import { formatS3Uri, getObjectBytes, listKeys, putObjectBytes } from '../aws/s3-uri.ts';
import { CatalogItemSchema, ListeningEventSchema, UserSchema, type CatalogItem, type ListeningEvent, type User } from '../core/contract.ts';
import { historyOf } from '../core/transforms/entities.ts';
import { parseRecords } from '../io/records.ts';
import { readArtifactUri } from '../pipeline/artifact-store.ts';
import { readEnv } from '../wiring/env.ts';
import { PREFIXES } from '../wiring/resources.ts';
import type { RequestLogRecord, ServingData, ServingPorts } from './ports.ts';

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
    out.push(...rows);
  }
  return out;
}

export interface AwsPortsOptions {
  readonly rawBucket?: string;
  /** Days of recent listening loaded for Shortcuts and the fallbacks; default 28. */
  readonly historyDays?: number;
  readonly now?: () => number;
}

export function awsServingPorts(options: AwsPortsOptions = {}): ServingPorts {
  const bucket = options.rawBucket ?? readEnv('RAW_BUCKET');
  const endpoints = new EndpointStore();
  const registry = new ModelRegistry();
  const stream = readEnv('REQUEST_LOG_STREAM');
  const firehose = stream ? new FirehoseClient({}) : undefined;
  const now = options.now ?? Date.now;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return {
    endpoint: (shelf) => endpoints.getEndpoint(shelf),
    async artifactUri(shelf, versionId) {
      const version = await registry.getVersion(shelf, versionId);
      if (version === null) throw new Error(`version ${versionId} of ${shelf} is not in the registry`);
      return version.artifactUri;
    },
    loadArtifact: (uri) => readArtifactUri(uri),
    async loadData(): Promise<ServingData> {
      const [catalog, users] = await Promise.all([
        readFolder<CatalogItem>(bucket, PREFIXES.catalog, CatalogItemSchema),
        readFolder<User>(bucket, PREFIXES.users, UserSchema),
      ]);
      const dts = (await listKeys(formatS3Uri(bucket, PREFIXES.events)))
        .map((k) => /dt=(\d{4}-\d{2}-\d{2})\//.exec(k)?.[1])
        .filter((d): d is string => d !== undefined);
      const last = dts.sort().at(-1) ?? day(now());
      const since = day(Date.parse(`${last}T00:00:00Z`) - (options.historyDays ?? 28) * DAY);
      const events = await readFolder<ListeningEvent>(
        bucket,
        PREFIXES.events,
        ListeningEventSchema,
        (k) => (/dt=(\d{4}-\d{2}-\d{2})\//.exec(k)?.[1] ?? '') >= since,
      );
      return { catalog, users: new Map(users.map((u) => [u.userId, u])), history: historyOf(events) };
    },
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
    async writeFeedback(events) {
      const first = events[0];
      if (first === undefined) return;
      const key = `${PREFIXES.feedback}dt=${day(now())}/${now().toString(36)}-${Math.random().toString(36).slice(2, 10)}.jsonl`;
      await putObjectBytes(formatS3Uri(bucket, key), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`, 'application/x-ndjson');
    },
  };
}
