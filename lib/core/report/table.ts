/**
 * Short tables for terminals and Markdown: candidate first, then the live model, then baselines
 * (best first on the first metric); each cell is the mean with its 95% interval.
 */
import type { EvaluationReport, RunReport } from '../eval/evaluate.ts';

const ROLE_ORDER: Readonly<Record<string, number>> = { candidate: 0, live: 1, baseline: 2 };

/** Runs in reading order: candidate, live, baselines best first on `metric`. */
export function orderRuns(report: EvaluationReport, metric: string): RunReport[] {
  return [...report.runs].sort(
    (a, b) => (ROLE_ORDER[a.role] ?? 3) - (ROLE_ORDER[b.role] ?? 3) || (b.metrics[metric]?.mean ?? 0) - (a.metrics[metric]?.mean ?? 0),
  );
}

function cell(r: RunReport, metric: string): string {
  const m = r.metrics[metric];
  return m === undefined ? '–' : `${m.mean.toFixed(4)} [${m.lo.toFixed(4)}, ${m.hi.toFixed(4)}]`;
}

/** A GitHub-flavoured Markdown table of the given metrics (default: every accuracy metric). */
export function renderMarkdownTable(
  report: EvaluationReport,
  metrics: readonly string[] = Object.keys(report.runs[0]?.metrics ?? {}),
): string {
  const lines = [`| run | role | ${metrics.join(' | ')} |`, `|---|---|${metrics.map(() => '---:').join('|')}|`];
  for (const r of orderRuns(report, metrics[0] ?? ''))
    lines.push(`| ${r.name.replace(/\|/g, '\\|')} | ${r.role} | ${metrics.map((m) => cell(r, m)).join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}

/** A plain-text table of the given metrics, columns padded for a terminal. */
export function renderTextTable(
  report: EvaluationReport,
  metrics: string | readonly string[] = Object.keys(report.runs[0]?.metrics ?? {}),
): string {
  const names = typeof metrics === 'string' ? [metrics] : metrics;
  const runs = orderRuns(report, names[0] ?? '');
  const rows = [['run', 'role', ...names], ...runs.map((r) => [r.name, r.role, ...names.map((m) => cell(r, m))])];
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  return `${rows
    .map((row) =>
      row
        .map((text, c) => (c < 2 ? text.padEnd(widths[c] ?? 0) : text.padStart(widths[c] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
