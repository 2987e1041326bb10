/// <reference lib="dom" />
/**
 * Versions and metrics over time, per shelf: the primary metric of every version against each
 * baseline and the live model of its run (95% intervals) drawn over versions; each version's gate
 * decision (the first failing rule and how many more, the full list on demand); online play rates per
 * variant with Wilson intervals; the endpoint's decisions and pointers.
 */
import type { ShelfVersions } from '../../api/versions.ts';
import { getJson } from '../api.ts';
import { intervalChart, type IntervalPoint } from '../charts.ts';
import { field, h, mount, num, table } from '../dom.ts';
import { formValues, into, shelfSelect } from './shared.ts';

function render(s: ShelfVersions): Node[] {
  const order = s.versions.map((v) => v.versionId);
  const points: IntervalPoint[] = s.versions.flatMap((v) =>
    v.points.map((p) => ({
      x: v.versionId,
      series: p.role === 'candidate' ? 'version' : p.role === 'live' ? 'live at the time' : p.name,
      mean: p.mean,
      lo: p.lo,
      hi: p.hi,
    })),
  );
  const online = s.versions.flatMap((v) =>
    v.online.map((o) => ({ x: v.versionId, series: `online ${o.variant}`, mean: o.rate, lo: o.lo, hi: o.hi })),
  );
  const metric = s.versions[0]?.metric ?? 'ndcg@10';
  const e = s.endpoint;
  return [
    h(
      'p',
      { id: 'endpoint-pointers' },
      h('b', {}, 'live '),
      e.liveVersion ?? '–',
      h('b', {}, '  canary '),
      e.canaryVersion ? `${e.canaryVersion} (${Math.round(e.canaryWeight * 100)}%)` : '–',
      h('b', {}, '  previous '),
      e.previousVersion ?? '–',
      h('span', { class: 'muted' }, `  revision ${e.revision}, updated ${e.updatedAt}`),
    ),
    s.versions.length === 0
      ? h('p', { class: 'muted' }, 'no versions yet')
      : h('div', { class: 'chart' }, intervalChart(points, { y: `${metric} (offline, 95% interval)`, xOrder: order })),
    online.length > 0
      ? h('div', { class: 'chart' }, intervalChart(online, { y: 'play rate (online, Wilson 95%)', xOrder: order }))
      : h('p', { class: 'muted' }, 'no online feedback logged for these versions yet'),
    h('h2', {}, 'versions'),
    table(
      ['version', 'kind', 'status', 'created', metric, 'best baseline', 'gate', 'online play rate'],
      [...s.versions].reverse().map((v) => {
        const own = v.points.find((p) => p.role === 'candidate');
        const best = [...v.points].filter((p) => p.role === 'baseline').sort((a, b) => b.mean - a.mean)[0];
        return [
          h('span', { data: { version: v.versionId } }, v.versionId),
          v.kind,
          h('span', {}, v.status, v.statusReason ? h('div', { class: 'muted' }, v.statusReason) : null),
          v.createdAt.slice(0, 16).replace('T', ' '),
          own ? `${num(own.mean, 4)} [${num(own.lo, 4)}, ${num(own.hi, 4)}]` : '–',
          best ? `${best.name} ${num(best.mean, 4)}` : '–',
          h(
            'div',
            { class: 'gate' },
            h('span', { class: `badge ${v.gate.pass ? '' : 'bad'}` }, v.gate.pass ? 'PASS' : 'FAIL'),
            v.gate.pass
              ? null
              : h('span', {}, ` ${v.gate.headline}`, v.gate.more > 0 ? h('span', { class: 'muted' }, ` (+${v.gate.more} more)`) : null),
            h('details', {}, h('summary', {}, 'all reasons'), h('ul', {}, ...v.gate.reasons.map((r) => h('li', {}, r)))),
          ),
          v.online.length === 0
            ? '–'
            : h(
                'div',
                {},
                ...v.online.map((o) =>
                  h(
                    'div',
                    {},
                    `${o.variant}: ${(o.rate * 100).toFixed(1)}% [${(o.lo * 100).toFixed(1)}, ${(o.hi * 100).toFixed(1)}] of ${o.impressions}`,
                  ),
                ),
              ),
        ];
      }),
    ),
    h('h2', {}, 'endpoint decisions'),
    s.events.length === 0
      ? h('p', { class: 'muted' }, 'none')
      : table(
          ['at', 'action', 'version', 'reason'],
          [...s.events].reverse().map((ev) => [ev.at.slice(0, 19).replace('T', ' '), ev.action, ev.version ?? '–', ev.reason]),
        ),
  ];
}

export async function versionsView(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const shelf = params.get('shelf') ?? 'podcasts';
  const out = h('div', { id: 'versions-result' });
  const form = h(
    'form',
    {
      onSubmit: (e) => {
        e.preventDefault();
        location.hash = `versions?${new URLSearchParams(formValues(form)).toString()}`;
      },
    },
    field('shelf', shelfSelect(shelf)),
    h('button', { type: 'submit' }, 'show'),
  );
  mount(root, form, out);
  await into(out, async () => render(await getJson<ShelfVersions>('versions', { shelf })));
}
