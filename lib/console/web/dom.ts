/// <reference lib="dom" />
/**
 * The one way the console puts data on the page: elements built with createElement, every value as a
 * text node or an attribute set with setAttribute (never innerHTML), so a catalog title such as
 * `<img src=x onerror=alert(1)>` shows as text. Links may only point inside the console.
 */

export type Child = Node | string | number | boolean | null | undefined | readonly Child[];

export interface Props {
  readonly class?: string;
  readonly id?: string;
  readonly title?: string;
  readonly href?: string;
  readonly target?: string;
  readonly type?: string;
  readonly name?: string;
  readonly value?: string;
  readonly placeholder?: string;
  readonly selected?: boolean;
  readonly open?: boolean;
  readonly colspan?: number;
  readonly data?: Readonly<Record<string, string>>;
  readonly onClick?: (event: MouseEvent) => void;
  readonly onSubmit?: (event: SubmitEvent) => void;
  readonly onChange?: (event: Event) => void;
}

/** Only the console's own paths and fragments: no javascript:, data: or other origins. */
function safeHref(href: string): string {
  return /^(#|api\/|\.\/|\/console\/)/.test(href) ? href : '#';
}

function append(parent: Node, child: Child): void {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) for (const c of child) append(parent, c);
  else if (child instanceof Node) parent.appendChild(child);
  else parent.appendChild(document.createTextNode(String(child)));
}

/** An element with props and children; strings and numbers become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.setAttribute('class', props.class);
  if (props.id) el.setAttribute('id', props.id);
  if (props.title !== undefined) el.setAttribute('title', props.title);
  if (props.href !== undefined) el.setAttribute('href', safeHref(props.href));
  if (props.target !== undefined) el.setAttribute('target', props.target);
  if (props.target === '_blank') el.setAttribute('rel', 'noopener noreferrer');
  if (props.type !== undefined) el.setAttribute('type', props.type);
  if (props.name !== undefined) el.setAttribute('name', props.name);
  if (props.placeholder !== undefined) el.setAttribute('placeholder', props.placeholder);
  if (props.colspan !== undefined) el.setAttribute('colspan', String(props.colspan));
  if (props.value !== undefined) (el as HTMLInputElement).value = props.value;
  if (props.selected) el.setAttribute('selected', '');
  if (props.open) el.setAttribute('open', '');
  for (const [k, v] of Object.entries(props.data ?? {})) el.dataset[k] = v;
  if (props.onClick) el.addEventListener('click', props.onClick as EventListener);
  if (props.onSubmit) el.addEventListener('submit', props.onSubmit as EventListener);
  if (props.onChange) el.addEventListener('change', props.onChange);
  append(el, children);
  return el;
}

/** Replaces an element's children. */
export function mount(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A select of options (value, label), with `selected` chosen. */
export function select(name: string, options: readonly (readonly [string, string])[], selected?: string): HTMLSelectElement {
  return h('select', { name }, ...options.map(([value, label]) => h('option', { value, selected: value === selected }, label)));
}

/** A labelled form field. */
export function field(label: string, control: HTMLElement): HTMLLabelElement {
  return h('label', {}, label, control);
}

/** A number with `digits` decimals; '–' for null or not finite. */
export function num(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** A duration in seconds (or minutes past 90 s); '–' when unknown. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  return ms >= 90_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`;
}

/** A table from a header row and body rows. */
export function table(
  head: readonly (string | readonly [string, 'num'])[],
  rows: readonly (readonly Child[])[],
  numeric: readonly number[] = [],
): HTMLTableElement {
  const isNum = (i: number) => numeric.includes(i);
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ...head.map((c, i) => h('th', isNum(i) ? { class: 'num' } : {}, typeof c === 'string' ? c : c[0])))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c, i) => h('td', isNum(i) ? { class: 'num' } : {}, c))))),
  );
}
