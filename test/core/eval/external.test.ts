import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lib/core/errors.ts';
import { evaluatePredictions } from '../../../lib/core/eval/evaluate.ts';
import { parseCatalog, parsePredictions, parseTruth, toEvalCliJson } from '../../../lib/core/eval/external.ts';

const F = 'test/fixtures/eval';
const text = (name: string) => readFileSync(`${F}/${name}`, 'utf8');

describe('parseTruth', () => {
  it('reads binary lists as grade 1 and graded relevance as given', () => {
    const truth = parseTruth(text('truth.jsonl'), 'truth.jsonl');
    expect(truth.get('u1')).toEqual(
      new Map([
        ['a', 1],
        ['b', 1],
      ]),
    );
    expect(truth.get('u2')).toEqual(
      new Map([
        ['c', 3],
        ['d', 1],
      ]),
    );
    expect(truth.get('u3')).toEqual(new Map());
  });
});

describe('parsePredictions', () => {
  it('keeps each list in its order', () => {
    expect(parsePredictions(text('model.jsonl'), 'model.jsonl').get('u1')).toEqual(['a', 'x', 'b']);
  });

  it.each([
    ['badjson.jsonl', /^badjson\.jsonl:2: not valid JSON: \{"userId":"u2","items":\["c"$/],
    ['twice.jsonl', /^twice\.jsonl:2, field "userId": user "u1" is listed twice \(first on line 1\)$/],
    ['dup.jsonl', /^dup\.jsonl:1, field "items": the list of user u1 names item "a" twice/],
    ['badfield.jsonl', /^badfield\.jsonl:1, field "items": .*expected array/],
    ['empty.jsonl', /^empty\.jsonl: no records$/],
  ])('rejects %s with an InputError naming the file and line', (file, message) => {
    expect(() => parsePredictions(text(file), file)).toThrow(InputError);
    expect(() => parsePredictions(text(file), file)).toThrow(message);
  });
});

describe('parseCatalog', () => {
  it('reads categories and publication times as epoch ms', () => {
    expect(parseCatalog(text('catalog.jsonl'), 'catalog.jsonl').get('b')).toEqual({
      categories: ['news', 'politics'],
      publishedAt: Date.UTC(2026, 5, 1),
    });
  });
  it('rejects a bad time, naming the field', () => {
    expect(() => parseCatalog('{"itemId":"a","publishedAt":"yesterday"}\n', 'c.jsonl')).toThrow(/^c\.jsonl:1, field "publishedAt": /);
  });
});

describe('toEvalCliJson', () => {
  it('has exactly k, runs (name, users, metrics, ci) and comparisons', () => {
    const truth = parseTruth(text('truth.jsonl'), 'truth.jsonl');
    const report = evaluatePredictions(
      truth,
      [
        { name: 'm', lists: parsePredictions(text('model.jsonl'), 'm') },
        { name: 'p', lists: parsePredictions(text('pop.jsonl'), 'p') },
      ],
      { k: 2, resamples: 50 },
    );
    const out = toEvalCliJson(report, false);
    expect(Object.keys(out)).toEqual(['k', 'runs', 'comparisons']);
    expect(Object.keys(out.runs[0]!)).toEqual(['name', 'users', 'metrics', 'ci']);
    expect(Object.keys(out.runs[0]!.metrics)).toEqual([
      'ndcg@2',
      'precision@2',
      'recall@2',
      'map@2',
      'mrr@2',
      'hitrate@2',
      'personalization',
    ]);
    expect(Object.keys(out.comparisons[0]!)).toEqual(['candidate', 'against', 'metric', 'difference', 'ci', 'relativeLift', 'liftCi']);
  });
});
