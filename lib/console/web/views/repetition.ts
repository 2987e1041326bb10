/// <reference lib="dom" />
/**
 * Repetition diagnostic: a set of varied profiles through one shelf under every arm; how many share
 * the same top item, distinct items, Gini of exposure and personalization beside the baselines, and
 * the flag when the deployed model is as repetitive as popularity.
 */
import type { RepetitionResult } from '../../api/repetition.ts';
import { getJson } from '../api.ts';
import { barChart } from '../charts.ts';
import { field, h, mount, num, select, table } from '../dom.ts';
import { formValues, into, shelfSelect } from './shared.ts';

function render(r: RepetitionResult): Node[] {
  const popularity = r.arms.find((a) => a.arm === 'baseline:popularity');
  return [
    h(
      'div',
      { class: `flag ${r.verdict.flagged ? 'on' : 'off'}`, id: 'repetition-verdict', data: { flagged: String(r.verdict.flagged) } },
      r.verdict.flagged ? 'FLAGGED: ' : 'OK: ',
      r.verdict.reason,
    ),
    h('p', { class: 'muted' }, `${r.shelf}: ${r.described}`),
    table(
      ['arm', 'version', 'profiles', 'same top item', 'top item', 'distinct items', 'Gini of exposure', 'personalization'],
      r.arms.map((a) => [
        h(
          'span',
          {},
          a.label,
          a.arm === 'live' && r.verdict.flagged ? h('span', { class: 'badge bad' }, 'as repetitive as popularity') : null,
        ),
        a.version ?? 'heuristic',
        a.figures.profiles,
        `${(a.figures.sameTopShare * 100).toFixed(0)}%`,
        a.figures.topItem ?? '–',
        a.figures.distinctItems,
        num(a.figures.gini),
        num(a.figures.personalization),
      ]),
      [2, 3, 5, 6, 7],
    ),
    h('h3', {}, 'personalization (1 − mean pairwise overlap); dashed: popularity'),
    h(
      'div',
      { class: 'chart' },
      barChart(
        r.arms.map((a) => ({ label: a.label, value: a.figures.personalization })),
        { x: 'personalization', domain: [0, 1], ...(popularity ? { reference: popularity.figures.personalization } : {}) },
      ),
    ),
  ];
}

export async function repetitionView(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const shelf = params.get('shelf') ?? 'playlists';
  const population = params.get('population') ?? 'grid';
  const size = params.get('size') ?? '48';
  const out = h('div', { id: 'repetition-result' });
  const form = h(
    'form',
    {
      onSubmit: (e) => {
        e.preventDefault();
        location.hash = `repetition?${new URLSearchParams(formValues(form)).toString()}`;
      },
    },
    field('shelf', shelfSelect(shelf)),
    field(
      'profiles',
      select(
        'population',
        [
          ['grid', 'grid of new listeners'],
          ['users', 'sample of real users'],
        ],
        population,
      ),
    ),
    field('how many', h('input', { name: 'size', value: size })),
    h('button', { type: 'submit' }, 'run diagnostic'),
  );
  mount(root, form, out);
  await into(out, async () => render(await getJson<RepetitionResult>('repetition', { shelf, population, size })));
}
