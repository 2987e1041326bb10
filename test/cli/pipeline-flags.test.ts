import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getObjectBytes } from '../../lib/aws/s3-uri.ts';
import { executionInputFlags } from '../../lib/cli/pipeline.ts';
import { InputError } from '../../lib/core/errors.ts';
import { startLocalEngines } from '../../lib/local/engines.ts';
import type { ShelfRunResult } from '../../lib/local/pipeline.ts';
import { ROOT } from './shelves-cli.ts';

/** `node bin/shelves.mjs ...args` with SHELVES_HOME set: exit code and output, never throwing. */
async function shelvesAt(home: string, timeout: number, ...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', ['bin/shelves.mjs', ...args], {
      cwd: ROOT,
      timeout,
      env: { ...process.env, SHELVES_HOME: home },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('executionInputFlags', () => {
  it('turns --window-days and --eval-sample-users into execution-input numbers, and nothing when absent', () => {
    expect(executionInputFlags({ windowDays: '14', evalSampleUsers: '20000' })).toEqual({ windowDays: 14, evalSampleUsers: 20000 });
    expect(executionInputFlags({ windowDays: '3660' })).toEqual({ windowDays: 3660 });
    expect(executionInputFlags({})).toEqual({});
  });

  it.each([
    [{ windowDays: '0' }, '--window-days must be a whole number of days from 1 to 3660, got "0"'],
    [{ windowDays: '3661' }, '--window-days must be a whole number of days from 1 to 3660, got "3661"'],
    [{ windowDays: '1.5' }, '--window-days must be a whole number of days from 1 to 3660, got "1.5"'],
    [{ evalSampleUsers: '0' }, '--eval-sample-users must be a whole number of users, at least 1, got "0"'],
    [{ evalSampleUsers: 'many' }, '--eval-sample-users must be a whole number of users, at least 1, got "many"'],
  ])('refuses %j with an InputError naming the flag, the value and the expectation', (flags, message) => {
    expect(() => executionInputFlags(flags)).toThrow(InputError);
    expect(() => executionInputFlags(flags)).toThrow(message);
  });
});

describe('shelves pipeline --window-days --eval-sample-users', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shelves-cli-flags-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a bad value before starting the local runtime', async () => {
    const home = join(dir, 'refused-home');
    const run = await shelvesAt(home, 60_000, 'pipeline', '--window-days', '0');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: --window-days must be a whole number of days from 1 to 3660, got "0"');
    expect(existsSync(home)).toBe(false);
  });

  it('passes both into the execution: PlanFeatures keeps that many days, Evaluate scores that many users', async () => {
    const world = join(dir, 'world');
    const home = join(dir, 'home');
    const report = join(dir, 'report.json');
    expect((await shelvesAt(home, 120_000, 'world', '--users', '300', '--days', '10', '--out', world)).code).toBe(0);
    const run = await shelvesAt(
      home,
      900_000,
      'pipeline',
      '--shelf',
      'podcasts',
      '--data',
      world,
      '--run-id',
      'flags-1',
      '--window-days',
      '9',
      '--eval-sample-users',
      '25',
      '--report',
      report,
      '--quiet',
    );
    const [result] = JSON.parse(await readFile(report, 'utf8')) as ShelfRunResult[];
    expect({ code: run.code, status: result?.status, error: result?.error }).toEqual({ code: 0, status: 'SUCCEEDED', error: undefined });
    // The outcome carries each step's time and memory.
    expect(result?.stepMemory.Evaluate?.processPeakBytes).toBeGreaterThan(0);
    expect(result?.stepMemory.Train?.jobPeakBytes).toBeGreaterThan(0);
    const engines = await startLocalEngines({ home });
    try {
      const read = async (uri: string) => JSON.parse(new TextDecoder().decode(await getObjectBytes(uri))) as unknown;
      // The world has 10 daily partitions; the window keeps the 9 ending where the test window ends.
      const plan = (await read('s3://home-shelves-artifacts/runs/podcasts/flags-1/plan/partitions.json')) as unknown[];
      expect(plan).toHaveLength(9);
      // report.json sits beside the HTML report the outcome points to.
      const reportJson = (result?.evaluation?.reportUri ?? '').replace(/report\.html$/, 'report.json');
      const evaluation = (await read(reportJson)) as { sample?: { users: number; population: number } };
      expect(evaluation.sample?.users).toBe(25);
      expect(evaluation.sample?.population).toBeGreaterThan(25);
    } finally {
      await engines.stop();
    }
  }, 1_200_000);
});
