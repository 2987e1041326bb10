/**
 * The human report: one self-contained HTML page (no scripts, no external assets) with the gate's
 * decision and reasons, the candidate, the live model and every baseline side by side per metric
 * (inline SVG bars with 95% interval whiskers), paired comparisons, beyond-accuracy metrics, and the
 * primary metric per slice as a table and a chart.
 */
import type { EvaluationReport, RunReport } from '../eval/evaluate.ts';
import type { GateDecision } from '../gate/policy.ts';
import { orderRuns } from './table.ts';

export { renderTextTable, renderMarkdownTable } from './table.ts';

const COLORS: Readonly<Record<string, string>> = { candidate: '#2563eb', live: '#16a34a', baseline: '#9ca3af' };
/** Baselines get muted, clearly different hues; candidate and live keep theirs. */
const BASELINE_SHADES = ['#6b7280', '#d97706', '#9333ea', '#0d9488', '#be185d', '#a3a3a3'];

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function colorOf(runs: readonly RunReport[], r: RunReport): string {
  if (r.role !== 'baseline') return COLORS[r.role] ?? '#999';
  const i = runs.filter((x) => x.role === 'baseline').indexOf(r);
  return BASELINE_SHADES[i % BASELINE_SHADES.length] as string;
}

/**
 * A horizontal bar chart of one metric across runs, with interval whiskers and the value printed.
 * `rows` fixes the order of the runs (default: candidate, live, baselines best first on `metric`).
 */
export function metricChart(report: EvaluationReport, metric: string, rows: readonly RunReport[] = orderRuns(report, metric)): string {
  const max = Math.max(1e-9, ...rows.map((r) => r.metrics[metric]?.hi ?? 0));
  const width = 460;
  const left = 150;
  const barH = 18;
  const height = rows.length * (barH + 8) + 26;
  const x = (v: number): number => left + (v / max) * (width - left - 60);
  const bars = rows
    .map((r, i) => {
      const m = r.metrics[metric] ?? { mean: 0, lo: 0, hi: 0 };
      const y = 22 + i * (barH + 8);
      const mid = y + barH / 2;
      return `<text x="${left - 6}" y="${y + 13}" text-anchor="end" font-size="12">${esc(r.name)}</text>
<rect x="${left}" y="${y}" width="${Math.max(0, x(m.mean) - left).toFixed(1)}" height="${barH}" fill="${colorOf(report.runs, r)}"><title>${esc(r.name)}: ${m.mean.toFixed(4)} [${m.lo.toFixed(4)}, ${m.hi.toFixed(4)}]</title></rect>
<path d="M${x(m.lo).toFixed(1)} ${mid}H${x(m.hi).toFixed(1)}M${x(m.lo).toFixed(1)} ${y + 4}V${y + barH - 4}M${x(m.hi).toFixed(1)} ${y + 4}V${y + barH - 4}" stroke="#111" stroke-width="1.4" fill="none"/>
<text x="${(x(m.hi) + 5).toFixed(1)}" y="${y + 13}" font-size="11">${m.mean.toFixed(4)}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${esc(metric)} by run"><text x="0" y="13" font-size="13" font-weight="bold">${esc(metric)}</text>
${bars}</svg>`;
}

function sliceRows(report: EvaluationReport): { dim: string; value: string; users: number }[] {
  const rows = new Map<string, { dim: string; value: string; users: number }>();
  for (const r of report.runs)
    for (const [dim, values] of Object.entries(r.slices))
      for (const [value, stats] of Object.entries(values))
        if (!rows.has(`${dim}\u0000${value}`)) rows.set(`${dim}\u0000${value}`, { dim, value, users: stats.users });
  return [...rows.values()].sort((a, b) => (a.dim === b.dim ? (a.value < b.value ? -1 : 1) : a.dim < b.dim ? -1 : 1));
}

/** One group of bars per slice value: every run's mean of `metric` over the slice's users. */
export function sliceChart(report: EvaluationReport, metric: string): string {
  const rows = sliceRows(report);
  const runs = orderRuns(report, metric);
  if (rows.length === 0) return '<p>No slices in this evaluation set.</p>';
  const barH = 7;
  const group = runs.length * barH + 10;
  const left = 190;
  const width = 640;
  const max = Math.max(1e-9, ...rows.flatMap((s) => runs.map((r) => r.slices[s.dim]?.[s.value]?.metrics[metric] ?? 0)));
  const x = (v: number): number => (v / max) * (width - left - 60);
  const parts = rows.map((s, i) => {
    const y = 10 + i * group;
    const bars = runs
      .map((r, j) => {
        const v = r.slices[s.dim]?.[s.value]?.metrics[metric] ?? 0;
        return `<rect x="${left}" y="${y + j * barH}" width="${x(v).toFixed(1)}" height="${barH - 1}" fill="${colorOf(report.runs, r)}"><title>${esc(r.name)}: ${v.toFixed(4)}</title></rect>`;
      })
      .join('');
    return `<text x="${left - 6}" y="${y + (runs.length * barH) / 2 + 4}" text-anchor="end" font-size="11">${esc(s.dim)}=${esc(s.value)} (${s.users})</text>${bars}`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${rows.length * group + 14}" role="img" aria-label="${esc(metric)} by slice">${parts.join('\n')}</svg>`;
}

function sliceTable(report: EvaluationReport, metric: string): string {
  const runs = orderRuns(report, metric);
  const header = `<tr><th>slice</th><th>users</th>${runs.map((r) => `<th>${esc(r.name)}</th>`).join('')}</tr>`;
  const rows = sliceRows(report).map((s) => {
    const cells = runs.map((r) => r.slices[s.dim]?.[s.value]?.metrics[metric]);
    const best = Math.max(...cells.map((c) => c ?? 0));
    return `<tr><td>${esc(s.dim)}=${esc(s.value)}</td><td>${s.users}</td>${cells.map((c) => `<td${c === best && best > 0 ? ' class="best"' : ''}>${c === undefined ? '' : c.toFixed(4)}</td>`).join('')}</tr>`;
  });
  return `<table><thead>${header}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function comparisonTable(report: EvaluationReport, metric: string): string {
  const rows = report.comparisons.filter((c) => c.metric === metric);
  if (rows.length === 0) return '';
  const f = (x: number): string => x.toFixed(4);
  const p = (x: number): string => `${(x * 100).toFixed(1)}%`;
  return `<table><thead><tr><th>candidate vs</th><th>role</th><th>difference</th><th>95% CI</th><th>relative lift</th><th>95% CI</th></tr></thead><tbody>${rows
    .map(
      (c) =>
        `<tr><td>${esc(c.against)}</td><td>${c.role}</td><td class="${c.difference.lo > 0 ? 'pass' : c.difference.hi < 0 ? 'fail' : ''}">${f(c.difference.mean)}</td><td>[${f(c.difference.lo)}, ${f(c.difference.hi)}]</td><td>${c.liftInterval ? p(c.liftInterval.mean) : '–'}</td><td>${c.liftInterval ? `[${p(c.liftInterval.lo)}, ${p(c.liftInterval.hi)}]` : '–'}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

function beyondTable(runs: readonly RunReport[]): string {
  const keys = ['coverage', 'diversity', 'novelty', 'personalization', 'freshness', 'newItemRecall'];
  if (runs.some((r) => r.beyond.embeddingDiversity !== undefined)) keys.splice(2, 0, 'embeddingDiversity');
  return `<table><thead><tr><th>run</th>${keys.map((k) => `<th>${k}</th>`).join('')}</tr></thead><tbody>${runs
    .map(
      (r) =>
        `<tr><td>${esc(r.name)} <small>(${r.role})</small></td>${keys.map((k) => `<td>${(r.beyond[k] ?? 0).toFixed(3)}</td>`).join('')}</tr>`,
    )
    .join('')}</tbody></table>`;
}

/** The whole page as one string; `sections` (HTML fragments: skew, offline vs online...) follow the slices. */
export function renderHtmlReport(
  report: EvaluationReport,
  decision: GateDecision,
  title: string,
  sections: readonly string[] = [],
): string {
  const metrics = Object.keys(report.runs[0]?.metrics ?? {});
  const primary = decision.primaryMetric;
  const runs = orderRuns(report, primary);
  const legend = runs
    .map((r) => `<span class="key"><i style="background:${colorOf(report.runs, r)}"></i>${esc(r.name)} <small>(${r.role})</small></span>`)
    .join(' ');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#111;max-width:1000px}table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px;text-align:right}td:first-child,th:first-child{text-align:left}.best{font-weight:bold;background:#eef6ff}.pass{color:#16a34a}.fail{color:#dc2626}.charts{display:flex;flex-wrap:wrap;gap:12px 24px}.key{margin-right:12px;font-size:13px}.key i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}li{margin:3px 0}</style></head><body>
<h1>${esc(title)}</h1>
<p>${report.users} users with relevant items evaluated at k=${report.k}${report.usersWithoutRelevant > 0 ? ` (${report.usersWithoutRelevant} without relevant items left out)` : ''}; 95% percentile-bootstrap intervals over ${report.resamples} resamples of users (seed ${report.seed}).</p>
<p>${legend}</p>
<h2 class="${decision.pass ? 'pass' : 'fail'}">Gate: ${decision.pass ? 'PASS' : 'FAIL'} on ${esc(primary)}</h2>
<ul>${decision.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>
<h2>Accuracy</h2><div class="charts">${metrics.map((m) => metricChart(report, m, runs)).join('\n')}</div>
<h2>Paired comparisons on ${esc(primary)}</h2>${comparisonTable(report, primary) || '<p>No candidate to compare.</p>'}
<h2>Beyond accuracy</h2>${beyondTable(runs)}
<h2>Slices (${esc(primary)})</h2>${sliceChart(report, primary)}${sliceTable(report, primary)}
${sections.join('\n')}
</body></html>
`;
}
