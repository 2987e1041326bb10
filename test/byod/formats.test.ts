import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../lib/core/errors.ts';
import { parseFeaturesCsv, parseIdList, parseInteractionsCsv } from '../../lib/byod/formats.ts';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/byod/${name}`, import.meta.url), 'utf8');

describe('parseInteractionsCsv', () => {
  it('reads the fixture: ISO and epoch-second times, optional weights', () => {
    const { interactions } = parseInteractionsCsv(fixture('interactions.csv'), 'interactions.csv');
    expect(interactions).toHaveLength(240);
    expect(interactions[0]).toEqual({ userId: 'u01', itemId: 'r6', ts: 1714551400_000, weight: 1 });
    expect(interactions[1]).toMatchObject({ ts: Date.parse('2024-05-01T01:01:00Z'), weight: 0.5 });
  });

  it.each([
    ['1714550400', 1714550400_000],
    ['1714550400123', 1714550400123],
    ['2024-05-01T00:00:00Z', 1714521600_000],
    ['2024-05-01T02:00:00+02:00', 1714521600_000],
  ])('reads the timestamp %s as %i ms', (ts, ms) => {
    expect(parseInteractionsCsv(`user_id,item_id,timestamp\nu,i,${ts}\n`, 'f.csv').interactions[0]?.ts).toBe(ms);
  });

  it('skips weight-0 rows with a counted warning', () => {
    const { interactions, warnings } = parseInteractionsCsv('user_id,item_id,timestamp,weight\nu,i,1,0\nu,j,1,0\nu,k,1,2\n', 'f.csv');
    expect(interactions).toHaveLength(1);
    expect([...warnings]).toEqual([['rows with weight 0 skipped', 2]]);
  });

  it.each([
    ['empty.csv', /empty.csv: the file is empty/],
    ['no-header.csv', /no-header.csv:1, field "user_id": header is "u01,r1,1714550400"/],
    ['bad-weight.csv', /bad-weight.csv:3, field "weight": "heavy" is not a number/],
    ['bad-timestamp.csv', /bad-timestamp.csv:3, field "timestamp": "yesterday" is not a time/],
  ])('rejects %s with an InputError naming file, line and field', (name, message) => {
    expect(() => parseInteractionsCsv(fixture(name), name)).toThrow(InputError);
    expect(() => parseInteractionsCsv(fixture(name), name)).toThrow(message);
  });

  it.each([
    ['user_id,item_id,timestamp\n,i,1\n', /f.csv:2, field "user_id": is empty/],
    ['user_id,item_id,timestamp\nu,i,1,extra\n', /f.csv:2: malformed CSV/],
    ['user_id,item_id,timestamp,weight\nu,i,1,-3\n', /f.csv:2, field "weight": weight is -3/],
    ['user_id,item_id,timestamp\n', /no interaction rows/],
  ])('rejects bad rows: %j', (text, message) => {
    expect(() => parseInteractionsCsv(text, 'f.csv')).toThrow(message);
  });
});

describe('parseFeaturesCsv', () => {
  it('reads item features with the default value 1', () => {
    const { rows } = parseFeaturesCsv(fixture('item-features.csv'), 'item-features.csv', 'item');
    expect(rows.get('r-new')).toEqual([['genre:rock', 1]]);
    expect(rows.size).toBe(14);
  });

  it('reads an explicit value column and sums nothing', () => {
    const { rows } = parseFeaturesCsv('user_id,feature,value\nu,a,0.5\nu,b,2\n', 'f.csv', 'user');
    expect(rows.get('u')).toEqual([
      ['a', 0.5],
      ['b', 2],
    ]);
  });

  it.each([
    ['item_id,feature\n', 'user', /field "user_id": header is "item_id,feature"/],
    ['item_id,feature,value\ni,a,lots\n', 'item', /f.csv:2, field "value": "lots" is not a number/],
  ] as const)('rejects %j', (text, side, message) => {
    expect(() => parseFeaturesCsv(text, 'f.csv', side)).toThrow(message);
  });
});

describe('parseIdList', () => {
  it('reads ids one per line, skipping an optional header, blank lines and duplicates', () => {
    const { ids, warnings } = parseIdList('user_id\nu1\n\nu2\nu1\n', 'users.txt', 'user_id');
    expect(ids).toEqual(['u1', 'u2']);
    expect([...warnings]).toEqual([['duplicate ids skipped', 1]]);
  });

  it.each([
    ['', /users.txt: no ids/],
    ['u1,u2\n', /users.txt:1, field "user_id": "u1,u2" contains a comma/],
  ])('rejects %j', (text, message) => {
    expect(() => parseIdList(text, 'users.txt', 'user_id')).toThrow(message);
  });
});
