/**
 * The pipeline's train/serve skew check: reads serving's request log (raw bucket `requests/`, JSON
 * Lines, GZIP as Firehose delivers it or plain as the local runtime writes it), recomputes each
 * logged user's features with this run's transforms as of the request time, and measures the
 * mismatch per feature (lib/core/eval/skew.ts). The newest `maxRequests` records are read, so the
 * check stays bounded however long serving has run.
 */
import { gunzipSync } from 'node:zlib';
import { formatS3Uri, getObjectBytes, joinS3Uri, listKeys, parseS3Uri } from '../aws/s3-uri.ts';
import { measureSkew, type LoggedRequest, type SkewReport } from '../core/eval/skew.ts';
import type { Feature, FeatureRows, UserMeta } from '../core/models/recommender.ts';
import { PREFIXES } from '../wiring/resources.ts';

export interface SkewOptions {
  /** Newest request-log records read; default 20,000. */
  readonly maxRequests?: number;
}

const DEFAULT_MAX_REQUESTS = 20_000;

function parseLogged(line: string): LoggedRequest | undefined {
  try {
    const r = JSON.parse(line) as Partial<{ requestId: string; userId: string; at: string; transformVersion: string; features: Feature[] }>;
    if (typeof r.requestId !== 'string' || typeof r.userId !== 'string' || typeof r.at !== 'string' || !Array.isArray(r.features))
      return undefined;
    const at = Date.parse(r.at);
    if (Number.isNaN(at)) return undefined;
    return {
      requestId: r.requestId,
      userId: r.userId,
      at,
      transformVersion: String(r.transformVersion ?? 'unknown'),
      features: r.features,
    };
  } catch {
    return undefined;
  }
}

/** The newest logged requests under `<rawPrefix>requests/`, oldest first, and how many lines could not be read. */
export async function readRequestLog(
  rawPrefix: string,
  options: SkewOptions = {},
): Promise<{ requests: LoggedRequest[]; unreadable: number }> {
  const max = options.maxRequests ?? DEFAULT_MAX_REQUESTS;
  const { bucket } = parseS3Uri(rawPrefix);
  const keys = (await listKeys(`${joinS3Uri(rawPrefix, PREFIXES.requestLogs.replace(/\/$/, ''))}/`)).sort();
  const batches: LoggedRequest[][] = [];
  let count = 0;
  let unreadable = 0;
  for (let i = keys.length - 1; i >= 0 && count < max; i--) {
    let bytes = Buffer.from(await getObjectBytes(formatS3Uri(bucket, keys[i] as string)));
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        bytes = gunzipSync(bytes);
      } catch {
        unreadable++;
        continue;
      }
    }
    const batch: LoggedRequest[] = [];
    for (const line of bytes.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      const r = parseLogged(line);
      if (r === undefined) unreadable++;
      else batch.push(r);
    }
    batches.push(batch);
    count += batch.length;
  }
  const requests = batches.reverse().flat();
  return { requests: requests.slice(Math.max(0, requests.length - max)), unreadable };
}

/**
 * The skew of serving's logged features against this run's: `userFeatures` are the run's features of
 * every user (its transforms), `users` their facts (a user who had not signed up at request time is
 * not compared).
 */
export async function measureServingSkew(
  rawPrefix: string,
  run: { readonly userFeatures: FeatureRows; readonly users: ReadonlyMap<string, UserMeta>; readonly transformVersion: string },
  options: SkewOptions = {},
): Promise<SkewReport & { readonly unreadable: number }> {
  let log: Awaited<ReturnType<typeof readRequestLog>>;
  try {
    log = await readRequestLog(rawPrefix, options);
  } catch (error) {
    // A log this run may not read (permissions, a missing bucket) is stated, not a failed run.
    const message = `${(error as Error).name}: ${(error as Error).message}`;
    return { ...measureSkew([], () => undefined, run.transformVersion), unreadable: 0, readError: message };
  }
  const { requests, unreadable } = log;
  const report = measureSkew(
    requests,
    (userId, at) => {
      const signup = run.users.get(userId)?.signupAt;
      if (signup !== undefined && signup > at) return undefined;
      return run.userFeatures.get(userId);
    },
    run.transformVersion,
  );
  return { ...report, unreadable };
}
