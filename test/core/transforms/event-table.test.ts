import { describe, expect, it } from 'vitest';
import type { ListeningEvent } from '../../../lib/core/contract.ts';
import { historyOf } from '../../../lib/core/transforms/entities.ts';
import { EventTableBuilder, eventTableOf } from '../../../lib/core/transforms/event-table.ts';
import { listenersAtScale } from './listeners-at-scale.ts';
import { loadWorldSmall } from './world-small.ts';

describe('EventTable', () => {
  it.each([
    ['the small world', loadWorldSmall().events],
    ['listeners with late-logged events', listenersAtScale(40).events],
  ])('gives each user the history historyOf gives (%s)', (_name, events) => {
    const table = eventTableOf(events);
    const expected = historyOf(events);
    expect(table.userIds.length).toBe(expected.size);
    table.userIds.forEach((userId, u) => {
      expect(table.history(u)).toEqual(expected.get(userId));
    });
  });

  it('keeps equal times in the order the events were added, across parts', () => {
    const [a, b] = listenersAtScale(2).events.filter((e) => e.userId === 'user-0000') as [ListeningEvent, ListeningEvent];
    const same: ListeningEvent = { ...b, itemId: 'first-added', timestamp: a.timestamp };
    const table = eventTableOf([same], [a]);
    expect(table.history(0).map((e) => e.itemId)).toEqual(['first-added', a.itemId]);
  });

  it('cuts a history at `end`, exclusive', () => {
    const events = listenersAtScale(3).events;
    const table = eventTableOf(events);
    const end = Date.parse('2026-10-20T00:00:00Z');
    table.userIds.forEach((userId, u) => {
      expect(table.history(u, end)).toEqual((historyOf(events).get(userId) ?? []).filter((e) => e.ts < end));
    });
  });

  it('stores each distinct id once and grows past its reserved capacity', () => {
    const events = listenersAtScale(30).events;
    const builder = new EventTableBuilder(1);
    for (const e of events) builder.add(e);
    const table = builder.build();
    expect(table.length).toBe(events.length);
    expect(new Set(table.userIds).size).toBe(table.userIds.length);
    expect(table.userIds.length).toBe(new Set(events.map((e) => e.userId)).size);
    expect(table.itemIds.length).toBe(new Set(events.map((e) => e.itemId)).size);
  });
});
