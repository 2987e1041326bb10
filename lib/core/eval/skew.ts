/**
 * Train/serve skew: the features serving logged with each response, against the same users' features
 * recomputed by the pipeline run's transforms as of the request time. A transform that drifted on one
 * side (a new version deployed to serving only, a bug fixed in training only) shows up as a mismatch
 * rate per feature.
 *
 * A feature is the part of a feature name before the first ':' ("country:SE" -> "country"); a
 * request mismatches on a feature when the multisets of (name, value) of that feature differ between
 * the log and the recomputation (a value missing on one side counts). Requests whose user the run
 * does not know, or who had not signed up at request time, are not compared (counted apart).
 * Empty input gives rates of 0 over 0 compared requests.
 */
import type { Feature } from '../models/recommender.ts';

/** What the request log says serving used for one response. */
export interface LoggedRequest {
  readonly requestId: string;
  readonly userId: string;
  /** Epoch ms of the response (the serving clock). */
  readonly at: number;
  readonly transformVersion: string;
  readonly features: readonly Feature[];
}

export interface FeatureSkew {
  readonly compared: number;
  readonly mismatches: number;
  /** mismatches / compared; 0 when nothing was compared. */
  readonly rate: number;
  /** The first mismatch seen: what serving logged and what the run computes, for the reason text. */
  readonly example?: { readonly requestId: string; readonly userId: string; readonly served: string; readonly recomputed: string };
}

export interface SkewReport {
  /** Logged requests read. */
  readonly requests: number;
  /** Requests whose user's features could be recomputed. */
  readonly compared: number;
  /** Requests whose user the run does not know at that time (anonymous, or not signed up yet). */
  readonly notComparable: number;
  /** Requests per serving transform version. */
  readonly transformVersions: Readonly<Record<string, number>>;
  /** The run's own transform version. */
  readonly runTransformVersion: string;
  /** Per feature, in name order. */
  readonly features: Readonly<Record<string, FeatureSkew>>;
  /** The feature with the highest mismatch rate (ties: name order), or null when none was compared. */
  readonly worst: { readonly feature: string; readonly rate: number } | null;
  /** Why the request log could not be read, when it could not (nothing was compared then). */
  readonly readError?: string;
}

/** The feature a feature name belongs to: its part before the first ':'. */
export function featureOf(name: string): string {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(0, i);
}

function byFeature(features: readonly Feature[]): Map<string, string> {
  const groups = new Map<string, string[]>();
  for (const [name, value] of features) {
    const f = featureOf(name);
    (groups.get(f) ?? groups.set(f, []).get(f))?.push(`${name}=${value}`);
  }
  return new Map([...groups].map(([f, values]) => [f, values.sort().join(',')]));
}

/**
 * Compares every logged request with the recomputation. `recompute(userId, at)` returns the user's
 * features by the run's transforms as of `at`, or undefined when the run cannot know them.
 */
export function measureSkew(
  logged: Iterable<LoggedRequest>,
  recompute: (userId: string, at: number) => readonly Feature[] | undefined,
  runTransformVersion: string,
): SkewReport {
  let requests = 0;
  let compared = 0;
  const versions: Record<string, number> = {};
  const stats = new Map<string, { compared: number; mismatches: number; example?: FeatureSkew['example'] }>();
  for (const r of logged) {
    requests++;
    versions[r.transformVersion] = (versions[r.transformVersion] ?? 0) + 1;
    const expected = recompute(r.userId, r.at);
    if (expected === undefined) continue;
    compared++;
    const served = byFeature(r.features);
    const recomputed = byFeature(expected);
    for (const f of new Set([...served.keys(), ...recomputed.keys()])) {
      let s = stats.get(f);
      if (s === undefined) stats.set(f, (s = { compared: 0, mismatches: 0 }));
      s.compared++;
      const a = served.get(f) ?? '(none)';
      const b = recomputed.get(f) ?? '(none)';
      if (a !== b) {
        s.mismatches++;
        s.example ??= { requestId: r.requestId, userId: r.userId, served: a, recomputed: b };
      }
    }
  }
  // A feature absent from some requests on both sides was not compared there; rates use the requests
  // where it appears on either side, and a feature seen on neither side of a request cannot differ.
  const features: Record<string, FeatureSkew> = {};
  let worst: SkewReport['worst'] = null;
  for (const f of [...stats.keys()].sort()) {
    const s = stats.get(f) as { compared: number; mismatches: number; example?: FeatureSkew['example'] };
    const rate = s.compared === 0 ? 0 : s.mismatches / s.compared;
    features[f] = { compared: s.compared, mismatches: s.mismatches, rate, ...(s.example ? { example: s.example } : {}) };
    if (worst === null || rate > worst.rate) worst = { feature: f, rate };
  }
  return { requests, compared, notComparable: requests - compared, transformVersions: versions, runTransformVersion, features, worst };
}
