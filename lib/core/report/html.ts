/**
 * The human report: one self-contained HTML page with the candidate, the live model and every
 * baseline side by side (bars with 95% interval whiskers), beyond-accuracy metrics, slices and the
 * gate decision with its reasons.
 */
import type { EvaluationReport, RunReport } from '../eval/evaluate.ts';
import type { GateDecision } from '../gate/policy.ts';

const COLORS: Readonly<Record<string, string>> = { candidate: '#2563eb', live: '#16a34a', baseline: '#9ca3af' };

function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}

/** A horizontal bar chart of one metric across runs, with interval whiskers. */
export function metricChart(report: EvaluationReport, metric: string): string {
  const rows = report.runs;
  const max = Math.max(1e-9, ...rows.map((r) => r.metrics[metric]?.hi ?? 0));
  const width = 520;
  const left = 170;
  const barH = 18;
  const height = rows.length * (barH + 8) + 30;
  const x = (v: number): number => left + (v / max) * (width - left - 60);
  const bars = rows
    .map((r, i) => {
      const m = r.metrics[metric] ?? { mean: 0, lo: 0, hi: 0 };
      const y = 20 + i * (barH + 8);
      return `<text x="${left - 6}" y="${y + 13}" text-anchor="end" font-size="12">${esc(r.name)}</text>
<rect x="${left}" y="${y}" width="${Math.max(0, x(m.mean) - left)}" height="${barH}" fill="${COLORS[r.role] ?? '#999'}"/>
<line x1="${x(m.lo)}" x2="${x(m.hi)}" y1="${y + barH / 2}" y2="${y + barH / 2}" stroke="#111" stroke-width="1.5"/>
<line x1="${x(m.lo)}" x2="${x(m.lo)}" y1="${y + 4}" y2="${y + barH - 4}" stroke="#111"/><line x1="${x(m.hi)}" x2="${x(m.hi)}" y1="${y + 4}" y2="${y + barH - 4}" stroke="#111"/>
<text x="${x(m.hi) + 6}" y="${y + 13}" font-size="11">${m.mean.toFixed(4)}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${esc(metric)}"><text x="0" y="12" font-size="13" font-weight="bold">${esc(metric)}</text>${bars}</svg>`;
}

function sliceTable(report: EvaluationReport, metric: string): string {
  const dims = new Map<string, Set<string>>();
  for (const r of report.runs) for (const [dim, values] of Object.entries(r.slices)) for (const v of Object.keys(values)) (dims.get(dim) ?? dims.set(dim, new Set()).get(dim))?.add(v);
  const header = `<tr><th>slice</th><th>users</th>${report.runs.map((r) => `<th>${esc(r.name)}</th>`).join('')}</tr>`;
  const rows: string[] = [];
  for (const [dim, values] of [...dims].sort()) {
    for (const v of [...values].sort()) {
      const users = report.runs[0]?.slices[dim]?.[v]?.users ?? 0;
      const cells = report.runs.map((r) => r.slices[dim]?.[v]?.metrics[metric]);
      const best = Math.max(...cells.map((c) => c ?? 0));
      rows.push(`<tr><td>${esc(dim)}=${esc(v)}</td><td>${users}</td>${cells.map((c) => `<td${c === best && best > 0 ? ' class="best"' : ''}>${c === undefined ? '' : c.toFixed(4)}</td>`).join('')}</tr>`);
    }
  }
  return `<table><thead>${header}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function beyondTable(runs: readonly RunReport[]): string {
  const keys = ['coverage', 'diversity', 'novelty', 'personalization', 'freshness', 'newItemRecall'];
  return `<table><thead><tr><th>run</th>${keys.map((k) => `<th>${k}</th>`).join('')}</tr></thead><tbody>${runs
    .map((r) => `<tr><td>${esc(r.name)} <small>(${r.role})</small></td>${keys.map((k) => `<td>${(r.beyond[k] ?? 0).toFixed(3)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export function renderHtmlReport(report: EvaluationReport, decision: GateDecision, title: string): string {
  const metrics = Object.keys(report.runs[0]?.metrics ?? {});
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#111}table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px;text-align:right}td:first-child,th:first-child{text-align:left}.best{font-weight:bold;background:#eef6ff}.pass{color:#16a34a}.fail{color:#dc2626}.charts{display:flex;flex-wrap:wrap;gap:16px}</style></head><body>
<h1>${esc(title)}</h1>
<p>${report.users} users evaluated at k=${report.k}; 95% bootstrap intervals over ${report.resamples} resamples (seed ${report.seed}). <span style="color:${COLORS.candidate}">■ candidate</span> <span style="color:${COLORS.live}">■ live</span> <span style="color:${COLORS.baseline}">■ baselines</span></p>
<h2 class="${decision.pass ? 'pass' : 'fail'}">Gate: ${decision.pass ? 'PASS' : 'FAIL'} on ${esc(decision.primaryMetric)}</h2>
<ul>${decision.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>
<h2>Accuracy</h2><div class="charts">${metrics.map((m) => metricChart(report, m)).join('')}</div>
<h2>Beyond accuracy</h2>${beyondTable(report.runs)}
<h2>Slices (${esc(decision.primaryMetric)})</h2>${sliceTable(report, decision.primaryMetric)}
</body></html>
`;
}

/** Plain-text table of one metric with intervals, for terminals. */
export function renderTextTable(report: EvaluationReport, metric: string): string {
  const lines = [`${'run'.padEnd(28)} ${'role'.padEnd(10)} ${metric.padStart(9)}   95% CI`];
  for (const r of [...report.runs].sort((a, b) => (b.metrics[metric]?.mean ?? 0) - (a.metrics[metric]?.mean ?? 0))) {
    const m = r.metrics[metric] ?? { mean: 0, lo: 0, hi: 0 };
    lines.push(`${r.name.padEnd(28)} ${r.role.padEnd(10)} ${m.mean.toFixed(4).padStart(9)}   [${m.lo.toFixed(4)}, ${m.hi.toFixed(4)}]`);
  }
  return lines.join('\n') + '\n';
}
