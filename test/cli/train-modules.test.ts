import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readInteractionsFile } from '../../lib/byod/interactions-csv.ts';
import { seenFileBytes } from '../../lib/byod/seen-file.ts';
import { Rng } from '../../lib/core/rng.ts';
import { ROOT } from './shelves-cli.ts';

const work = mkdtempSync(join(tmpdir(), 'shelves-modules-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * `node --import` this: every module the run resolves (ESM and CommonJS through import) is appended to
 * the file named by the register() data.
 */
const HOOKS = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(file) { log = file; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + '\\n');
  return result;
}
`;

/** Runs `shelves train` (bundled, as a user runs it) with `args`; the URLs of the modules it loaded. */
async function trainLogged(name: string, args: readonly string[]): Promise<string[]> {
  const hooks = join(work, 'hooks.mjs');
  const log = join(work, `${name}.modules.txt`);
  writeFileSync(hooks, HOOKS);
  const register = join(work, `${name}.register.mjs`);
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)}, { data: ${JSON.stringify(log)} });\n`,
  );
  writeFileSync(log, '');
  await promisify(execFile)('node', ['--import', register, 'bin/shelves.mjs', 'train', ...args], { cwd: ROOT, timeout: 60_000 });
  return readFileSync(log, 'utf8').trim().split('\n');
}

describe('shelves train start-up', () => {
  it('never loads zod (its schemas check files training does not read; ~0.15 s of CPU to import)', async () => {
    const fixtures = join(ROOT, 'test/fixtures/byod');
    const modules = await trainLogged('fixture', [
      '--interactions',
      join(fixtures, 'interactions.csv'),
      '--algo',
      'hybrid-warp',
      '--out',
      join(work, 'model'),
      '--item-features',
      join(fixtures, 'item-features.csv'),
    ]);
    // The log saw the run: the command's module and its argument parser.
    expect(modules.some((url) => /train-command/.test(url))).toBe(true);
    expect(modules.some((url) => url.includes('/node_modules/commander/'))).toBe(true);
    expect(modules.filter((url) => url.includes('/node_modules/zod/'))).toEqual([]);
    expect(readFileSync(join(work, 'model', 'manifest.json'), 'utf8')).toContain('"kind": "hybrid-warp"');
  });

  it('builds seen.json in a worker thread from 100,000 rows on (the bytes this thread would write)', async () => {
    const rng = new Rng(4);
    const lines = ['user_id,item_id,timestamp'];
    for (let r = 0; r < 100_000; r++) lines.push(`u${rng.int(5_000)},i${rng.int(800)},${1_700_000_000 + r}`);
    const file = join(work, 'rows.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const out = join(work, 'model-100k');
    const modules = await trainLogged('rows', [
      '--interactions',
      file,
      '--algo',
      'hybrid-warp',
      '--out',
      out,
      '--epochs',
      '1',
      '--dim',
      '8',
    ]);
    expect(modules.filter((url) => url.endsWith('/seen-worker.mjs'))).toHaveLength(1);
    const expected = seenFileBytes(readInteractionsFile(file).columns);
    expect(readFileSync(join(out, 'seen.json')).equals(expected)).toBe(true);
  }, 60_000);
});
