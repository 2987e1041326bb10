/**
 * The serving runtime around the pure core:
 * - endpoint records are cached for `endpointTtlMs` (default 30 s): a deploy, promotion or rollback
 *   takes effect within that many seconds; with the endpoint store unreachable, the last record read
 *   keeps serving (or the shelf's heuristic if none was ever read);
 * - artifacts are loaded once per version and shared by every later request of the process (the
 *   Lambda keeps one service at module scope), at most `maxModels` versions, least recently used first out;
 * - the catalog is re-read every `catalogRefreshMs` (default 60 s) and its items are indexed into every
 *   loaded model (`indexItems`), so a new show is recommendable within that time, without a retrain;
 * - a model that cannot be loaded or throws while ranking is replaced by the last model the shelf
 *   served, else by the shelf's heuristic, and the shelf says so (variant 'fallback', fallbackReason):
 *   the home never fails because one model did;
 * - every response is feature-logged to the RequestLogSink in batches of `requestLogBatch`.
 */
import type { EndpointRecord } from '../aws/endpoints.ts';
import { SHELVES, type CatalogItem, type Shelf } from '../core/contract.ts';
import { itemFeatures, itemMeta, requestUserFeatures, userFeatures, userMeta } from '../core/transforms/entities.ts';
import { weekdayOf } from '../core/transforms/shortcuts.ts';
import { TRANSFORM_VERSION } from '../core/transforms/version.ts';
import { fitOwnHistory } from '../core/models/baselines/own-history.ts';
import { fitSegmentPopularity } from '../core/models/baselines/popularity-segment.ts';
import { loadRecommender } from '../core/models/load.ts';
import type { Feature, ItemMeta, Recommender, UserContext } from '../core/models/recommender.ts';
import { assembleHome, DEFAULT_OVERLAY, type CatalogView, type FreshOverlayConfig, type ShelfPlan } from '../core/assembly/assemble.ts';
import { chooseVariant } from '../core/assembly/variant.ts';
import { hashString } from '../core/rng.ts';
import { summarizeEvents, type EventsAccepted, type FeedbackEvent, type HomeBody, type HomeResponse } from '../api/schemas.ts';
import type { RequestLogRecord, ServingData, ServingPorts, UserState } from './ports.ts';

const DAY = 86_400_000;
const SHELF_TYPES: Readonly<Record<Shelf, readonly string[] | undefined>> = {
  shortcuts: undefined,
  podcasts: ['show'],
  playlists: ['playlist'],
};
const TITLES: Readonly<Record<Shelf, string>> = {
  shortcuts: 'Jump back in',
  podcasts: 'Podcasts for you',
  playlists: 'Playlists to start with',
};

export interface ServingConfig {
  /** How long an endpoint record is trusted; a deploy or rollback takes effect within it. Default 30 s. */
  readonly endpointTtlMs: number;
  /** How often the catalog and the fallbacks are re-read and new items indexed. Default 60 s. */
  readonly catalogRefreshMs: number;
  /** Items per shelf; default 10. */
  readonly k: number;
  readonly overlay: FreshOverlayConfig;
  /** Feature-log records per write to the sink; default 50 (call flush() before the process ends). */
  readonly requestLogBatch: number;
  /** Model versions kept loaded (live + canary of three shelves fit the default, 8). */
  readonly maxModels: number;
}

export const DEFAULT_SERVING_CONFIG: ServingConfig = {
  endpointTtlMs: 30_000,
  catalogRefreshMs: 60_000,
  k: 10,
  overlay: DEFAULT_OVERLAY,
  requestLogBatch: 50,
  maxModels: 8,
};

/** A home request: a known user by id, and/or the request context (a user never seen gives only context). */
export interface HomeRequest {
  readonly userId?: string;
  readonly context?: HomeBody['context'];
}

interface CatalogState {
  readonly loadedAt: number;
  readonly data: ServingData;
  readonly meta: Map<string, ItemMeta>;
  readonly titles: Map<string, string>;
  readonly byType: Map<string, string[]>;
  readonly featuresByType: Map<string, Map<string, readonly Feature[]>>;
  readonly fallbacks: Map<Shelf, Recommender>;
  /** Per shelf, the same arrays on every request (models cache their index of a list they have seen). */
  readonly candidates: Map<Shelf, readonly string[]>;
  readonly fresh: Map<Shelf, readonly string[]>;
}

let requestSeq = 0;

export class HomeService {
  private readonly endpoints = new Map<Shelf, { record: EndpointRecord; at: number }>();
  /** Loaded models by "shelf#version", in least-recently-used order (a Map keeps insertion order). */
  private readonly models = new Map<string, Promise<Recommender>>();
  /** The last model each shelf served, the first fallback when a newer one cannot be loaded. */
  private readonly lastServed = new Map<Shelf, { version: string; recommender: Recommender }>();
  private catalog: CatalogState | undefined;
  private catalogLoading: Promise<CatalogState> | undefined;
  private logBuffer: RequestLogRecord[] = [];
  private readonly config: ServingConfig;

  constructor(
    private readonly ports: ServingPorts,
    config: Partial<ServingConfig> = DEFAULT_SERVING_CONFIG,
    private readonly now: () => number = Date.now,
  ) {
    this.config = { ...DEFAULT_SERVING_CONFIG, ...config };
  }

  private async catalogState(): Promise<CatalogState> {
    const stale = this.catalog === undefined || this.now() - this.catalog.loadedAt > this.config.catalogRefreshMs;
    if (!stale) return this.catalog as CatalogState;
    this.catalogLoading ??= this.ports.loadData().then(
      (data) => {
        const state = buildCatalogState(data, this.now(), this.config.overlay.maxAgeDays);
        this.catalog = state;
        this.catalogLoading = undefined;
        // New items reach every loaded model: the dynamic item index.
        for (const [key, model] of this.models)
          void model.then((m) => indexInto(m, state, key.split('#')[0] as Shelf)).catch(() => undefined);
        return state;
      },
      (error: unknown) => {
        this.catalogLoading = undefined;
        if (this.catalog) return this.catalog; // keep serving the last catalog
        throw error;
      },
    );
    return this.catalog ?? this.catalogLoading;
  }

  private async endpoint(shelf: Shelf): Promise<EndpointRecord | undefined> {
    const cached = this.endpoints.get(shelf);
    if (cached && this.now() - cached.at < this.config.endpointTtlMs) return cached.record;
    try {
      const record = await this.ports.endpoint(shelf);
      this.endpoints.set(shelf, { record, at: this.now() });
      return record;
    } catch {
      return cached?.record; // DynamoDB unreachable: the last record we knew
    }
  }

  private model(shelf: Shelf, versionId: string, state: CatalogState): Promise<Recommender> {
    const key = `${shelf}#${versionId}`;
    let model = this.models.get(key);
    if (model !== undefined) {
      this.models.delete(key); // most recently used moves to the end
      this.models.set(key, model);
    } else {
      model = this.ports
        .artifactUri(shelf, versionId)
        .then((uri) => this.ports.loadArtifact(uri))
        .then((artifact) => indexInto(loadRecommender(artifact), state, shelf));
      model.catch(() => this.models.delete(key)); // a failed load is retried by a later request
      this.models.set(key, model);
      for (const oldest of this.models.keys()) {
        if (this.models.size <= this.config.maxModels) break;
        this.models.delete(oldest);
      }
    }
    return model;
  }

  private async plan(shelf: Shelf, userId: string, state: CatalogState): Promise<ShelfPlan> {
    const candidates = state.candidates.get(shelf);
    const freshItems = state.fresh.get(shelf);
    const heuristic = {
      recommender: state.fallbacks.get(shelf) as Recommender,
      modelVersion: `heuristic:${shelf === 'shortcuts' ? 'most-recent' : 'popularity-segment'}`,
    };
    const common = {
      shelf,
      title: TITLES[shelf],
      k: this.config.k,
      ...(candidates ? { candidates } : {}),
      ...(freshItems?.length ? { freshItems } : {}),
    };
    const fallback = (reason: string): ShelfPlan => {
      const last = this.lastServed.get(shelf);
      return last
        ? {
            ...common,
            recommender: last.recommender,
            modelVersion: last.version,
            variant: 'fallback',
            fallbackReason: `${reason}; serving the last loaded model`,
            fallback: heuristic,
          }
        : { ...common, ...heuristic, variant: 'fallback', fallbackReason: reason };
    };
    const endpoint = await this.endpoint(shelf);
    if (endpoint === undefined) return fallback('the endpoint record could not be read');
    const variant = endpoint.canaryVersion !== null ? chooseVariant(userId, shelf, endpoint.canaryWeight) : 'live';
    const version = variant === 'canary' ? endpoint.canaryVersion : endpoint.liveVersion;
    if (version === null) return { ...common, ...heuristic, variant: 'fallback', fallbackReason: 'no model deployed yet' };
    try {
      const recommender = await this.model(shelf, version, state);
      if (variant === 'live') this.lastServed.set(shelf, { version, recommender });
      return { ...common, recommender, modelVersion: version, variant, fallback: heuristic };
    } catch (error) {
      return fallback(`model ${version} could not be loaded: ${(error as Error).message}`);
    }
  }

  /** The home screen for a user (known, or described by the request context). */
  async home(request: HomeRequest): Promise<HomeResponse> {
    // The listener's lookup goes out first; what does not depend on the listener (the catalog, the
    // endpoint records, the models, a refresh of any of them when due) is resolved while it is in
    // flight, so a request that finds an endpoint record expired waits for one round trip, not two.
    const lookup = request.userId === undefined ? undefined : this.userState(request.userId);
    const now = this.now();
    const userId = request.userId ?? `anonymous-${(++requestSeq).toString(36)}`;
    const state = await this.catalogState();
    const planned = Promise.all(SHELVES.map((shelf) => this.plan(shelf, userId, state)));
    planned.catch(() => undefined); // awaited below: a failure meanwhile is not an unhandled rejection
    const known = await lookup;
    const user = known?.user;
    const ctx = request.context;
    const features =
      user && !ctx?.onboardingGenres
        ? userFeatures(user)
        : ctx
          ? requestUserFeatures({
              country: ctx.country,
              device: ctx.device,
              ...(ctx.ageBand ? { ageBand: ctx.ageBand } : {}),
              ...(ctx.onboardingGenres ? { onboardingGenres: ctx.onboardingGenres } : {}),
            })
          : [];
    const local = ctx?.localTime
      ? localClock(ctx.localTime)
      : ctx?.localHour !== undefined && ctx.weekday !== undefined
        ? { hour: ctx.localHour, weekday: ctx.weekday }
        : { hour: new Date(now).getUTCHours(), weekday: weekdayOf(now) };
    const history = known?.history.length ? known.history : undefined;
    const context: UserContext = {
      userId,
      now,
      features,
      meta: user
        ? userMeta(user)
        : { ...(ctx ? { country: ctx.country, device: ctx.device, onboardingGenres: ctx.onboardingGenres ?? [] } : {}) },
      ...(history ? { history } : {}),
      localHour: local.hour,
      weekday: local.weekday,
    };
    const plans = await planned;
    const view: CatalogView = { meta: (id) => state.meta.get(id), title: (id) => state.titles.get(id) ?? id };
    const seq = ++requestSeq;
    const requestId = `req-${now.toString(36)}-${seq.toString(36)}`;
    // The overlay's exploration is seeded per request: reproducible from the request log. The seed
    // leaves the clock out, so the same requests in the same order get the same screens (a
    // simulation or a test replays exactly; the clock moves with the machine's speed).
    const seed = hashString(`${userId}#${seq}`);
    const shelves = assembleHome(plans, context, view, this.config.overlay, seed);
    const response: HomeResponse = {
      requestId,
      userId,
      generatedAt: new Date(now).toISOString(),
      transformVersion: TRANSFORM_VERSION,
      shelves: shelves as HomeResponse['shelves'],
    };
    this.logBuffer.push({
      requestId,
      userId,
      at: response.generatedAt,
      transformVersion: TRANSFORM_VERSION,
      seed,
      features,
      shelves: shelves.map((s) => ({
        shelf: s.shelf,
        modelVersion: s.modelVersion,
        variant: s.variant,
        items: s.items.map((i) => ({ id: i.id, score: i.score })),
      })),
    });
    if (this.logBuffer.length >= this.config.requestLogBatch) await this.flush();
    return response;
  }

  /** The listener's online features; a lookup that fails serves the request as for a listener never seen. */
  private async userState(userId: string): Promise<UserState | undefined> {
    try {
      return await this.ports.userState(userId);
    } catch {
      return undefined;
    }
  }

  /** Writes buffered request logs (call before the process ends). */
  async flush(): Promise<void> {
    const batch = this.logBuffer;
    this.logBuffer = [];
    if (batch.length > 0) await this.ports.logRequests(batch).catch(() => undefined); // logging never fails a request
  }

  /** Writes a validated batch of feedback events; the 202 body of POST /v1/events. */
  async events(batch: readonly FeedbackEvent[]): Promise<EventsAccepted> {
    await this.ports.writeFeedback(batch);
    return summarizeEvents(batch);
  }
}

/** The serving runtime that the Lambda handler and the local HTTP server call: { home, events, flush }. */
export function createHomeService(ports: ServingPorts, config: Partial<ServingConfig> = {}, now: () => number = Date.now): HomeService {
  return new HomeService(ports, config, now);
}

function localClock(localTime: string): { hour: number; weekday: number } {
  const m = /T(\d{2}):/.exec(localTime);
  const date = localTime.slice(0, 10);
  return { hour: Number(m?.[1] ?? 0), weekday: new Date(`${date}T12:00:00Z`).getUTCDay() };
}

function indexInto(model: Recommender, state: CatalogState, shelf: Shelf): Recommender {
  const types = SHELF_TYPES[shelf];
  const features = new Map<string, readonly Feature[]>();
  for (const t of types ?? []) for (const [id, f] of state.featuresByType.get(t) ?? []) features.set(id, f);
  model.indexItems?.(features, state.meta);
  model.prepare?.(); // a large catalog's search index is ready before the first request
  return model;
}

function buildCatalogState(data: ServingData, now: number, freshDays: number): CatalogState {
  const meta = new Map<string, ItemMeta>();
  const titles = new Map<string, string>();
  const byType = new Map<string, string[]>();
  const featuresByType = new Map<string, Map<string, readonly Feature[]>>();
  for (const item of data.catalog as CatalogItem[]) {
    meta.set(item.itemId, itemMeta(item));
    titles.set(item.itemId, item.title);
    if (Date.parse(item.publishedAt) > now) continue;
    (byType.get(item.type) ?? byType.set(item.type, []).get(item.type))?.push(item.itemId);
    (featuresByType.get(item.type) ?? featuresByType.set(item.type, new Map()).get(item.type))?.set(item.itemId, itemFeatures(item));
  }
  // Fallback heuristics precomputed by the pipeline (segment popularity of shows / playlists from its
  // last run's positive listens); most-recent for Shortcuts needs nothing but the request's history.
  const fallbacks = new Map<Shelf, Recommender>();
  for (const shelf of ['podcasts', 'playlists'] as const) {
    const artifact = data.fallbacks?.get(shelf);
    fallbacks.set(
      shelf,
      artifact
        ? loadRecommender(artifact)
        : fitSegmentPopularity({ interactions: [], cutoff: now, snapshot: 'serving-fallback', transformVersion: TRANSFORM_VERSION }),
    );
  }
  const shortcuts = fitOwnHistory('most-recent', {
    interactions: [],
    items: meta,
    cutoff: now,
    snapshot: 'serving-fallback',
    transformVersion: TRANSFORM_VERSION,
  });
  fallbacks.set('shortcuts', shortcuts);
  const candidates = new Map<Shelf, readonly string[]>();
  const fresh = new Map<Shelf, readonly string[]>();
  for (const shelf of SHELVES) {
    const types = SHELF_TYPES[shelf];
    if (types === undefined) continue;
    const ids = types.flatMap((t) => byType.get(t) ?? []);
    candidates.set(shelf, ids);
    fresh.set(
      shelf,
      ids.filter((id) => (meta.get(id)?.publishedAt ?? 0) >= now - freshDays * DAY),
    );
  }
  return { loadedAt: now, data, meta, titles, byType, featuresByType, fallbacks, candidates, fresh };
}

/** A clock that starts at `startIso` and runs at real speed; the wall clock when `startIso` is undefined. */
export function clockFrom(startIso: string | undefined): () => number {
  if (startIso === undefined || startIso === '') return Date.now;
  const start = Date.parse(startIso);
  if (Number.isNaN(start)) throw new Error(`SHELVES_NOW must be an ISO time, got "${startIso}"`);
  const origin = Date.now();
  return () => start + (Date.now() - origin);
}
