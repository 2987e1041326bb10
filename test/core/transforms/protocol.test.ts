import { describe, expect, it } from 'vitest';
import { buildShelfData } from '../../../lib/core/transforms/protocol.ts';
import { TRANSFORM_VERSION } from '../../../lib/core/transforms/version.ts';
import { loadWorldSmall, WORLD_CUTOFF, WORLD_TEST_DAYS } from './world-small.ts';

const world = loadWorldSmall();
const build = (shelf: 'podcasts' | 'playlists' | 'shortcuts') =>
  buildShelfData(shelf, { ...world, cutoff: WORLD_CUTOFF, testDays: WORLD_TEST_DAYS, snapshot: 'world-small' });
const relevantOf = (data: ReturnType<typeof build>) =>
  Object.fromEntries(data.eval.cases.map((c) => [c.context.userId, [...c.relevant.keys()].sort()]));

describe('buildShelfData', () => {
  it.each(['podcasts', 'playlists', 'shortcuts'] as const)(
    'keeps every %s training interaction and example before the cut-off',
    (shelf) => {
      const data = build(shelf);
      expect(data.train.interactions.length).toBeGreaterThan(0);
      for (const i of data.train.interactions) expect(i.ts).toBeLessThan(WORLD_CUTOFF);
      for (const c of data.eval.cases) for (const e of c.context.history ?? []) expect(e.ts).toBeLessThan(c.context.now);
      expect(data.train.cutoff).toBe(WORLD_CUTOFF);
      expect(data.train.transformVersion).toBe(TRANSFORM_VERSION);
    },
  );

  it('trains podcasts on shows, episodes mapped to their show, weight 1 + ln(listens)', () => {
    expect(build('podcasts').train.interactions).toEqual([
      { userId: 'u1', itemId: 'showA', ts: Date.parse('2026-10-05T08:00:00Z'), weight: 1 + Math.log(2) },
      { userId: 'u2', itemId: 'showB', ts: Date.parse('2026-10-01T12:00:00Z'), weight: 1 },
    ]);
  });

  it('makes podcasts relevant the shows started in the window and never played before, excluding shows played before', () => {
    const data = build('podcasts');
    expect(relevantOf(data)).toEqual({ u1: ['showB', 'showC'] });
    const u1 = data.eval.cases.find((c) => c.context.userId === 'u1');
    expect([...(u1?.exclude ?? [])]).toEqual(['showA']);
    expect(u1?.context.now).toBe(WORLD_CUTOFF);
  });

  it('offers as podcasts candidates every show published before the window ends, new shows included', () => {
    const data = build('podcasts');
    expect(data.eval.candidates).toEqual(['showA', 'showB', 'showC']);
    expect([...data.itemFeatures.keys()].sort()).toEqual(['showA', 'showB', 'showC', 'showD']);
    expect(data.eval.trainItemCounts.get('showC')).toBeUndefined();
  });

  it('trains on the catalog as it was at the cut-off: shows published later are left to indexItems', () => {
    const data = build('podcasts');
    const published = new Map(world.catalog.map((i) => [i.itemId, Date.parse(i.publishedAt)]));
    const trainItems = [...(data.train.itemFeatures?.keys() ?? [])].sort();
    expect(trainItems.length).toBeGreaterThan(0);
    for (const id of trainItems) expect(published.get(id)).toBeLessThan(WORLD_CUTOFF);
    const later = [...data.itemFeatures.keys()].filter((id) => (published.get(id) ?? 0) >= WORLD_CUTOFF);
    expect(later.length).toBeGreaterThan(0);
    for (const id of later) expect(data.train.itemFeatures?.has(id)).toBe(false);
  });

  it('labels slices by signup age, country, device and activity', () => {
    const slices = Object.fromEntries(build('podcasts').eval.cases.map((c) => [c.context.userId, c.slices]));
    expect(slices.u1).toEqual({ userType: 'established', country: 'SE', device: 'mobile', activity: 'high' });
    expect(build('playlists').eval.cases[0]?.slices).toEqual({ userType: 'new', country: 'SE', device: 'mobile', activity: 'low' });
    expect(build('shortcuts').eval.cases.find((c) => c.context.userId === 'u2')?.slices).toMatchObject({
      userType: 'new',
      country: 'US',
      activity: 'medium',
    });
  });

  it('evaluates playlists on users who sign up in the window, with the playlists of their first 3 days and no history', () => {
    const data = build('playlists');
    expect(relevantOf(data)).toEqual({ u3: ['pl1', 'pl3'] });
    const context = data.eval.cases[0]?.context;
    expect(context?.history).toBeUndefined();
    expect(context?.features).toEqual([
      ['country:SE', 1],
      ['device:mobile', 1],
      ['age:18-24', 1],
      ['genre:pop', 1],
    ]);
    expect(data.eval.candidates).toEqual(['pl1', 'pl2', 'pl3']);
    expect(data.train.interactions.map((i) => `${i.userId}:${i.itemId}`)).toEqual(['u1:pl1', 'u2:pl2']);
    expect(data.userFeatures.size).toBe(4);
  });

  it('makes shortcuts relevant the familiar items of the first session in the window, at that session time', () => {
    const data = build('shortcuts');
    expect(relevantOf(data)).toEqual({ u1: ['album1', 'showA'], u2: ['showB'] });
    const u1 = data.eval.cases.find((c) => c.context.userId === 'u1')?.context;
    expect(u1).toMatchObject({ now: Date.parse('2026-10-09T08:00:00Z'), localHour: 8, weekday: 5 });
    expect(u1?.history?.map((e) => e.itemId)).toEqual(['epA1', 'album1', 'pl1', 'epB1', 'epA1', 'album1']);
  });

  it('builds shortcuts ranking examples from training history only', () => {
    const examples = build('shortcuts').shortcutExamples;
    // u1's sessions before the cut-off that resume a familiar item: showA on 10-05 and album1 on 10-06;
    // candidates are most recent first.
    expect(examples?.groups.length).toBe(3);
    expect(examples?.itemIds).toEqual(['pl1', 'album1', 'showA', 'showA', 'pl1', 'album1']);
    expect(Array.from(examples?.labels ?? [])).toEqual([0, 0, 1, 0, 0, 1]);
  });

  it.each([
    ['podcasts', ['u1']],
    ['playlists', ['u3']],
    ['shortcuts', ['u1', 'u2']],
  ] as const)('puts users who sign up in the window only in the playlists evaluation (%s: %j)', (shelf, users) => {
    expect(build(shelf).eval.cases.map((c) => c.context.userId)).toEqual(users);
  });

  it('counts neither a short listen before the cut-off as a training positive nor one in the window as a start', () => {
    expect(build('playlists').train.interactions.some((i) => i.userId === 'u2' && i.itemId === 'pl1')).toBe(false);
    expect(build('podcasts').eval.cases.some((c) => c.relevant.has('showC') && c.context.userId === 'u2')).toBe(false);
    // The short listen still makes pl1 one of u2's own recent items.
    expect(
      build('shortcuts')
        .eval.cases.find((c) => c.context.userId === 'u2')
        ?.context.history?.map((e) => e.itemId),
    ).toContain('pl1');
  });

  it.each(['podcasts', 'playlists', 'shortcuts'] as const)('trains %s on the same data whatever happens in the test window', (shelf) => {
    const full = build(shelf);
    const pastOnly = buildShelfData(shelf, {
      ...world,
      events: world.events.filter((e) => Date.parse(e.timestamp) < WORLD_CUTOFF),
      cutoff: WORLD_CUTOFF,
      testDays: WORLD_TEST_DAYS,
      snapshot: 'world-small',
    });
    expect(full.train.interactions).toEqual(pastOnly.train.interactions);
    expect(full.eval.trainItemCounts).toEqual(pastOnly.eval.trainItemCounts);
    expect(full.shortcutExamples).toEqual(pastOnly.shortcutExamples);
  });

  it('describes every item of the shelf and every user, and carries the metadata of every candidate', () => {
    const data = build('playlists');
    expect([...data.itemFeatures.keys()].sort()).toEqual(['pl1', 'pl2', 'pl3']);
    expect([...data.userFeatures.keys()].sort()).toEqual(['u1', 'u2', 'u3', 'u4']);
    for (const id of data.eval.candidates ?? []) expect(data.eval.catalog.get(id)?.type).toBe('playlist');
    expect(data.eval.evaluatedAt).toBe(WORLD_CUTOFF);
  });

  it('gives the same bytes for the same input', () => {
    const a = build('shortcuts');
    const b = build('shortcuts');
    expect(Buffer.from(a.shortcutExamples?.features.buffer ?? new ArrayBuffer(0))).toEqual(
      Buffer.from(b.shortcutExamples?.features.buffer ?? new ArrayBuffer(0)),
    );
    expect(a.eval).toEqual(b.eval);
  });
});
