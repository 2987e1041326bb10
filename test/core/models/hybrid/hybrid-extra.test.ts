import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseHybridExtra } from '../../../../lib/core/models/hybrid/hybrid-extra.ts';

// The zod schema loadHybrid used before the hand-written check: both must accept the same values and
// give the same message (zod's first issue) for the rest.
const ExtraSchema = z.looseObject({
  dim: z.number().int().positive(),
  userIds: z.array(z.string()),
  userFeatureNames: z.array(z.string()),
  itemFeatureNames: z.array(z.string()),
  training: z.record(z.string(), z.unknown()).optional(),
});

function viaZod(value: unknown): string {
  const parsed = ExtraSchema.safeParse(value);
  return parsed.success ? 'ok' : (parsed.error.issues[0]?.message ?? 'unknown');
}

function byHand(value: unknown): string {
  const parsed = parseHybridExtra(value);
  return parsed.success ? 'ok' : parsed.message;
}

const VALID = { dim: 8, userIds: ['u1', 'u2'], userFeatureNames: [], itemFeatureNames: ['genre=rock'], training: { epochs: 3 } };

class Custom {
  dim = 4;
}

/** Values a manifest's JSON can hold at each key, and some it cannot (objects made in memory). */
const ODD: unknown[] = [
  null,
  undefined,
  true,
  0,
  -0,
  -1,
  1.5,
  -1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  -(2 ** 60),
  2 ** 60,
  '8',
  '',
  [],
  ['a', 1],
  ['a', null],
  [null],
  {},
  { a: 1 },
  4n,
  Symbol('s'),
  () => 1,
  new Date(0),
  new Map(),
  new Set(['a']),
  Object.create(null),
  new Custom(),
  { [Symbol('k')]: 1 },
  // biome-ignore lint/suspicious/noExplicitAny: a constructor wrapper object on purpose (zod names its class)
  new (Number as any)(3),
  // biome-ignore lint/suspicious/noExplicitAny: as above
  [new (String as any)('a')],
];

describe('parseHybridExtra', () => {
  it('accepts a valid extra and keeps its values and further keys', () => {
    const extra = { ...VALID, ivfLists: 64 };
    const parsed = parseHybridExtra(extra);
    expect(parsed).toEqual({ success: true, data: extra });
    expect(viaZod(extra)).toBe('ok');
  });

  it("gives zod's first message for each odd value at each key, and at the top", () => {
    const cases: unknown[] = [...ODD];
    for (const key of ['dim', 'userIds', 'userFeatureNames', 'itemFeatureNames', 'training']) {
      for (const value of ODD) cases.push({ ...VALID, [key]: value });
      const without: Record<string, unknown> = { ...VALID };
      delete without[key];
      cases.push(without);
    }
    // Two bad keys: the first in the schema's order is reported.
    cases.push({ ...VALID, training: null, dim: 0 }, { ...VALID, itemFeatureNames: [1], userIds: 'x' });
    let rejected = 0;
    for (const value of cases) {
      const expected = viaZod(value);
      if (expected !== 'ok') rejected++;
      expect(byHand(value), String(expected)).toBe(expected);
    }
    // The cases reach every kind of message, not only acceptances.
    expect(rejected).toBeGreaterThan(150);
  });

  it('agrees with zod on generated JSON values', () => {
    const json = fc.jsonValue({ maxDepth: 2 });
    const extra = fc.record(
      {
        dim: fc.oneof(fc.integer({ min: -3, max: 300 }), fc.double(), json),
        userIds: fc.oneof(fc.array(fc.string(), { maxLength: 4 }), fc.array(json, { maxLength: 3 }), json),
        userFeatureNames: fc.oneof(fc.array(fc.string(), { maxLength: 4 }), json),
        itemFeatureNames: fc.oneof(fc.array(fc.string(), { maxLength: 4 }), json),
        training: fc.oneof(fc.dictionary(fc.string(), json, { maxKeys: 3 }), json),
        other: json,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof({ weight: 5, arbitrary: extra }, { weight: 1, arbitrary: json }), (value) => {
        expect(byHand(value)).toBe(viaZod(value));
      }),
      { numRuns: 3000 },
    );
  });
});
