import { describe, expect, it } from 'vitest';
import { evaluatePredictions } from '../../../lib/core/eval/evaluate.ts';
import { decideGate } from '../../../lib/core/gate/policy.ts';
import { metricChart, renderHtmlReport, sliceChart } from '../../../lib/core/report/html.ts';
import { EvaluationReportSchema, renderJsonReport, toReportDocument } from '../../../lib/core/report/json.ts';
import { renderMarkdownTable, renderTextTable } from '../../../lib/core/report/table.ts';

const truth = new Map([
  ['u1', new Map([['a', 1]])],
  ['u2', new Map([['b', 1]])],
  ['u3', new Map([['c', 1]])],
  ['u4', new Map<string, number>()],
]);
const slices = new Map([
  ['u1', { userType: 'new' }],
  ['u2', { userType: 'established' }],
  ['u3', { userType: 'established' }],
]);
const report = evaluatePredictions(
  truth,
  [
    {
      name: 'candidate <v2>',
      lists: new Map([
        ['u1', ['a', 'z']],
        ['u2', ['b']],
        ['u3', ['z', 'c']],
      ]),
    },
    {
      name: 'live',
      role: 'live',
      lists: new Map([
        ['u1', ['a']],
        ['u2', ['z']],
        ['u3', ['c']],
      ]),
    },
    {
      name: 'popularity',
      role: 'baseline',
      lists: new Map([
        ['u1', ['z', 'a']],
        ['u2', ['z']],
        ['u3', ['z']],
      ]),
    },
    { name: 'random', role: 'baseline', lists: new Map([['u1', ['q']]]) },
  ],
  { k: 2, resamples: 100, slices, evaluatedAt: Date.UTC(2026, 10, 1) },
);
const decision = decideGate(
  report,
  { primaryMetric: 'ndcg@2', minLiftOverBestBaseline: 0.05, maxRegressionVsLive: 0.02, guardrails: {} },
  'v1',
);

describe('the JSON report', () => {
  it('satisfies EvaluationReportSchema, with the decision, an ISO time and no non-finite numbers', () => {
    const doc = toReportDocument(report, decision);
    expect(EvaluationReportSchema.safeParse(doc).success).toBe(true);
    expect(doc.evaluatedAt).toBe('2026-11-01T00:00:00.000Z');
    expect(doc.decision).toEqual(decision);
    expect(doc.runs.map((r) => r.name)).toEqual(['candidate <v2>', 'live', 'popularity', 'random']);
    expect(doc.comparisons.find((c) => c.against === 'random' && c.metric === 'ndcg@2')).toMatchObject({
      relativeLift: null,
      liftInterval: null,
    });
  });

  it('renders the same bytes for the same evaluation', () => {
    expect(renderJsonReport(report, decision)).toBe(renderJsonReport(report, decision));
    expect(JSON.parse(renderJsonReport(report)).decision).toBeUndefined();
  });
});

describe('the HTML report', () => {
  const html = renderHtmlReport(report, decision, 'podcasts: v2');

  it('is one self-contained page: no scripts, no external links', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
  });

  it('draws one bar chart per metric with every run and its interval whisker', () => {
    expect(html.match(/<svg /g)?.length).toBe(6 + 1); // six accuracy metrics and the slice chart
    const chart = metricChart(report, 'ndcg@2');
    expect(chart.match(/<rect /g)?.length).toBe(4);
    expect(chart.match(/<path d="M/g)?.length).toBe(4);
    expect(chart).toContain('popularity');
  });

  it('shows the gate decision with every reason, escaping names', () => {
    expect(html).toContain(`Gate: ${decision.pass ? 'PASS' : 'FAIL'} on ndcg@2`);
    for (const reason of decision.reasons)
      expect(html).toContain(
        reason.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'),
      );
    expect(html).toContain('candidate &lt;v2&gt;');
    expect(html).not.toContain('candidate <v2>');
  });

  it('has a slice chart and table with each slice value and its user count', () => {
    const chart = sliceChart(report, 'ndcg@2');
    expect(chart).toContain('userType=established (2)');
    expect(chart).toContain('userType=new (1)');
    expect(html).toMatch(/<td>userType=established<\/td><td>2<\/td>/);
  });
});

describe('the terminal and Markdown tables', () => {
  it('lists the candidate, then live, then baselines best first, with intervals', () => {
    const md = renderMarkdownTable(report, ['ndcg@2', 'recall@2']);
    const rows = md.trim().split('\n');
    expect(rows[0]).toBe('| run | role | ndcg@2 | recall@2 |');
    expect(rows.slice(2).map((r) => r.split(' | ')[0])).toEqual(['| candidate <v2>', '| live', '| popularity', '| random']);
    expect(rows[2]).toMatch(/\| 0\.\d{4} \[0\.\d{4}, [01]\.\d{4}\] \|/);
  });

  it('pads the plain-text table into aligned columns', () => {
    const lines = renderTextTable(report, ['ndcg@2']).trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });
});
