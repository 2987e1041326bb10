/// <reference lib="dom" />
/** Runs: each run's steps with durations, its data quality on demand, and a link to its report. */
import type { FileQuality, RunRow } from '../../api/runs.ts';
import { getJson } from '../api.ts';
import { duration, field, h, mount, table } from '../dom.ts';
import { formValues, into, shelfSelect } from './shared.ts';

function quality(files: readonly FileQuality[]): Node {
  return table(
    ['file', 'read', 'accepted', 'rejected', 'rejected by reason'],
    files.map((f) => [
      f.file,
      f.read,
      f.accepted,
      f.rejected,
      Object.entries(f.rejectedByReason)
        .map(([r, n]) => `${r}: ${n}`)
        .join(', ') || '–',
    ]),
    [1, 2, 3],
  );
}

function render(shelf: string, runs: readonly RunRow[]): Node[] {
  if (runs.length === 0) return [h('p', { class: 'muted' }, 'no runs yet')];
  return runs.map((r) => {
    const panel = h('div', {});
    const badge = r.status === 'deployed' ? '' : r.status === 'rejected' ? 'warn' : r.status === 'failed' ? 'bad' : 'grey';
    return h(
      'section',
      { class: 'shelf', data: { run: r.runId } },
      h(
        'h3',
        {},
        `run ${r.runId}`,
        h('span', { class: `badge ${badge}` }, r.status),
        h(
          'span',
          { class: 'muted' },
          `  attempt ${r.attempt} · started ${r.startedAt.slice(0, 19).replace('T', ' ')} · ${duration(r.totalMs)}`,
        ),
      ),
      r.reason ? h('div', { class: 'muted' }, r.reason) : null,
      h(
        'div',
        { class: 'steps' },
        ...r.steps.map((s) =>
          h('span', { class: 'step', title: "from the write times of the step's outputs" }, `${s.name} ${duration(s.ms)}`),
        ),
      ),
      h(
        'p',
        {},
        r.report ? h('a', { href: r.report, target: '_blank' }, 'report') : h('span', { class: 'muted' }, 'no report'),
        ' · ',
        h(
          'a',
          {
            href: '#',
            onClick: (e) => {
              e.preventDefault();
              void into(panel, async () =>
                quality((await getJson<{ files: FileQuality[] }>('run-quality', { shelf, runId: r.runId })).files),
              );
            },
          },
          'data quality',
        ),
      ),
      panel,
    );
  });
}

export async function runsView(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const shelf = params.get('shelf') ?? 'podcasts';
  const out = h('div', { id: 'runs-result' });
  const form = h(
    'form',
    {
      onSubmit: (e) => {
        e.preventDefault();
        location.hash = `runs?${new URLSearchParams(formValues(form)).toString()}`;
      },
    },
    field('shelf', shelfSelect(shelf)),
    h('button', { type: 'submit' }, 'show'),
  );
  mount(root, form, out);
  await into(out, async () => {
    const { runs } = await getJson<{ runs: RunRow[] }>('runs', { shelf });
    const nodes = render(shelf, runs);
    const first = runs[0];
    // The newest run's data quality is open from the start.
    if (first) {
      const panel = (nodes[0] as HTMLElement).lastElementChild as HTMLElement;
      await into(panel, async () => quality((await getJson<{ files: FileQuality[] }>('run-quality', { shelf, runId: first.runId })).files));
    }
    return nodes;
  });
}
