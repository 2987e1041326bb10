import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
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

describe('shelves train start-up', () => {
  it('never loads zod (its schemas check files training does not read; ~0.15 s of CPU to import)', async () => {
    const hooks = join(work, 'hooks.mjs');
    const log = join(work, 'modules.txt');
    writeFileSync(hooks, HOOKS);
    writeFileSync(
      join(work, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)}, { data: ${JSON.stringify(log)} });\n`,
    );
    writeFileSync(log, '');
    const fixtures = join(ROOT, 'test/fixtures/byod');
    const args = ['--interactions', join(fixtures, 'interactions.csv'), '--algo', 'hybrid-warp', '--out', join(work, 'model')];
    await promisify(execFile)(
      'node',
      ['--import', join(work, 'register.mjs'), 'bin/shelves.mjs', 'train', ...args, '--item-features', join(fixtures, 'item-features.csv')],
      { cwd: ROOT, timeout: 60_000 },
    );
    const modules = readFileSync(log, 'utf8').trim().split('\n');
    // The log saw the run: the command's module and its argument parser.
    expect(modules.some((url) => /train-command/.test(url))).toBe(true);
    expect(modules.some((url) => url.includes('/node_modules/commander/'))).toBe(true);
    expect(modules.filter((url) => url.includes('/node_modules/zod/'))).toEqual([]);
    expect(readFileSync(join(work, 'model', 'manifest.json'), 'utf8')).toContain('"kind": "hybrid-warp"');
  });
});
