import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type Run, shelves } from './shelves-cli.ts';

const FIX = join(ROOT, 'test/fixtures/byod');
const work = mkdtempSync(join(tmpdir(), 'shelves-byod-'));
const model = join(work, 'model');

function jsonl(file: string): { userId: string; items: string[] }[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { userId: string; items: string[] });
}

const group = (id: string): string => (id.startsWith('r') ? 'rock' : 'jazz');
const userGroup = (id: string): string => (Number(id.slice(1)) % 2 === 1 ? 'rock' : 'jazz');

let trained: Run;
beforeAll(async () => {
  trained = await shelves(
    'train',
    '--interactions',
    join(FIX, 'interactions.csv'),
    '--algo',
    'hybrid-warp',
    '--out',
    model,
    '--item-features',
    join(FIX, 'item-features.csv'),
    '--user-features',
    join(FIX, 'user-features.csv'),
    '--seed',
    '5',
    '--epochs',
    '30',
    '--dim',
    '8',
  );
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('shelves train', () => {
  it('trains a hybrid model, reporting progress per epoch on stderr', () => {
    expect(trained.stderr).toMatch(/epoch 1\/30 loss \d/);
    // Named as the metric early stopping compares (HybridOptions.validationCutoff), as the manifest records it.
    const { validationMetric } = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')).extra.training;
    expect(validationMetric).toBe('ndcg@50');
    expect(trained.stderr).toMatch(new RegExp(`epoch 1/30 loss [\\d.]+ validation ${validationMetric} 0\\.\\d{4} \\(best epoch 1\\)`));
    expect(trained.stderr).toMatch(/items without interactions \(kept/);
    expect(trained.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')) as { kind: string; itemIndex: string[] };
    expect(manifest.kind).toBe('hybrid-warp');
    expect(manifest.itemIndex).toContain('r-new');
    // With --item-features, identity dropout defaults to 0.2 (items without interactions rank on scale).
    expect((manifest as unknown as { hyperparameters: Record<string, unknown> }).hyperparameters.identityDropout).toBe(0.2);
  });

  it('rejects an identity dropout outside 0..0.9 with a one-line message', async () => {
    const run = await shelves(
      'train',
      '--interactions',
      join(FIX, 'interactions.csv'),
      '--algo',
      'hybrid-warp',
      '--out',
      join(work, 'never'),
      '--identity-dropout',
      '2',
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--identity-dropout.*expected a number from 0 to 0.9, got "2"/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['empty.csv', /error: .*empty.csv: the file is empty/],
    ['no-header.csv', /error: .*no-header.csv:1, field "user_id": header is/],
    ['bad-weight.csv', /error: .*bad-weight.csv:3, field "weight": "heavy" is not a number/],
    ['missing.csv', /error: .*missing.csv: no such file/],
  ])('rejects the interactions file %s with a one-line message and no stack trace', async (file, message) => {
    const run = await shelves('train', '--interactions', join(FIX, file), '--algo', 'hybrid-bpr', '--out', join(work, 'never'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects a features file that names no id of the interactions', async () => {
    const run = await shelves(
      'train',
      '--interactions',
      join(FIX, 'interactions.csv'),
      '--algo',
      'hybrid-bpr',
      '--out',
      join(work, 'never'),
      '--item-features',
      join(FIX, 'item-features-unknown-ids.csv'),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/item-features-unknown-ids.csv, field "item_id": no item_id of this file appears in the interactions file/);
  });
});

describe('shelves recommend', () => {
  it('recommends every training user their group, without seen items, new candidates included', async () => {
    const out = join(work, 'all.jsonl');
    const run = await shelves(
      'recommend',
      '--model',
      model,
      '--k',
      '3',
      '--exclude-seen',
      '--candidates',
      join(FIX, 'candidates.txt'),
      '--out',
      out,
    );
    expect(run.stderr).toMatch(/wrote recommendations for 40 users/);
    const rows = jsonl(out);
    expect(rows).toHaveLength(40);
    const seenBy = new Map<string, Set<string>>();
    for (const line of readFileSync(join(FIX, 'interactions.csv'), 'utf8').trim().split('\n').slice(1)) {
      const [u, i] = line.split(',') as [string, string];
      if (!seenBy.has(u)) seenBy.set(u, new Set());
      seenBy.get(u)?.add(i);
    }
    let topInGroup = 0;
    for (const { userId, items } of rows) {
      for (const item of items) {
        expect(['r-new', 'j-new', 'r1', 'j1', 'r2', 'j2']).toContain(item);
        expect(seenBy.get(userId)?.has(item)).toBe(false);
      }
      if (group(items[0] ?? '') === userGroup(userId)) topInGroup++;
    }
    expect(topInGroup / rows.length).toBeGreaterThan(0.8);
  });

  it('recommends for listed users, including a user known only from the features file', async () => {
    const out = join(work, 'listed.jsonl');
    const run = await shelves('recommend', '--model', model, '--k', '2', '--users', join(FIX, 'users.txt'), '--out', out);
    expect(run.code).toBe(0);
    const rows = jsonl(out);
    expect(rows.map((r) => r.userId)).toEqual(['u01', 'u02', 'u99']);
    expect(rows.every((r) => r.items.length === 2)).toBe(true);
  });

  it('ranks items published after training from --item-features', async () => {
    const out = join(work, 'late.jsonl');
    const run = await shelves(
      'recommend',
      '--model',
      model,
      '--k',
      '20',
      '--users',
      join(FIX, 'users.txt'),
      '--item-features',
      join(FIX, 'new-items.csv'),
      '--out',
      out,
    );
    expect(run.stderr).toMatch(/indexed item features: 4 items scored from features/);
    const [rock, jazz] = jsonl(out);
    expect(rock?.items.indexOf('late-rock')).toBeLessThan(rock?.items.indexOf('late-jazz') ?? -1);
    expect(jazz?.items.indexOf('late-jazz')).toBeLessThan(jazz?.items.indexOf('late-rock') ?? -1);
    expect(rock?.items.indexOf('late-jazz')).toBeGreaterThanOrEqual(0);
  });

  it.each([
    ['users-unknown.txt', 1, /error: .*users-unknown.txt, field "user_id": none of the 2 users is known/],
    ['users-some-unknown.txt', 0, /warning: .*users-some-unknown.txt: 1 users unknown to the model skipped/],
  ])('handles unknown users in %s', async (file, code, message) => {
    const run = await shelves('recommend', '--model', model, '--k', '2', '--users', join(FIX, file), '--out', join(work, `${file}.jsonl`));
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
  });
});
