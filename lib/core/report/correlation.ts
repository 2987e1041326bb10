/**
 * The "offline vs online" section of a report: per shelf, every model variant's offline metric
 * against its online play rate (inline SVG scatter with both intervals as whiskers), the rank
 * correlation of each offline metric with online play and skip rates (with bootstrap intervals), and
 * the pairs of variants that offline and online order differently. Plain HTML, no scripts; every
 * value is escaped.
 */
import type { Interval } from '../stats/bootstrap.ts';
import type { CorrelationInterval, PredictorRanking } from '../stats/correlation.ts';

/** One model variant measured both ways. */
export interface VariantMeasurement {
  readonly name: string;
  /** Offline metrics by name (ndcg@10, recall@10, coverage, ...); accuracy metrics carry intervals. */
  readonly offline: Readonly<Record<string, Interval>>;
  /** Online play rate (plays / impressions) over users, with its interval. */
  readonly playRate: Interval;
  /** Online skip rate (explicit skips / impressions), with its interval. */
  readonly skipRate: Interval;
  readonly impressions: number;
}

export interface ShelfCorrelation {
  readonly shelf: string;
  readonly users: number;
  readonly variants: readonly VariantMeasurement[];
  /** Offline metrics ranked by Spearman correlation with the online play rate. */
  readonly playRate: PredictorRanking;
  /** Kendall tau-b of each offline metric with the play rate. */
  readonly kendall: Readonly<Record<string, CorrelationInterval>>;
  /** Spearman correlation of each offline metric with the skip rate. */
  readonly skipRate: Readonly<Record<string, CorrelationInterval>>;
  /** The metric plotted on the x axis (normally the gate's primary metric). */
  readonly primaryMetric: string;
  /** Plain-language notes on where offline and online disagree, and why. */
  readonly notes: readonly string[];
}

export interface Disagreement {
  /** Offline says `better` beats `worse` (on the primary metric)... */
  readonly better: string;
  readonly worse: string;
  /** ...but online play rate says the opposite, beyond both variants' intervals when `clear`. */
  readonly clear: boolean;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/**
 * Pairs whose order differs between the primary offline metric and online play rate; `clear` when
 * the offline intervals do not overlap and neither do the online ones (so neither order is noise).
 */
export function disagreements(shelf: Pick<ShelfCorrelation, 'variants' | 'primaryMetric'>): Disagreement[] {
  const out: Disagreement[] = [];
  const vs = shelf.variants;
  for (let i = 0; i < vs.length; i++) {
    for (let j = 0; j < vs.length; j++) {
      const a = vs[i] as VariantMeasurement;
      const b = vs[j] as VariantMeasurement;
      const oa = a.offline[shelf.primaryMetric];
      const ob = b.offline[shelf.primaryMetric];
      if (oa === undefined || ob === undefined || !(oa.mean > ob.mean) || !(a.playRate.mean < b.playRate.mean)) continue;
      out.push({ better: a.name, worse: b.name, clear: oa.lo > ob.hi && a.playRate.hi < b.playRate.lo });
    }
  }
  return out;
}

const f = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : '–');
const ci = (c: { value: number; lo: number; hi: number }): string => `${f(c.value, 2)} [${f(c.lo, 2)}, ${f(c.hi, 2)}]`;

/** A scatter of the primary offline metric (x) against online play rate (y), whiskers = 95% intervals. */
export function correlationScatter(shelf: ShelfCorrelation): string {
  const width = 560;
  const height = 380;
  const m = { left: 64, right: 150, top: 28, bottom: 44 };
  const pts = shelf.variants.map((v) => ({ v, x: v.offline[shelf.primaryMetric] ?? { mean: 0, lo: 0, hi: 0 }, y: v.playRate }));
  const xMax = Math.max(1e-9, ...pts.map((p) => p.x.hi)) * 1.05;
  const yMin = Math.min(...pts.map((p) => p.y.lo)) * 0.95;
  const yMax = Math.max(...pts.map((p) => p.y.hi)) * 1.05;
  const sx = (x: number): number => m.left + (x / xMax) * (width - m.left - m.right);
  const sy = (y: number): number => height - m.bottom - ((y - yMin) / Math.max(1e-9, yMax - yMin)) * (height - m.top - m.bottom);
  const ticks = (lo: number, hi: number): number[] => Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
  const axes = [
    `<line x1="${m.left}" y1="${height - m.bottom}" x2="${width - m.right}" y2="${height - m.bottom}" stroke="#444"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${height - m.bottom}" stroke="#444"/>`,
    ...ticks(0, xMax).map(
      (t) => `<text x="${sx(t).toFixed(1)}" y="${height - m.bottom + 14}" font-size="10" text-anchor="middle">${t.toFixed(3)}</text>`,
    ),
    ...ticks(yMin, yMax).map(
      (t) => `<text x="${m.left - 6}" y="${(sy(t) + 3).toFixed(1)}" font-size="10" text-anchor="end">${(t * 100).toFixed(1)}%</text>`,
    ),
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" font-size="12" text-anchor="middle">offline ${esc(shelf.primaryMetric)} (held-out logs)</text>`,
    `<text transform="translate(14 ${(m.top + height - m.bottom) / 2}) rotate(-90)" font-size="12" text-anchor="middle">online play rate (simulated listeners)</text>`,
  ];
  const marks = pts.map(({ v, x, y }) => {
    const cx = sx(x.mean);
    const cy = sy(y.mean);
    return `<g><title>${esc(v.name)}: ${esc(shelf.primaryMetric)} ${f(x.mean, 4)} [${f(x.lo, 4)}, ${f(x.hi, 4)}], play rate ${f(y.mean * 100, 2)}% [${f(y.lo * 100, 2)}%, ${f(y.hi * 100, 2)}%]</title>
<path d="M${sx(x.lo).toFixed(1)} ${cy.toFixed(1)}H${sx(x.hi).toFixed(1)}M${cx.toFixed(1)} ${sy(y.lo).toFixed(1)}V${sy(y.hi).toFixed(1)}" stroke="#888" fill="none"/>
<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="4" fill="#2563eb"/>
<text x="${(cx + 6).toFixed(1)}" y="${(cy - 5).toFixed(1)}" font-size="10">${esc(v.name)}</text></g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${esc(shelf.shelf)}: offline ${esc(shelf.primaryMetric)} against online play rate"><text x="${m.left}" y="16" font-size="13" font-weight="bold">${esc(shelf.shelf)}: ${esc(shelf.primaryMetric)} vs play rate</text>
${axes.join('\n')}
${marks.join('\n')}</svg>`;
}

/** The whole section (h2 per shelf) as an HTML fragment. */
export function renderCorrelationSection(shelves: readonly ShelfCorrelation[]): string {
  const parts = shelves.map((s) => {
    const best = s.playRate.ranked[0];
    const margin = s.playRate.marginOverRunnerUp;
    const rows = s.playRate.ranked
      .map(
        (r) =>
          `<tr><td>${esc(r.predictor)}</td><td>${ci(r.correlation)}</td><td>${s.kendall[r.predictor] ? ci(s.kendall[r.predictor] as CorrelationInterval) : '–'}</td><td>${s.skipRate[r.predictor] ? ci(s.skipRate[r.predictor] as CorrelationInterval) : '–'}</td></tr>`,
      )
      .join('');
    const variants = s.variants
      .map(
        (v) =>
          `<tr><td>${esc(v.name)}</td><td>${f(v.offline[s.primaryMetric]?.mean ?? 0, 4)} [${f(v.offline[s.primaryMetric]?.lo ?? 0, 4)}, ${f(v.offline[s.primaryMetric]?.hi ?? 0, 4)}]</td><td>${f(v.playRate.mean * 100, 2)}% [${f(v.playRate.lo * 100, 2)}, ${f(v.playRate.hi * 100, 2)}]</td><td>${f(v.skipRate.mean * 100, 2)}%</td><td>${v.impressions}</td></tr>`,
      )
      .join('');
    const clash = disagreements(s);
    const clashList =
      clash.length === 0
        ? '<p>Offline and online order every pair of variants the same way.</p>'
        : `<ul>${clash.map((d) => `<li>offline ranks <b>${esc(d.better)}</b> above <b>${esc(d.worse)}</b>, online plays say the opposite${d.clear ? ' (beyond both intervals)' : ' (within noise)'}</li>`).join('')}</ul>`;
    return `<h3>${esc(s.shelf)} (${s.variants.length} variants, ${s.users} users)</h3>
<p>Best predictor of online play rate: <b>${esc(s.playRate.tiedWithBest.join(' = ') || 'none')}</b>${s.playRate.tiedWithBest.length > 1 ? ' (they order the variants identically)' : ''}, Spearman ${best ? ci(best.correlation) : '–'}${margin ? `; ahead of the next, ${esc(margin.runnerUp)}, by ${ci(margin)} (paired over the same resamples of variants)` : ''}.</p>
${correlationScatter(s)}
<table><thead><tr><th>offline metric</th><th>Spearman with play rate [95% CI]</th><th>Kendall tau-b [95% CI]</th><th>Spearman with skip rate [95% CI]</th></tr></thead><tbody>${rows}</tbody></table>
<table><thead><tr><th>variant</th><th>${esc(s.primaryMetric)} [95% CI]</th><th>play rate [95% CI]</th><th>skip rate</th><th>impressions</th></tr></thead><tbody>${variants}</tbody></table>
<h4>Where offline and online disagree</h4>${clashList}<ul>${s.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`;
  });
  return `<h2>Does offline predict online?</h2>
<p>Correlations are over model variants (the unit that a ranking of models is about); intervals are percentile bootstraps resampling the variants. Each variant's own intervals (whiskers) resample users.</p>
${parts.join('\n')}`;
}

/** One version of a shelf as the registry's versionHistory gives it, reduced to what the report needs. */
export interface VersionOutcomeRow {
  readonly versionId: string;
  readonly status: string;
  /** The version's offline primary metric (absent when it was not recorded). */
  readonly offline: number | undefined;
  readonly impressions: number;
  readonly plays: number;
  /** Wilson 95% interval of the play rate over all its online periods. */
  readonly playRate: { readonly mean: number; readonly lo: number; readonly hi: number } | null;
}

/**
 * The run report's look back: every earlier version's offline primary metric beside what it did online
 * (canary and live periods recorded by the monitor), and their rank correlation once at least three
 * versions have both.
 */
export function renderVersionHistorySection(
  rows: readonly VersionOutcomeRow[],
  primaryMetric: string,
  correlationOverVersions: CorrelationInterval | null,
): string {
  const body = rows
    .map(
      (r) =>
        `<tr><td>${esc(r.versionId)}</td><td>${esc(r.status)}</td><td>${r.offline === undefined ? '–' : f(r.offline, 4)}</td><td>${r.impressions}</td><td>${r.playRate === null ? '–' : `${f(r.playRate.mean * 100, 2)}% [${f(r.playRate.lo * 100, 2)}, ${f(r.playRate.hi * 100, 2)}]`}</td></tr>`,
    )
    .join('');
  const verdict =
    correlationOverVersions === null
      ? '<p>Fewer than three versions have both an offline metric and online exposure: no correlation yet.</p>'
      : `<p>Spearman of offline ${esc(primaryMetric)} with online play rate over ${correlationOverVersions.units} versions: ${ci(correlationOverVersions)} (bootstrap over versions).</p>`;
  return `<h2>Offline vs online, by version</h2>
<table><thead><tr><th>version</th><th>status</th><th>offline ${esc(primaryMetric)}</th><th>impressions</th><th>online play rate [95% CI]</th></tr></thead><tbody>${body || '<tr><td colspan="5">no earlier versions</td></tr>'}</tbody></table>
${verdict}`;
}
