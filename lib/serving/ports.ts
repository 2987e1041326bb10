/**
 * What serving needs from the outside world, as small ports; the S3/DynamoDB/Firehose adapters are in
 * lib/serving/aws-ports.ts, and tests use in-memory doubles of these interfaces.
 */
import type { EndpointRecord } from '../aws/endpoints.ts';
import type { CatalogItem, Shelf, User } from '../core/contract.ts';
import type { ModelArtifact } from '../core/models/artifact.ts';
import type { Feature, HistoryEvent } from '../core/models/recommender.ts';
import type { FeedbackEvent } from '../api/schemas.ts';

/** What a serving container holds: the catalog and the fallbacks, the same size whatever the number of listeners. */
export interface ServingData {
  readonly catalog: readonly CatalogItem[];
  /**
   * The fallback heuristics the pipeline precomputed (segment popularity per shelf, from its last run);
   * a shelf without one falls back to an empty popularity until the first run has written it.
   */
  readonly fallbacks?: ReadonlyMap<Shelf, ModelArtifact>;
}

/** A listener's profile and recent history, oldest first (online features, one key lookup). */
export interface UserState {
  readonly user?: User;
  readonly history: readonly HistoryEvent[];
}

/** Online features by listener: read per request, never all listeners at once. */
export interface UserStateSource {
  /** The listener's state, or undefined for a listener never seen. */
  userState(userId: string): Promise<UserState | undefined>;
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

/** The catalog and the precomputed fallbacks; read at start and on every refresh (new items since last time included). */
export interface CatalogSource {
  loadData(): Promise<ServingData>;
}

/** Where feature logs go, in batches. */
export interface RequestLogSink {
  logRequests(records: readonly RequestLogRecord[]): Promise<void>;
}

/** Where feedback events (impressions, plays, skips) go. */
export interface FeedbackSink {
  /**
   * Stores a batch; `source` (who sent it, as API Gateway tells it) is what the client rate limit is
   * keyed on (lib/serving/feedback-intake.ts), absent for trusted in-process callers.
   */
  writeFeedback(events: readonly FeedbackEvent[], source?: { readonly clientId: string }): Promise<void>;
}

export interface ServingPorts extends EndpointSource, ArtifactSource, CatalogSource, UserStateSource, RequestLogSink, FeedbackSink {}
