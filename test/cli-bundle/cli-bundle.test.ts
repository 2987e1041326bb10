/**
 * The bundled bring-your-own-data commands (lib/cli-bundle/cli-bundle.mjs): built on first use, reused
 * while every input is unchanged, rebuilt when one changes (so a run never uses stale code), and the
 * same results as running from source. How builds are stored (the pointer swap, pruning superseded
 * builds, racing processes, inputs changed during a build) is lib/local/kept-build.mjs's, tested in
 * test/local/kept-build.test.ts.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundleSpec, bundledCli, freshBundle, readManifest } from '../../lib/cli-bundle/cli-bundle.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs a built module with plain node; its stdout. */
function run(url: string): string {
  const r = spawnSync(process.execPath, [fileURLToPath(url)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Writes a file dated `minutesAgo` (old enough that a build records its time, not "changed during the build"). */
function writeDated(path: string, text: string, minutesAgo: number): void {
  writeFileSync(path, text);
  const t = new Date(Date.now() - minutesAgo * 60_000);
  utimesSync(path, t, t);
}

describe('a bundle of a small project', () => {
  let root: string;
  let spec: BundleSpec;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'cli-bundle-'));
    spec = { root, outDir: join(root, '.cli-bundle'), entryPoints: { main: 'entry.ts' }, entry: 'main' };
    writeDated(join(root, 'entry.ts'), "import { word } from './word.ts';\nprocess.stdout.write(word);\n", 10);
    writeDated(join(root, 'word.ts'), "export const word: string = 'one';\n", 10);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is built on first use and reused while no input changes', () => {
    const first = freshBundle(spec);
    expect(first).toBeDefined();
    expect(run(first as string)).toBe('one');
    expect(Object.keys(readManifest(spec.outDir)?.inputs ?? {})).toEqual(expect.arrayContaining(['entry.ts', 'word.ts']));
    expect(freshBundle(spec)).toBe(first);
  });

  it('is rebuilt when an input changes, and runs the new code', () => {
    const before = freshBundle(spec) as string;
    writeDated(join(root, 'word.ts'), "export const word: string = 'two';\n", 9);
    const after = freshBundle(spec) as string;
    expect(after).not.toBe(before);
    expect(run(after)).toBe('two');
    expect(freshBundle(spec)).toBe(after);
  });

  it('is rebuilt when an input is only touched (same bytes, new time)', () => {
    const before = freshBundle(spec) as string;
    const t = new Date(Date.now() - 8 * 60_000);
    utimesSync(join(root, 'word.ts'), t, t);
    const after = freshBundle(spec) as string;
    expect(after).not.toBe(before);
    expect(run(after)).toBe('two');
  });

  it('follows a new import: the added file is an input of the next build', () => {
    writeDated(join(root, 'extra.ts'), "export const extra: string = '+three';\n", 7);
    writeDated(
      join(root, 'entry.ts'),
      "import { word } from './word.ts';\nimport { extra } from './extra.ts';\nprocess.stdout.write(word + extra);\n",
      7,
    );
    const url = freshBundle(spec) as string;
    expect(run(url)).toBe('two+three');
    expect(Object.keys(readManifest(spec.outDir)?.inputs ?? {})).toContain('extra.ts');
    rmSync(join(root, 'extra.ts'));
    // A deleted input makes the bundle stale; the source no longer compiles, so there is no bundle to run.
    expect(freshBundle(spec)).toBeUndefined();
    writeDated(join(root, 'entry.ts'), "import { word } from './word.ts';\nprocess.stdout.write(word);\n", 6);
    expect(run(freshBundle(spec) as string)).toBe('two');
  });
});

describe('bundledCli', () => {
  it('bundles train and recommend only, and not when SHELVES_CLI_BUNDLE=0', () => {
    expect(bundledCli('eval', undefined)).toBeUndefined();
    expect(bundledCli(undefined, undefined)).toBeUndefined();
    expect(bundledCli('train', '0')).toBeUndefined();
  });
});

describe('shelves train and recommend from the bundle', () => {
  let dir: string;
  let bundleDir: string;
  const shelves = (bundle: string, ...args: string[]) =>
    promisify(execFile)(process.execPath, ['bin/shelves.mjs', ...args], {
      cwd: ROOT,
      env: { ...process.env, SHELVES_CLI_BUNDLE: bundle },
      timeout: 120_000,
    }).catch((e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-bundle-cli-'));
    const lines = ['user_id,item_id,timestamp'];
    let s = 7;
    const next = (): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32;
    };
    for (let n = 0; n < 6000; n++) lines.push(`u${Math.floor(next() * 300)},i${Math.floor(next() ** 2 * 200)},${1_700_000_000 + n}`);
    writeFileSync(join(dir, 'interactions.csv'), `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'bad.csv'), 'user_id,item_id,timestamp\nu1,i1,soon\n');
    // Under the repository, as the bundle's package imports resolve from its node_modules.
    mkdirSync(join(ROOT, '.cli-bundle'), { recursive: true });
    bundleDir = mkdtempSync(join(ROOT, '.cli-bundle', 'test-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
  });

  it('gives the same model, seen items and recommendations as from source', async () => {
    const train = (bundle: string, out: string) =>
      shelves(
        bundle,
        'train',
        '--interactions',
        join(dir, 'interactions.csv'),
        '--algo',
        'hybrid-warp',
        '--out',
        join(dir, out),
        '--epochs',
        '3',
      );
    const [bundled, source] = await Promise.all([train(bundleDir, 'm-bundle'), train('0', 'm-source')]);
    expect(bundled.stderr).toContain('wrote hybrid-warp model');
    expect(source.stderr).toContain('wrote hybrid-warp model');
    // The bundle was built where SHELVES_CLI_BUNDLE says, from the command's sources.
    const inputs = Object.keys(readManifest(bundleDir)?.inputs ?? {});
    expect(inputs).toEqual(
      expect.arrayContaining([
        'lib/cli/train.ts',
        'lib/cli/recommend.ts',
        'lib/core/models/hybrid/fit.ts',
        'lib/train/hybrid-worker.ts',
        'lib/cli-bundle/cli-bundle.mjs',
      ]),
    );
    for (const file of ['model.bin', 'manifest.json', 'seen.json'])
      expect(readFileSync(join(dir, 'm-bundle', file)).equals(readFileSync(join(dir, 'm-source', file)))).toBe(true);
    const recommend = (bundle: string, out: string) =>
      shelves(bundle, 'recommend', '--model', join(dir, 'm-bundle'), '--k', '5', '--exclude-seen', '--out', join(dir, out));
    await Promise.all([recommend(bundleDir, 'r-bundle.jsonl'), recommend('0', 'r-source.jsonl')]);
    const recs = readFileSync(join(dir, 'r-bundle.jsonl'), 'utf8');
    expect(recs.split('\n').length).toBeGreaterThan(100);
    expect(recs).toBe(readFileSync(join(dir, 'r-source.jsonl'), 'utf8'));
  }, 240_000);

  it('starts the worker threads beside the bundled module (--threads 2)', async () => {
    const r = await shelves(
      bundleDir,
      'train',
      ...[
        '--interactions',
        join(dir, 'interactions.csv'),
        '--algo',
        'hybrid-bpr',
        '--out',
        join(dir, 'm-threads'),
        '--epochs',
        '2',
        '--threads',
        '2',
      ],
    );
    expect(r.stderr).toContain('wrote hybrid-bpr model');
    expect(statSync(join(dir, 'm-threads', 'model.bin')).size).toBeGreaterThan(0);
  }, 120_000);

  it('reports bad input and bad options as from source', async () => {
    for (const args of [
      ['train', '--interactions', join(dir, 'bad.csv'), '--algo', 'hybrid-warp', '--out', join(dir, 'm-bad')],
      ['train', '--interactions', join(dir, 'bad.csv'), '--algo', 'nope', '--out', join(dir, 'm-bad')],
    ]) {
      const [bundled, source] = await Promise.all([shelves(bundleDir, ...args), shelves('0', ...args)]);
      expect(bundled).toEqual({ code: 1, stdout: '', stderr: source.stderr });
      expect(source.stderr).toMatch(/^error: /);
    }
  }, 120_000);
});
