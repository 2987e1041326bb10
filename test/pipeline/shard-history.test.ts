/** PublishServingState's per-shard history: grouped by listener from columns, newest MAX_SERVING_HISTORY kept, oldest first. */
import { describe, expect, it } from 'vitest';
import type { User } from '../../lib/core/contract.ts';
import { MAX_SERVING_HISTORY } from '../../lib/core/transforms/online-history.ts';
import { EventColumnsBuilder } from '../../lib/io/event-columns.ts';
import { ShardHistory } from '../../lib/pipeline/serving-state.ts';

const T0 = Date.parse('2026-09-01T00:00:00Z');
function columns(rows: readonly (readonly [userId: string, itemId: string, ts: number])[]) {
  const b = new EventColumnsBuilder(4);
  for (const [userId, itemId, ts] of rows)
    b.add({ userId, itemId, eventType: 'play', device: 'mobile', country: 'SE', msPlayed: ts - T0, progress: 0.5, localHour: 7 }, ts);
  return b.finish();
}
const profile = (userId: string): User => ({
  userId,
  country: 'SE',
  signupAt: '2026-01-01T00:00:00Z',
  onboardingGenres: [],
  device: 'mobile',
  ageBand: '25-34',
});

describe('ShardHistory', () => {
  it('gives each listener their events by time across files, ties in read order, and profiles without events', () => {
    const h = new ShardHistory();
    h.add(
      columns([
        ['a', 'x', T0 + 30],
        ['b', 'y', T0 + 10],
        ['a', 'first-of-tie', T0 + 20],
      ]),
    );
    h.add(
      columns([
        ['a', 'second-of-tie', T0 + 20],
        ['a', 'z', T0 + 5],
        ['c', 'w', T0],
      ]),
    );
    const states = [
      ...h.states(
        new Map([
          ['b', profile('b')],
          ['quiet', profile('quiet')],
        ]),
      ),
    ];
    expect(states.map((s) => [s.userId, s.user?.userId, s.history.map((e) => e.itemId)])).toEqual([
      ['b', 'b', ['y']],
      ['quiet', 'quiet', []],
      ['a', undefined, ['z', 'first-of-tie', 'second-of-tie', 'x']],
      ['c', undefined, ['w']],
    ]);
    const [first] = states[2]?.history ?? [];
    expect(first).toEqual({ itemId: 'z', ts: T0 + 5, eventType: 'play', msPlayed: 5, progress: 0.5, localHour: 7 });
  });

  it(`keeps a listener's newest ${MAX_SERVING_HISTORY} events, and only the listeners a filter accepts`, () => {
    const h = new ShardHistory();
    const many = Array.from(
      { length: MAX_SERVING_HISTORY + 50 },
      (_, i) => ['busy', `i${i}`, T0 + (MAX_SERVING_HISTORY + 50 - i) * 1000] as const,
    );
    h.add(columns([...many, ['other', 'o', T0]]), (userId) => userId === 'busy');
    const states = [...h.states(new Map())];
    expect(states.map((s) => s.userId)).toEqual(['busy']);
    const items = states[0]?.history.map((e) => e.itemId) ?? [];
    // Written newest first, so the newest 200 are i0..i199, returned oldest first.
    expect(items).toHaveLength(MAX_SERVING_HISTORY);
    expect(items[0]).toBe(`i${MAX_SERVING_HISTORY - 1}`);
    expect(items.at(-1)).toBe('i0');
  });
});
