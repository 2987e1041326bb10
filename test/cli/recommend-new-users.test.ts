import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type Run, shelves } from './shelves-cli.ts';

const FIX = join(ROOT, 'test/fixtures/byod');
const work = mkdtempSync(join(tmpdir(), 'shelves-new-users-'));

function jsonl(file: string): Map<string, string[]> {
  const rows = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { userId: string; items: string[] });
  return new Map(rows.map((r) => [r.userId, r.items]));
}

// The fixture's items: r* rock, j* jazz; training users with odd numbers like rock, even jazz, and
// user-features.csv says so (taste:rock / taste:jazz). new-listeners.csv lists n1 (rock), n2 (jazz),
// n3 (a taste no training user has) and u02 (a training jazz listener, here claiming rock).
const NEW_LISTENERS = join(FIX, 'new-listeners.csv');
const genre = (item: string): string => (item.startsWith('r') ? 'rock' : 'jazz');
const modelDir = (algo: string): string => join(work, algo);

async function train(algo: string, ...extra: string[]): Promise<Run> {
  return shelves('train', '--interactions', join(FIX, 'interactions.csv'), '--algo', algo, '--out', modelDir(algo), ...extra);
}

beforeAll(async () => {
  const features = ['--user-features', join(FIX, 'user-features.csv')];
  const runs = await Promise.all([
    train('ease', ...features),
    train('hybrid-warp', ...features, '--seed', '5', '--epochs', '30', '--dim', '8'),
    train('popularity'),
  ]);
  for (const run of runs) expect(run.code, run.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('shelves train --algo ease --lambda', () => {
  const manifest = (dir: string): { hyperparameters: { lambda: number; lambdaSearch?: Record<string, number> } } =>
    JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

  it('chooses λ on a validation split by default and records the search; a number fixes it; anything else is refused', async () => {
    const chosen = manifest(modelDir('ease')).hyperparameters;
    expect(Object.keys(chosen.lambdaSearch ?? {}).map(Number)).toEqual([25, 100, 400, 1600]);
    expect(Object.keys(chosen.lambdaSearch ?? {})).toContain(String(chosen.lambda));
    const easeWith = (lambda: string): Promise<Run> =>
      shelves(
        'train',
        '--interactions',
        join(FIX, 'interactions.csv'),
        '--algo',
        'ease',
        '--lambda',
        lambda,
        '--out',
        join(work, `ease-${lambda}`),
      );
    const fixed = await easeWith('50');
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(manifest(join(work, 'ease-50')).hyperparameters).toMatchObject({ lambda: 50 });
    expect(manifest(join(work, 'ease-50')).hyperparameters.lambdaSearch).toBeUndefined();
    const bad = await easeWith('big');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--lambda.*expected a number > 0 or "auto", got "big"/s);
  });
});

describe('shelves recommend --user-features', () => {
  it.each(['ease', 'hybrid-warp'])('ranks listeners absent from training by their features (%s)', async (algo) => {
    const out = join(work, `${algo}-new.jsonl`);
    const run = await shelves('recommend', '--model', modelDir(algo), '--k', '3', '--user-features', NEW_LISTENERS, '--out', out);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/3 of 4 users are absent from training: ranked by their features/);
    const lists = jsonl(out);
    expect([...lists.keys()]).toEqual(['n1', 'n2', 'n3', 'u02']);
    // The features decide: the rock newcomer gets rock, the jazz newcomer jazz.
    expect(lists.get('n1')?.map(genre)).toEqual(['rock', 'rock', 'rock']);
    expect(lists.get('n2')?.map(genre)).toEqual(['jazz', 'jazz', 'jazz']);
    expect(lists.get('n3')).toHaveLength(3);
    // n3's only feature (taste:polka) is unknown to the model: it gets the general ranking, and is told so.
    expect(run.stderr).toMatch(/warning: 1 of 3 users absent from training have no feature the model knows \(it knows 2\)/);
  });

  it('keeps what ease learned of a training user whatever its features file says', async () => {
    const out = join(work, 'ease-known.jsonl');
    const run = await shelves('recommend', '--model', modelDir('ease'), '--k', '3', '--user-features', NEW_LISTENERS, '--out', out);
    expect(run.code, run.stderr).toBe(0);
    // u02 listens to jazz in training; the file's taste:rock does not override its history.
    expect(jsonl(out).get('u02')?.map(genre)).toEqual(['jazz', 'jazz', 'jazz']);
  });

  it('ranks only the listed users, new ones included, and skips users with neither history nor features', async () => {
    const out = join(work, 'listed.jsonl');
    const users = join(FIX, 'users.txt'); // u01, u02, u99
    const run = await shelves(
      'recommend',
      '--model',
      modelDir('ease'),
      '--k',
      '2',
      '--users',
      users,
      '--user-features',
      NEW_LISTENERS,
      '--out',
      out,
    );
    expect(run.code, run.stderr).toBe(0);
    // u99 is in the training features file only (no interactions): unknown to ease and absent here.
    expect(run.stderr).toMatch(/1 users unknown to the model and without features skipped/);
    expect([...jsonl(out).keys()]).toEqual(['u01', 'u02']);
  });

  it('refuses users absent from training when no features are given, naming the option', async () => {
    const run = await shelves(
      'recommend',
      '--model',
      modelDir('ease'),
      '--k',
      '2',
      '--users',
      join(FIX, 'users-unknown.txt'),
      '--out',
      join(work, 'x.jsonl'),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/none of the 2 users is known to the model .* or in --user-features/);
  });

  it('warns that a model without user features gives new listeners its general ranking', async () => {
    const out = join(work, 'pop-new.jsonl');
    const run = await shelves('recommend', '--model', modelDir('popularity'), '--k', '3', '--user-features', NEW_LISTENERS, '--out', out);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/warning: popularity cannot use user features/);
    const lists = jsonl(out);
    expect(lists.get('n1')).toEqual(lists.get('n2'));
  });
});
