/**
 * Serving's ports over the AWS adapters: endpoints, registry and online user state in DynamoDB,
 * artifacts and the catalog snapshot in S3, request logs and feedback to Kinesis Data Firehose when
 * REQUEST_LOG_STREAM / FEEDBACK_STREAM are set (in AWS) and to the raw bucket's requests/ and
 * feedback/ prefixes by day otherwise (locally; lib/serving/record-stream.ts).
 */
import { EndpointStore } from '../aws/endpoints.ts';
import { ModelRegistry } from '../aws/registry.ts';
import { formatS3Uri, listKeys } from '../aws/s3-uri.ts';
import { SHELVES, type Shelf } from '../core/contract.ts';
import { postedHistoryEvent } from '../core/transforms/online-history.ts';
import type { ModelArtifact } from '../core/models/artifact.ts';
import type { HistoryEvent } from '../core/models/recommender.ts';
import { UserStateStore } from '../aws/user-state.ts';
import type { FeedbackEvent } from '../api/schemas.ts';
import { readArtifactUri } from '../pipeline/artifact-store.ts';
import { ServingCatalog } from './catalog-source.ts';
import { recordStream } from './record-stream.ts';
import { readEnv } from '../wiring/env.ts';
import { PREFIXES } from '../wiring/resources.ts';
import type { RequestLogRecord, ServingData, ServingPorts } from './ports.ts';
import { feedbackLimitersFromEnv, rateLimitedFeedback, type FeedbackLimiters } from './feedback-intake.ts';

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
  readonly now?: () => number;
  /** Online features; default the table named by USER_STATE_TABLE. */
  readonly userStates?: UserStateStore;
  /** Where the pipeline writes the serving fallbacks; default ARTIFACTS_BUCKET. */
  readonly artifactsBucket?: string;
  /** Rate limiters of POST /v1/events; default from the environment (feedbackLimitersFromEnv). */
  readonly feedbackLimiters?: FeedbackLimiters;
}

export function awsServingPorts(options: AwsPortsOptions = {}): ServingPorts {
  // Built at first use: a function that only takes feedback (IngestEvents) needs neither the model
  // tables nor the artifacts bucket (nor, with its delivery stream, the raw bucket), and is granted none.
  const lazy = <T>(make: () => T): (() => T) => {
    let value: T | undefined;
    return () => (value ??= make());
  };
  const bucket = lazy(() => options.rawBucket ?? readEnv('RAW_BUCKET'));
  const endpoints = lazy(() => new EndpointStore());
  const registry = lazy(() => new ModelRegistry());
  const now = options.now ?? Date.now;
  // Request logs: Firehose in AWS; locally one object per batch the service flushes (Evaluate's skew
  // check and the canary monitor read them right after a run).
  const requestLogs = recordStream({ streamName: readEnv('REQUEST_LOG_STREAM'), bucket, prefix: PREFIXES.requestLogs, maxRecords: 1, now });
  // Feedback: Firehose in AWS; locally batched by size and time (flushed before any in-process reader
  // and before exit), under the same feedback/dt=YYYY-MM-DD/ partitions.
  const feedbackLog = recordStream({ streamName: readEnv('FEEDBACK_STREAM'), bucket, prefix: PREFIXES.feedback, now });
  const userStates = lazy(() => options.userStates ?? new UserStateStore());
  const artifactsBucket = lazy(() => options.artifactsBucket ?? readEnv('ARTIFACTS_BUCKET'));
  const catalogSource = lazy(() => new ServingCatalog({ rawBucket: bucket, artifactsBucket }));
  const feedback = rateLimitedFeedback(
    {
      async writeFeedback(events) {
        if (events.length === 0) return;
        await recordPlays(userStates(), events);
        await feedbackLog.put(events);
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
      // The catalog (the pipeline's snapshot plus raw files newer than it) and the fallbacks only:
      // listeners are read one at a time (userState), so a container's memory does not grow with users.
      const [catalog, fallbacks] = await Promise.all([catalogSource().load(), readFallbacks(artifactsBucket())]);
      return { catalog, fallbacks };
    },
    userState: (userId) => userStates().get(userId),
    logRequests: (records: readonly RequestLogRecord[]) => requestLogs.put(records),
    // Within the per-client and per-user rate limits only (FeedbackRateLimitedError otherwise).
    writeFeedback: feedback.writeFeedback,
  };
}
