/// <reference lib="dom" />
/** New content: items published recently, how often each was shown and who placed it (model or fresh overlay). */
import type { NewContent } from '../../api/new-content.ts';
import { getJson } from '../api.ts';
import { field, h, mount, table } from '../dom.ts';
import { formValues, into } from './shared.ts';

const SHOWN = 150;

function render(n: NewContent): Node[] {
  const shown = n.items.filter((i) => i.shown > 0).length;
  return [
    h(
      'p',
      { class: 'muted' },
      `${n.items.length} items published ${n.since.slice(0, 10)} .. ${n.now.slice(0, 10)}; ${shown} of them shown in ${n.responses} logged responses. Placed by the overlay: shown at one of its fixed slots (3, 6).`,
    ),
    table(
      ['title', 'type', 'published', 'shown', 'by the model', 'by the fresh overlay', 'shelves'],
      n.items.slice(0, SHOWN).map((i) => [
        h('span', { data: { item: i.itemId } }, i.title),
        i.type,
        i.publishedAt.slice(0, 10),
        i.shown,
        i.byModel,
        i.byOverlay,
        Object.entries(i.shelves)
          .map(([s, c]) => `${s} ${c}`)
          .join(', ') || '–',
      ]),
      [3, 4, 5],
    ),
    h('p', { class: 'muted' }, n.items.length > SHOWN ? `… and ${n.items.length - SHOWN} more, never or rarely shown` : ''),
  ];
}

export async function newContentView(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const days = params.get('days') ?? '14';
  const out = h('div', { id: 'new-content-result' });
  const form = h(
    'form',
    {
      onSubmit: (e) => {
        e.preventDefault();
        location.hash = `new-content?${new URLSearchParams(formValues(form)).toString()}`;
      },
    },
    field('published in the last … days', h('input', { name: 'days', value: days })),
    h('button', { type: 'submit' }, 'show'),
  );
  mount(root, form, out);
  await into(out, async () => render(await getJson<NewContent>('new-content', { days })));
}
