/// <reference lib="dom" />
/**
 * Charts, drawn by Observable Plot (SVG from a declarative spec: dots, rules for intervals, lines,
 * bars). Plot writes every label as SVG text, so catalog and version names stay text.
 */
import * as Plot from '@observablehq/plot';

export interface IntervalPoint {
  readonly x: string;
  readonly series: string;
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
}

/** Means with 95% interval rules, one colour per series, over an ordinal x (versions, in order). */
export function intervalChart(
  points: readonly IntervalPoint[],
  options: { y: string; xOrder: readonly string[]; width?: number },
): Element {
  return Plot.plot({
    width: options.width ?? 900,
    height: 260,
    marginBottom: 50,
    x: { type: 'point', domain: [...options.xOrder], label: null, tickRotate: -12, padding: 0.4 },
    y: { label: options.y, grid: true, zero: true },
    color: { legend: true, type: 'categorical' },
    marks: [
      Plot.ruleY([0]),
      Plot.ruleX(points, { x: 'x', y1: 'lo', y2: 'hi', stroke: 'series', strokeOpacity: 0.6, dx: 0 }),
      Plot.line(points, { x: 'x', y: 'mean', stroke: 'series', strokeOpacity: 0.35 }),
      Plot.dot(points, {
        x: 'x',
        y: 'mean',
        fill: 'series',
        r: 3.5,
        tip: true,
        title: (d: IntervalPoint) => `${d.series} ${d.x}: ${d.mean.toFixed(4)} [${d.lo.toFixed(4)}, ${d.hi.toFixed(4)}]`,
      }),
    ],
  });
}

/** Horizontal bars of one figure per arm, with the flagged reference marked by a rule. */
export function barChart(
  rows: readonly { label: string; value: number }[],
  options: { x: string; domain?: readonly [number, number]; reference?: number },
): Element {
  return Plot.plot({
    width: 640,
    height: 40 + rows.length * 26,
    marginLeft: 230,
    x: { label: options.x, grid: true, ...(options.domain ? { domain: [...options.domain] } : {}) },
    y: { label: null, domain: rows.map((r) => r.label) },
    marks: [
      Plot.barX(rows, { x: 'value', y: 'label', fill: '#1f6feb', fillOpacity: 0.75 }),
      Plot.text(rows, { x: 'value', y: 'label', text: (d: { value: number }) => d.value.toFixed(3), dx: 18 }),
      ...(options.reference === undefined ? [] : [Plot.ruleX([options.reference], { stroke: '#cf222e', strokeDasharray: '4,3' })]),
    ],
  });
}
