/**
 * What serving needs from the outside world, as small ports; the S3/DynamoDB/Firehose adapters are in
 * lib/serving/aws-ports.ts, and tests use in-memory doubles of these interfaces.
 */
import type { EndpointRecord } from '../aws/endpoints.ts';
import type { CatalogItem, Shelf, User } from '../core/contract.ts';
import type { ModelArtifact } from '../core/models/artifact.ts';
import type { Feature, HistoryEvent } from '../core/models/recommender.ts';
import type { FeedbackEvent } from '../api/schemas.ts';

export interface ServingData {
  readonly catalog: readonly CatalogItem[];
  readonly users: ReadonlyMap<string, User>;
  /** Recent listening per user, oldest first. */
  readonly history: ReadonlyMap<string, readonly HistoryEvent[]>;
}

/** The feature log of one response: what the models saw and what they served. */
export interface RequestLogRecord {
  readonly requestId: string;
  readonly userId: string;
  readonly at: string;
  readonly transformVersion: string;
  /** The request's seed of the fresh-content overlay's exploration. */
  readonly seed?: number;
  readonly features: readonly Feature[];
  readonly shelves: readonly { shelf: string; modelVersion: string; variant: string; items: readonly { id: string; score: number }[] }[];
}

/** The endpoint record of a shelf (live and canary versions, canary weight). */
export interface EndpointSource {
  endpoint(shelf: Shelf): Promise<EndpointRecord>;
}

/** Model artifacts by registered version. */
export interface ArtifactSource {
  /** The artifact URI of a registered version. */
  artifactUri(shelf: Shelf, versionId: string): Promise<string>;
  loadArtifact(uri: string): Promise<ModelArtifact>;
}

/** Catalog, users and recent history; read at start and on every refresh (new items since last time included). */
export interface CatalogSource {
  loadData(): Promise<ServingData>;
}

/** Where feature logs go, in batches. */
export interface RequestLogSink {
  logRequests(records: readonly RequestLogRecord[]): Promise<void>;
}

/** Where feedback events (impressions, plays, skips) go. */
export interface FeedbackSink {
  writeFeedback(events: readonly FeedbackEvent[]): Promise<void>;
}

export interface ServingPorts extends EndpointSource, ArtifactSource, CatalogSource, RequestLogSink, FeedbackSink {}
