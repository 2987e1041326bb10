/// <reference lib="dom" />
/** Pieces several views share: the shelf picker and a busy/error wrapper for a panel. */
import { h, mount, select } from '../dom.ts';

export const SHELVES = ['shortcuts', 'podcasts', 'playlists'] as const;

/** A select of the three shelves. */
export function shelfSelect(selected = 'podcasts'): HTMLSelectElement {
  return select(
    'shelf',
    SHELVES.map((s) => [s, s] as const),
    selected,
  );
}

/** Runs `load` into `panel`, showing progress and, on failure, the error message (as text). */
export async function into(panel: HTMLElement, load: () => Promise<Node | Node[]>): Promise<void> {
  mount(panel, h('p', { class: 'busy' }, 'loading…'));
  try {
    mount(panel, await load());
  } catch (error) {
    mount(panel, h('p', { class: 'error' }, (error as Error).message));
  }
}

/** The form's fields as a plain object of strings. */
export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new FormData(form)) if (typeof v === 'string') out[k] = v.trim();
  return out;
}
