/// <reference lib="dom" />
/**
 * Inspector: a known user, or a described new listener; every shelf under every arm (live, canary,
 * each baseline) side by side for the same request, with the user's recent history beside them; and a
 * comparison of two arms or versions of one shelf for the same user: what entered, what left.
 */
import type { InspectResult, ShelfDiff, ShelfView, ArmRef } from '../../api/inspector.ts';
import { getJson } from '../api.ts';
import { field, h, mount, num, select } from '../dom.ts';
import { formValues, into, shelfSelect } from './shared.ts';

const DEVICES = ['mobile', 'desktop', 'tv', 'speaker', 'web', 'car'] as const;
const AGE_BANDS = ['13-17', '18-24', '25-34', '35-44', '45-54', '55+', 'unknown'] as const;

function listenerQuery(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['userId', 'country', 'device', 'ageBand', 'picks', 'localTime']) {
    const v = params.get(k);
    if (v) out[k] = v;
  }
  return out;
}

function armColumn(arm: ArmRef & { view: ShelfView }): HTMLElement {
  const v = arm.view;
  return h(
    'div',
    { class: `arm ${arm.arm === 'live' ? 'live' : ''}`, data: { arm: arm.arm } },
    h('h4', {}, arm.label),
    h(
      'div',
      { class: 'meta' },
      `${v.modelVersion} · ${v.variant}`,
      v.fallbackReason ? h('div', { class: 'error' }, v.fallbackReason) : null,
    ),
    v.items.length === 0 ? h('p', { class: 'muted' }, 'no items') : null,
    ...v.items.map((item, i) =>
      h(
        'div',
        { class: 'item', data: { item: item.id } },
        h('span', { class: 'rank' }, i + 1),
        h(
          'div',
          {},
          h('span', { class: 'title' }, item.title),
          item.isNew ? h('span', { class: 'badge' }, 'new') : null,
          h('div', { class: 'why' }, `${item.type} · ${num(item.score)} · ${item.why}`),
        ),
      ),
    ),
  );
}

function renderInspect(result: InspectResult): Node[] {
  const who = result.user
    ? [
        h('h3', {}, `user ${result.userId}`),
        h('div', {}, `${result.user.country} · ${result.user.device} · ${result.user.ageBand}`),
        h('div', { class: 'muted' }, `picks: ${result.user.onboardingGenres.join(', ') || 'none'}`),
      ]
    : [
        h('h3', {}, result.known ? `user ${result.userId}` : 'new listener'),
        result.context
          ? h(
              'div',
              {},
              `${result.context.country} · ${result.context.device} · ${result.context.ageBand ?? 'age unknown'}`,
              h('div', { class: 'muted' }, `picks: ${(result.context.onboardingGenres ?? []).join(', ') || 'none'}`),
            )
          : h('div', { class: 'muted' }, 'not in the user table'),
      ];
  const side = h(
    'aside',
    { class: 'side' },
    ...who,
    h('h3', {}, 'recent listening'),
    result.history.length === 0
      ? h('p', { class: 'muted' }, 'no history')
      : h(
          'ol',
          {},
          ...result.history.map((e) =>
            h('li', {}, h('span', {}, e.title), h('span', { class: 'muted' }, ` ${e.eventType} ${e.at.slice(5, 16).replace('T', ' ')}`)),
          ),
        ),
  );
  const shelves = h(
    'div',
    {},
    ...result.shelves.map((s) =>
      h(
        'section',
        { class: 'shelf', data: { shelf: s.shelf } },
        h('h2', {}, `${s.shelf}: ${s.arms[0]?.view.title ?? ''}`),
        h('div', { class: 'arms' }, ...s.arms.map(armColumn)),
      ),
    ),
  );
  return [h('div', { class: 'layout' }, side, shelves)];
}

function renderDiff(diff: ShelfDiff): Node {
  const list = (items: readonly { title: string; rank: number }[]) =>
    items.length === 0
      ? h('p', { class: 'muted' }, 'none')
      : h('ul', {}, ...items.map((i) => h('li', {}, `#${i.rank} `, h('span', {}, i.title))));
  return h(
    'div',
    { id: 'compare-result' },
    h('p', { class: 'muted' }, `${diff.a.label} (${diff.a.view.modelVersion}) → ${diff.b.label} (${diff.b.view.modelVersion})`),
    h(
      'div',
      { class: 'diff' },
      h('div', { data: { part: 'entered' } }, h('h3', {}, `entered (${diff.entered.length})`), list(diff.entered)),
      h('div', { data: { part: 'left' } }, h('h3', {}, `left (${diff.left.length})`), list(diff.left)),
      h(
        'div',
        { data: { part: 'kept' } },
        h('h3', {}, `kept (${diff.kept.length})`),
        diff.kept.length === 0
          ? h('p', { class: 'muted' }, 'none')
          : h('ul', {}, ...diff.kept.map((k) => h('li', {}, h('span', {}, k.title), ` #${k.from} → #${k.to}`))),
      ),
    ),
  );
}

export async function inspectorView(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const { users } = await getJson<{ users: { userId: string; country: string; device: string }[] }>('users', { limit: 40 });
  const query = listenerQuery(params);
  if (Object.keys(query).length === 0 && users[0]) query.userId = users[0].userId;
  const go = (q: Record<string, string>) => {
    location.hash = `inspector?${new URLSearchParams(q).toString()}`;
  };
  const known = h(
    'form',
    {
      id: 'known-form',
      onSubmit: (e) => {
        e.preventDefault();
        go({ userId: formValues(known).userId ?? '' });
      },
    },
    field(
      'known user',
      select(
        'userId',
        users.map((u) => [u.userId, `${u.userId} (${u.country}, ${u.device})`] as const),
        query.userId,
      ),
    ),
    h('button', { type: 'submit' }, 'inspect'),
    h('span', { class: 'or' }, 'or describe a new listener'),
    h('span', {}),
  );
  const described = h(
    'form',
    {
      id: 'new-form',
      onSubmit: (e) => {
        e.preventDefault();
        go(Object.fromEntries(Object.entries(formValues(described)).filter(([, v]) => v !== '')));
      },
    },
    field('country', h('input', { name: 'country', value: query.country ?? 'SE', placeholder: 'SE' })),
    field(
      'device',
      select(
        'device',
        DEVICES.map((d) => [d, d] as const),
        query.device ?? 'mobile',
      ),
    ),
    field(
      'age band',
      select(
        'ageBand',
        AGE_BANDS.map((a) => [a, a] as const),
        query.ageBand ?? '25-34',
      ),
    ),
    field('onboarding picks', h('input', { name: 'picks', value: query.picks ?? 'jazz,news', placeholder: 'jazz,news' })),
    field('local time', h('input', { name: 'localTime', value: query.localTime ?? '', placeholder: '2026-10-05T08:15:00+02:00' })),
    h('button', { type: 'submit' }, 'inspect new listener'),
  );
  const result = h('div', { id: 'inspect-result' });
  const compareOut = h('div', {});
  const armA = h('select', { name: 'a' });
  const armB = h('select', { name: 'b' });
  const shelf = shelfSelect('podcasts');
  const loadArms = async () => {
    const { arms } = await getJson<{ arms: ArmRef[] }>('arms', { shelf: shelf.value });
    mount(armA, ...arms.map((a, i) => h('option', { value: a.arm, selected: i === 0 }, a.label)));
    mount(armB, ...arms.map((a, i) => h('option', { value: a.arm, selected: i === 1 }, a.label)));
  };
  shelf.addEventListener('change', () => void loadArms());
  const compare = h(
    'form',
    {
      id: 'compare-form',
      onSubmit: (e) => {
        e.preventDefault();
        void into(compareOut, async () =>
          renderDiff(await getJson<ShelfDiff>('compare', { ...query, shelf: shelf.value, a: armA.value, b: armB.value })),
        );
      },
    },
    field('shelf', shelf),
    field('from', armA),
    field('to', armB),
    h('button', { type: 'submit' }, 'compare for this listener'),
  );
  mount(root, known, described, result, h('h2', {}, 'Compare two versions of a shelf for this listener'), compare, compareOut);
  await loadArms();
  await into(result, async () => renderInspect(await getJson<InspectResult>('inspect', query)));
}
