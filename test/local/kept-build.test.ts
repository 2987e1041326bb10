/**
 * Kept builds (lib/local/kept-build.mjs), the storage of the training bundle, the CLI bundle, the
 * simulator's shard worker and the template: files written whole or not at all, builds swapped in by
 * a pointer once done, old entries pruned, and two processes racing both ending with a whole build.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  changedInput,
  keepBuild,
  keepFile,
  keptBuildDir,
  pruneKept,
  readPointer,
  stampInputs,
  writeFileAtomic,
} from '../../lib/local/kept-build.mjs';

const HELPER = new URL('../../lib/local/kept-build.mjs', import.meta.url).href;
const HOUR = 3_600_000;
const roots: string[] = [];
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kept-build-'));
  roots.push(dir);
});
afterAll(() => {
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

/** Dates `path` `ms` ago. */
function age(path: string, ms: number): void {
  const t = new Date(Date.now() - ms);
  utimesSync(path, t, t);
}

/** Runs `code` (an ES module importing the helper as `kb`) in a plain node process; resolves with its stdout, rejects on a non-zero exit. */
function child(code: string, onExit?: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', `import * as kb from '${HELPER}';\n${code}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('close', (status) => {
      onExit?.();
      if (status === 0) resolve(out);
      else reject(new Error(`child exited with ${status}, expected 0: ${err}`));
    });
  });
}

describe('writeFileAtomic', () => {
  it('never lets a reader see half a file while two processes rewrite it', async () => {
    const file = join(dir, 'artifact.bin');
    const stop = join(dir, 'stop');
    const size = 1 << 20;
    // Each writer rewrites the file with its own byte until the reader is done.
    const writer = (byte: string) =>
      child(`
        const { existsSync } = await import('node:fs');
        const data = Buffer.alloc(${size}, '${byte}');
        const deadline = Date.now() + 90000;
        while (!existsSync(${JSON.stringify(stop)}) && Date.now() < deadline) kb.writeFileAtomic(${JSON.stringify(file)}, data);`);
    const writers = Promise.all([writer('a'), writer('b')]);
    const whole = { a: Buffer.alloc(size, 'a'), b: Buffer.alloc(size, 'b') };
    const seen = new Set<string>();
    // 300 reads at least, and until both writers' files were seen (a writer process may start late on a busy machine).
    const deadline = Date.now() + 60_000;
    for (let reads = 0; (reads < 300 || seen.size < 2) && Date.now() < deadline; ) {
      if (existsSync(file)) {
        const bytes = readFileSync(file);
        // Whole: one writer's bytes, all of them.
        const by = bytes.equals(whole.a) ? 'a' : bytes.equals(whole.b) ? 'b' : `${bytes.length} mixed bytes`;
        expect(by).toMatch(/^[ab]$/);
        seen.add(by);
        reads++;
      }
      await yieldToLoop();
    }
    writeFileSync(stop, '');
    await writers;
    expect([...seen].sort()).toEqual(['a', 'b']);
    // No temporary file left behind.
    expect(readdirSync(dir).sort()).toEqual(['artifact.bin', 'stop']);
  }, 120_000);

  it('leaves the old content and no temporary file when the rename fails', () => {
    const target = join(dir, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'old');
    expect(() => writeFileAtomic(target, 'new')).toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readFileSync(join(target, 'inside'), 'utf8')).toBe('old');
  });
});

describe('pruneKept', () => {
  // Entries e0 (newest) .. e5 (oldest), 0, 10, 20, ... 50 minutes old, plus e6 two hours old; `keep` holds e6.
  it.each([
    { options: { keepNewest: 2 }, left: ['e0', 'e1', 'e6', 'other'] },
    { options: { minAgeMs: 25 * 60_000 }, left: ['e0', 'e1', 'e2', 'e6', 'other'] },
    { options: { keepNewest: 4, minAgeMs: 15 * 60_000 }, left: ['e0', 'e1', 'e2', 'e3', 'e6', 'other'] },
    { options: { keepNewest: 1, minAgeMs: 35 * 60_000 }, left: ['e0', 'e1', 'e2', 'e3', 'e6', 'other'] },
    { options: {}, left: ['e6', 'other'] },
  ])('with $options removes all but the kept entry, the newest few and the young ones', ({ options, left }) => {
    for (let i = 0; i < 6; i++) {
      mkdirSync(join(dir, `e${i}`));
      writeFileSync(join(dir, `e${i}`, 'f'), 'x');
      age(join(dir, `e${i}`), i * 10 * 60_000);
    }
    writeFileSync(join(dir, 'e6'), 'a file entry');
    age(join(dir, 'e6'), 2 * HOUR);
    writeFileSync(join(dir, 'other'), 'not an entry');
    age(join(dir, 'other'), 2 * HOUR);
    pruneKept(dir, ['e6'], { isEntry: (name) => name.startsWith('e'), ...options });
    expect(readdirSync(dir).sort()).toEqual(left);
  });
});

describe('keepFile', () => {
  it('writes the file and keeps the newest few others', async () => {
    const prune = { isEntry: (name: string) => name.endsWith('.json'), keepNewest: 2 };
    for (let i = 0; i < 5; i++) {
      expect(keepFile(join(dir, 'cache'), `k${i}.json`, `{"i":${i}}`, prune)).toBe(join(dir, 'cache', `k${i}.json`));
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(readdirSync(join(dir, 'cache')).sort()).toEqual(['k2.json', 'k3.json', 'k4.json']);
    expect(readFileSync(join(dir, 'cache', 'k4.json'), 'utf8')).toBe('{"i":4}');
  });
});

describe('keepBuild', () => {
  const options = { keepSupersededMs: HOUR };

  it('points current.json at a build once it is done, with its record', () => {
    expect(readPointer(dir)).toBeUndefined();
    const folder = keepBuild(
      dir,
      (f) => {
        writeFileSync(join(f, 'out.mjs'), 'one');
        // Not visible while the build runs.
        expect(readPointer(dir)).toBeUndefined();
        return { inputs: { a: [1, 2] } };
      },
      options,
    );
    expect(readFileSync(join(folder, 'out.mjs'), 'utf8')).toBe('one');
    expect(readPointer(dir)).toEqual({ inputs: { a: [1, 2] }, dir: folder.slice(dir.length + 1) });
  });

  it('awaits an asynchronous build', async () => {
    const folder = await keepBuild(
      dir,
      async (f) => {
        await new Promise((r) => setTimeout(r, 10));
        writeFileSync(join(f, 'out.mjs'), 'two');
        return { n: 2 };
      },
      options,
    );
    expect(readPointer(dir)).toMatchObject({ n: 2, dir: folder.slice(dir.length + 1) });
  });

  it.each([
    [
      'throws',
      (): never => {
        throw new Error('no compile');
      },
    ],
    [
      'rejects',
      async (): Promise<never> => {
        throw new Error('no compile');
      },
    ],
  ])('removes the folder of a build that %s and leaves the pointer as it was', async (_, failing) => {
    const kept = keepBuild(dir, () => ({ n: 1 }), options);
    await expect(async () => keepBuild(dir, failing, options)).rejects.toThrow('no compile');
    expect(readdirSync(dir).sort()).toEqual([kept.slice(dir.length + 1), 'current.json'].sort());
    expect(readPointer(dir)).toMatchObject({ n: 1 });
  });

  it('keeps a superseded build for the grace period from its replacement, then removes it', () => {
    const a = keepBuild(dir, () => ({ n: 1 }), options);
    // Built long ago, superseded now: kept.
    age(a, 2 * HOUR);
    const b = keepBuild(dir, () => ({ n: 2 }), options);
    expect(existsSync(a)).toBe(true);
    // Superseded two hours ago (b's commit dated it then): removed by the next build; b, superseded now, stays.
    age(a, 2 * HOUR);
    const c = keepBuild(dir, () => ({ n: 3 }), options);
    expect(existsSync(a)).toBe(false);
    expect(existsSync(b)).toBe(true);
    expect(readPointer(dir)).toMatchObject({ n: 3, dir: c.slice(dir.length + 1) });
  });

  it.each([
    ['not JSON', '{"dir":"build-'],
    ['a folder outside', '{"dir":"../elsewhere"}'],
    ['no folder', '{"n":1}'],
  ])('reads no build from a pointer with %s', (_, text) => {
    writeFileSync(join(dir, 'current.json'), text);
    expect(readPointer(dir)).toBeUndefined();
  });

  it('leaves two processes building at once each a whole build, and the pointer only ever naming a whole one', async () => {
    // Each build writes half its output, waits until the other process's build has started, then
    // writes the rest: the builds overlap in every run.
    const build = `
      const folder = await kb.keepBuild(${JSON.stringify(dir)}, async (f) => {
        const { writeFileSync, readdirSync } = await import('node:fs');
        writeFileSync(f + '/part-1', String(process.pid));
        const deadline = Date.now() + 20000;
        while (readdirSync(${JSON.stringify(dir)}).filter((n) => n.startsWith('build-')).length < 2 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 5));
        writeFileSync(f + '/part-2', String(process.pid));
        return { pid: process.pid };
      }, { keepSupersededMs: ${HOUR} });
      process.stdout.write(folder);`;
    let running = 2;
    const builds = Promise.all([child(build, () => running--), child(build, () => running--)]);
    while (running > 0) {
      const pointer = readPointer(dir);
      if (pointer !== undefined) {
        const pid = String(pointer.pid);
        expect(readFileSync(join(dir, pointer.dir, 'part-1'), 'utf8')).toBe(pid);
        expect(readFileSync(join(dir, pointer.dir, 'part-2'), 'utf8')).toBe(pid);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const folders = await builds;
    expect(new Set(folders).size).toBe(2);
    for (const folder of folders) expect(readdirSync(folder).sort()).toEqual(['part-1', 'part-2']);
    const last = readPointer(dir);
    expect(folders.map((f) => f.slice(dir.length + 1))).toContain(last?.dir);
    expect(readFileSync(join(dir, last?.dir as string, 'part-2'), 'utf8')).toBe(String(last?.pid));
  }, 60_000);
});

describe('input stamps', () => {
  it('tells an unchanged input from a changed, touched or missing one', () => {
    for (const name of ['a.ts', 'b.ts']) {
      writeFileSync(join(dir, name), `export const ${name[0]} = 1;\n`);
      age(join(dir, name), 10 * 60_000);
    }
    const stamps = stampInputs(dir, ['a.ts', 'b.ts'], Date.now());
    expect(changedInput(dir, stamps)).toBeUndefined();
    writeFileSync(join(dir, 'b.ts'), 'export const b = 22;\n');
    age(join(dir, 'b.ts'), 10 * 60_000);
    expect(changedInput(dir, stamps)).toBe('b.ts changed since the build');
    const restamped = stampInputs(dir, ['a.ts', 'b.ts'], Date.now());
    age(join(dir, 'a.ts'), 5 * 60_000);
    expect(changedInput(dir, restamped)).toBe('a.ts changed since the build');
    rmSync(join(dir, 'a.ts'));
    expect(changedInput(dir, restamped)).toBe('a.ts is missing');
  });

  it('records an input modified at the build start as changed, so the next run builds again', () => {
    writeFileSync(join(dir, 'a.ts'), 'export const a = 1;\n');
    const stamps = stampInputs(dir, ['a.ts'], Date.now());
    expect(stamps['a.ts']?.[0]).toBe(-1);
    expect(changedInput(dir, stamps)).toBe('a.ts changed since the build');
  });
});

describe('keptBuildDir', () => {
  it('is one folder per kind of build and checkout under node_modules/.cache/home-shelves', () => {
    expect(keptBuildDir('template')).toMatch(/node_modules[/\\]\.cache[/\\]home-shelves[/\\]template-[0-9a-f]{12}$/);
    expect(keptBuildDir('template')).not.toBe(keptBuildDir('training-bundle'));
  });
});
