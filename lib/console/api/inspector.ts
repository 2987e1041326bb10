/**
 * The inspector: what the live model, the canary and each baseline would show on each shelf for the
 * same request. It runs the serving runtime itself (HomeService: the same catalog state, fresh
 * overlay, exclusions across shelves and reasons as `/v1/home`) over serving's own ports, with two
 * changes: the endpoint of the shelf under inspection is pinned to the arm asked for (a registered
 * version, or a baseline artifact of the run, which the pipeline stores per run), and nothing is
 * logged (the console's requests are not listeners' requests: they must not reach the request log,
 * the canary monitor or the new-content counts). Calls are serialized because the pin is shared.
 */
import { SHELVES, type Shelf } from '../../core/contract.ts';
import { InputError } from '../../core/errors.ts';
import type { HomeContext, HomeResponse } from '../../api/schemas.ts';
import { formatS3Uri, getObjectBytes, listKeys } from '../../aws/s3-uri.ts';
import { UserSchema, type User } from '../../core/contract.ts';
import { parseRecords } from '../../io/records.ts';
import { PREFIXES } from '../../wiring/resources.ts';
import { awsServingPorts } from '../../serving/aws-ports.ts';
import { DEFAULT_SERVING_CONFIG, HomeService } from '../../serving/home-service.ts';
import type { ServingData, ServingPorts, UserState } from '../../serving/ports.ts';
import { type ConsoleContext, runPrefix } from './context.ts';

/** An arm of a shelf: the live model, the canary, a baseline of the run, or any registered version. */
export interface ArmRef {
  /** 'live', 'canary', 'baseline:<name>' or 'version:<versionId>'. */
  readonly arm: string;
  readonly label: string;
  /** The version the shelf is pinned to; null for 'live' with nothing deployed (serving's heuristic). */
  readonly version: string | null;
}

export interface InspectRequest {
  readonly userId?: string;
  readonly context?: HomeContext;
}

export type ShelfView = HomeResponse['shelves'][number];

export interface HistoryEntry {
  readonly itemId: string;
  readonly title: string;
  readonly type: string;
  readonly at: string;
  readonly eventType: string;
}

export interface InspectResult {
  readonly userId: string;
  readonly known: boolean;
  readonly user: { country: string; device: string; ageBand: string; onboardingGenres: readonly string[] } | null;
  readonly context: HomeContext | null;
  readonly history: readonly HistoryEntry[];
  readonly shelves: readonly { shelf: Shelf; arms: readonly (ArmRef & { view: ShelfView })[] }[];
}

export interface ShelfDiff {
  readonly a: ArmRef & { view: ShelfView };
  readonly b: ArmRef & { view: ShelfView };
  /** In b, not in a. */
  readonly entered: readonly { id: string; title: string; rank: number }[];
  /** In a, not in b. */
  readonly left: readonly { id: string; title: string; rank: number }[];
  /** In both, with their ranks (1-based). */
  readonly kept: readonly { id: string; title: string; from: number; to: number }[];
}

const BASELINE_VERSION = /^baseline:([A-Za-z0-9-]+):([a-z0-9-]+)$/;
/** History entries shown beside the shelves. */
const HISTORY_SHOWN = 15;
/** Listeners read for the picker and the diagnostic's sample (the first users/ files, in order). */
const USERS_READ = 5000;

export class Inspector {
  private readonly service: HomeService;
  private readonly base: ServingPorts;
  private readonly pins = new Map<Shelf, string | null>();
  private queue: Promise<unknown> = Promise.resolve();
  private data: { at: number; value: Promise<ServingData> } | undefined;
  private userList: { at: number; value: Promise<User[]> } | undefined;

  constructor(
    private readonly ctx: ConsoleContext,
    base: ServingPorts = awsServingPorts({ rawBucket: ctx.rawBucket, artifactsBucket: ctx.artifactsBucket, now: ctx.now }),
  ) {
    this.base = base;
    const ports: ServingPorts = {
      endpoint: async (shelf) => {
        const real = await base.endpoint(shelf);
        const pinned = this.pins.get(shelf);
        return {
          ...real,
          liveVersion: pinned === undefined ? real.liveVersion : pinned,
          canaryVersion: null,
          canaryWeight: 0,
        };
      },
      artifactUri: async (shelf, versionId) => {
        const baseline = BASELINE_VERSION.exec(versionId);
        if (baseline === null) return base.artifactUri(shelf, versionId);
        return `${runPrefix(ctx.artifactsBucket, shelf, baseline[1] as string)}baselines/${baseline[2] as string}/`;
      },
      loadArtifact: (uri) => base.loadArtifact(uri),
      loadData: () => this.servingData(),
      userState: (userId) => base.userState(userId),
      logRequests: async () => undefined,
      writeFeedback: async () => {
        throw new InputError('the console is read-only: it writes no feedback');
      },
    };
    // Endpoints are read on every request (the pins change between calls); 32 models fit every arm of three shelves.
    this.service = new HomeService(ports, { ...DEFAULT_SERVING_CONFIG, endpointTtlMs: 0, requestLogBatch: 1, maxModels: 32 }, ctx.now);
  }

  /** Catalog and fallbacks as serving reads them, shared with the service, re-read every catalog refresh. */
  servingData(): Promise<ServingData> {
    const now = Date.now();
    if (this.data === undefined || now - this.data.at > DEFAULT_SERVING_CONFIG.catalogRefreshMs) {
      const value = this.base.loadData();
      value.catch(() => {
        if (this.data?.value === value) this.data = undefined;
      });
      this.data = { at: now, value };
    }
    return this.data.value;
  }

  /**
   * Listeners from the raw bucket's users/ files, in file order, at most `USERS_READ` (the console's
   * picker and the diagnostic's sample of real users; serving itself reads one listener at a time).
   */
  users(): Promise<User[]> {
    const now = Date.now();
    if (this.userList === undefined || now - this.userList.at > DEFAULT_SERVING_CONFIG.catalogRefreshMs) {
      const value = (async () => {
        const out: User[] = [];
        for (const key of await listKeys(formatS3Uri(this.ctx.rawBucket, PREFIXES.users))) {
          if (key.endsWith('/') || out.length >= USERS_READ) continue;
          const { rows } = await parseRecords<User>(await getObjectBytes(formatS3Uri(this.ctx.rawBucket, key)), UserSchema, { file: key });
          out.push(...rows.slice(0, USERS_READ - out.length));
        }
        return out;
      })();
      value.catch(() => {
        if (this.userList?.value === value) this.userList = undefined;
      });
      this.userList = { at: now, value };
    }
    return this.userList.value;
  }

  /** A listener's profile and recent history as serving reads them (the online user state). */
  userState(userId: string): Promise<UserState | undefined> {
    return this.base.userState(userId);
  }

  /** The arms of a shelf: live, canary (if any), then each baseline of the live version's run (else of the newest run). */
  async arms(shelf: Shelf): Promise<ArmRef[]> {
    const endpoint = await this.ctx.endpoints.getEndpoint(shelf);
    const arms: ArmRef[] = [
      {
        arm: 'live',
        label: endpoint.liveVersion ? `live ${endpoint.liveVersion}` : 'live (nothing deployed)',
        version: endpoint.liveVersion,
      },
    ];
    if (endpoint.canaryVersion) arms.push({ arm: 'canary', label: `canary ${endpoint.canaryVersion}`, version: endpoint.canaryVersion });
    // The baselines of the live version's run; a version registered by hand has none: then the newest run's.
    const versions = await this.ctx.registry.listVersions(shelf);
    const live = versions.find((v) => v.versionId === endpoint.liveVersion);
    const runIds = [
      ...new Set([
        ...(live ? [live.runId] : []),
        ...[...versions].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map((v) => v.runId),
      ]),
    ];
    for (const runId of runIds) {
      const prefix = `${runPrefix(this.ctx.artifactsBucket, shelf, runId)}baselines/`;
      const names = new Set(
        (await listKeys(prefix)).map((key) => /baselines\/([^/]+)\//.exec(key)?.[1]).filter((n): n is string => n !== undefined),
      );
      for (const name of [...names].sort())
        arms.push({ arm: `baseline:${name}`, label: `${name} (baseline, run ${runId})`, version: `baseline:${runId}:${name}` });
      if (names.size > 0) break;
    }
    return arms;
  }

  /** One arm by name: live, canary, baseline:<name> or version:<versionId> (a registered version). */
  async arm(shelf: Shelf, name: string): Promise<ArmRef> {
    if (name.startsWith('version:')) {
      const versionId = name.slice('version:'.length);
      if ((await this.ctx.registry.getVersion(shelf, versionId)) === null)
        throw new InputError(`no version "${versionId}" registered for shelf ${shelf}`, { field: 'arm' });
      return { arm: name, label: versionId, version: versionId };
    }
    const arms = await this.arms(shelf);
    const found = arms.find((a) => a.arm === name);
    if (found === undefined)
      throw new InputError(`no arm "${name}" on shelf ${shelf}; expected one of ${arms.map((a) => a.arm).join(', ')} or version:<id>`, {
        field: 'arm',
      });
    return found;
  }

  /** The home screen with `shelf` pinned to `arm` (the other shelves as live serves them). */
  home(request: InspectRequest, shelf?: Shelf, arm?: ArmRef): Promise<HomeResponse> {
    const run = async (): Promise<HomeResponse> => {
      this.pins.clear();
      if (shelf !== undefined && arm !== undefined) this.pins.set(shelf, arm.version);
      try {
        return await this.service.home({
          ...(request.userId ? { userId: request.userId } : {}),
          ...(request.context ? { context: request.context } : {}),
        });
      } finally {
        this.pins.clear();
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** One shelf's list for a request under one arm. */
  async shelf(request: InspectRequest, shelf: Shelf, arm: ArmRef): Promise<ShelfView> {
    const home = await this.home(request, shelf, arm);
    return home.shelves.find((s) => s.shelf === shelf) as ShelfView;
  }

  /** Every arm of every shelf for the same request, with who the user is and what they listened to. */
  async inspect(request: InspectRequest): Promise<InspectResult> {
    const data = await this.servingData();
    const live = await this.home(request);
    const state = request.userId ? await this.userState(request.userId) : undefined;
    const user = state?.user;
    const shelves = [];
    for (const shelf of SHELVES) {
      const arms = await this.arms(shelf);
      const views = [];
      for (const arm of arms)
        views.push({
          ...arm,
          view: arm.arm === 'live' ? (live.shelves.find((s) => s.shelf === shelf) as ShelfView) : await this.shelf(request, shelf, arm),
        });
      shelves.push({ shelf, arms: views });
    }
    const titles = new Map(data.catalog.map((i) => [i.itemId, i]));
    const history = [...(state?.history ?? [])]
      .slice(-HISTORY_SHOWN)
      .reverse()
      .map((e) => ({
        itemId: e.itemId,
        title: titles.get(e.itemId)?.title ?? e.itemId,
        type: titles.get(e.itemId)?.type ?? 'unknown',
        at: new Date(e.ts).toISOString(),
        eventType: e.eventType,
      }));
    return {
      userId: live.userId,
      known: state !== undefined,
      user: user ? { country: user.country, device: user.device, ageBand: user.ageBand, onboardingGenres: user.onboardingGenres } : null,
      context: request.context ?? null,
      history,
      shelves,
    };
  }

  /** Two arms of a shelf for the same request: what entered, what left, what moved. */
  async compare(request: InspectRequest, shelf: Shelf, a: string, b: string): Promise<ShelfDiff> {
    const [armA, armB] = [await this.arm(shelf, a), await this.arm(shelf, b)];
    const [viewA, viewB] = [await this.shelf(request, shelf, armA), await this.shelf(request, shelf, armB)];
    const rankA = new Map(viewA.items.map((i, r) => [i.id, r + 1]));
    const rankB = new Map(viewB.items.map((i, r) => [i.id, r + 1]));
    return {
      a: { ...armA, view: viewA },
      b: { ...armB, view: viewB },
      entered: viewB.items.filter((i) => !rankA.has(i.id)).map((i) => ({ id: i.id, title: i.title, rank: rankB.get(i.id) as number })),
      left: viewA.items.filter((i) => !rankB.has(i.id)).map((i) => ({ id: i.id, title: i.title, rank: rankA.get(i.id) as number })),
      kept: viewA.items
        .filter((i) => rankB.has(i.id))
        .map((i) => ({ id: i.id, title: i.title, from: rankA.get(i.id) as number, to: rankB.get(i.id) as number })),
    };
  }
}
