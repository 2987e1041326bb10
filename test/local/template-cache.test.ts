/**
 * The local runtime's kept template: the key follows every input of synthesis, and the template kept
 * is the one a fresh synthesis gives.
 */
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeTemplates } from '../../lib/infra/synth.ts';
import { pipelineTemplate } from '../../lib/local/pipeline.ts';
import { STATE_MACHINE } from '../../lib/wiring/resources.ts';
import { readCachedTemplate, templateCacheKey, writeCachedTemplate } from '../../lib/local/template-cache.ts';

describe('template cache', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'shelves-template-key-'));
    await mkdir(join(root, 'lib', 'infra'), { recursive: true });
    await mkdir(join(root, 'lambdas'), { recursive: true });
    await writeFile(join(root, 'lib', 'infra', 'stack.ts'), 'export const a = 1;\n');
    await writeFile(join(root, 'lambdas', 'h.ts'), 'export const h = 1;\n');
    await writeFile(join(root, 'package-lock.json'), '{"lockfileVersion":3}\n');
    await writeFile(join(root, 'README.md'), 'not an input\n');
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('changes with any source under lib/ or lambdas/, a manifest or the CDK_* environment, and nothing else', async () => {
    const env = { PATH: '/bin' };
    const base = templateCacheKey(root, env);
    expect(templateCacheKey(root, env)).toBe(base);
    await writeFile(join(root, 'README.md'), 'still not an input\n');
    expect(templateCacheKey(root, { ...env, SHELVES_HOME: '/tmp/x' })).toBe(base);

    await writeFile(join(root, 'lib', 'infra', 'stack.ts'), 'export const a = 2;\n');
    const edited = templateCacheKey(root, env);
    expect(edited).not.toBe(base);
    await writeFile(join(root, 'lib', 'infra', 'new.ts'), '\n');
    const added = templateCacheKey(root, env);
    expect(added).not.toBe(edited);
    await writeFile(join(root, 'lambdas', 'h.ts'), 'export const h = 2;\n');
    const lambda = templateCacheKey(root, env);
    expect(lambda).not.toBe(added);
    await writeFile(join(root, 'package-lock.json'), '{"lockfileVersion":3,"x":1}\n');
    const lock = templateCacheKey(root, env);
    expect(lock).not.toBe(lambda);
    await writeFile(join(root, 'Dockerfile'), 'FROM node:22\n');
    const docker = templateCacheKey(root, env);
    expect(docker).not.toBe(lock);
    expect(templateCacheKey(root, { ...env, CDK_CONTEXT_JSON: '{"stage":"prod"}' })).not.toBe(docker);
  });

  it('keeps a template under its key, the newest few only', async () => {
    const dir = join(root, 'cache');
    expect(readCachedTemplate('k0', dir)).toBeUndefined();
    for (let i = 0; i < 6; i++) {
      writeCachedTemplate(`k${i}`, { Resources: { i } }, dir);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(readCachedTemplate('k5', dir)).toEqual({ Resources: { i: 5 } });
    expect((await readdir(dir)).sort()).toEqual(['k2.json', 'k3.json', 'k4.json', 'k5.json']);
  });

  it('gives the local runner the template a fresh synthesis gives (kept or not)', { timeout: 300_000 }, () => {
    const fresh = Object.values(synthesizeTemplates({ bundling: false, validation: false })).find(
      (t) => (t.Resources as Record<string, unknown>)[STATE_MACHINE.id] !== undefined,
    );
    expect(fresh).toBeDefined();
    expect(JSON.stringify(pipelineTemplate())).toBe(JSON.stringify(fresh));
    // Kept by the runner (this process's synthesis, or an earlier one's) under the checkout's key.
    expect(JSON.stringify(readCachedTemplate(templateCacheKey()))).toBe(JSON.stringify(fresh));
  });
});
