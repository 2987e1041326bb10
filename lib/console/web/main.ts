/// <reference lib="dom" />
/**
 * The console page: one view per hash (#inspector, #repetition, #versions, #runs, #new-content), each
 * rendered into <main> from the console API; the header shows every shelf's live / canary / previous.
 */
import { getJson } from './api.ts';
import { h, mount } from './dom.ts';
import { inspectorView } from './views/inspector.ts';
import { newContentView } from './views/new-content.ts';
import { repetitionView } from './views/repetition.ts';
import { runsView } from './views/runs.ts';
import { versionsView } from './views/versions.ts';

type View = (root: HTMLElement, params: URLSearchParams) => Promise<void>;

const VIEWS: Readonly<Record<string, View>> = {
  inspector: inspectorView,
  repetition: repetitionView,
  versions: versionsView,
  runs: runsView,
  'new-content': newContentView,
};

interface Overview {
  readonly now: string;
  readonly shelves: readonly { shelf: string; liveVersion: string | null; canaryVersion: string | null; canaryWeight: number }[];
}

async function pointers(): Promise<void> {
  const el = document.getElementById('pointers');
  if (el === null) return;
  const overview = await getJson<Overview>('overview');
  mount(
    el,
    ...overview.shelves.map((s) =>
      h(
        'span',
        {},
        h('b', {}, s.shelf),
        ` live ${s.liveVersion ?? '–'}`,
        s.canaryVersion ? ` · canary ${s.canaryVersion} (${Math.round(s.canaryWeight * 100)}%)` : '',
      ),
    ),
    h('span', {}, `clock ${overview.now.slice(0, 16).replace('T', ' ')}`),
  );
}

/** Renders the view named by the hash (#name?query). */
export async function route(): Promise<void> {
  const [name = 'inspector', query = ''] = location.hash.replace(/^#/, '').split('?');
  const view = VIEWS[name] ?? inspectorView;
  for (const a of document.querySelectorAll('nav a'))
    a.classList.toggle('active', (a as HTMLElement).dataset.view === (VIEWS[name] ? name : 'inspector'));
  const root = document.getElementById('view') as HTMLElement;
  mount(root, h('p', { class: 'busy' }, 'loading…'));
  try {
    await view(root, new URLSearchParams(query));
  } catch (error) {
    mount(root, h('p', { class: 'error' }, (error as Error).message));
  }
  document.body.dataset.ready = name;
}

window.addEventListener('hashchange', () => void route());
void pointers().catch(() => undefined);
void route();
