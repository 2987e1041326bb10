/** What serving needs from the outside world; S3/DynamoDB adapters in lib/serving/aws-ports.ts. */
import type { EndpointRecord } from '../aws/endpoints.ts';
import type { CatalogItem, Shelf, User } from '../core/contract.ts';
import type { ModelArtifact } from '../core/models/artifact.ts';
import type { HistoryEvent } from '../core/models/recommender.ts';
import type { FeedbackEvent } from '../api/schemas.ts';

export interface ServingData {
  readonly catalog: readonly CatalogItem[];
  readonly users: ReadonlyMap<string, User>;
  /** Recent listening per user, oldest first. */
  readonly history: ReadonlyMap<string, readonly HistoryEvent[]>;
}

export interface RequestLogRecord {
  readonly requestId: string;
  readonly userId: string;
  readonly at: string;
  readonly transformVersion: string;
  readonly features: readonly (readonly [string, number])[];
  readonly shelves: readonly { shelf: string; modelVersion: string; variant: string; items: readonly { id: string; score: number }[] }[];
}

export interface ServingPorts {
  endpoint(shelf: Shelf): Promise<EndpointRecord>;
  /** The artifact URI of a registered version. */
  artifactUri(shelf: Shelf, versionId: string): Promise<string>;
  loadArtifact(uri: string): Promise<ModelArtifact>;
  /** Catalog, users and recent history; called at start and on every refresh. */
  loadData(): Promise<ServingData>;
  logRequests(records: readonly RequestLogRecord[]): Promise<void>;
  writeFeedback(events: readonly FeedbackEvent[]): Promise<void>;
}
