import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { register } from '../../lib/cli/world.ts';
import { InputError } from '../../lib/core/errors.ts';
import { writeWorld } from '../../lib/sim/write-world.ts';

function program(): Command {
  const p = new Command().exitOverride();
  register(p);
  return p;
}

describe('shelves world', () => {
  it.each([
    [['--users', '0'], '--users must be a positive integer'],
    [['--days', 'x'], '--days must be a positive integer'],
    [['--seed', '1.5'], '--seed must be an integer'],
    [['--start', '2026-13-40'], '--start must be YYYY-MM-DD'],
    [['--workers', '-2'], '--workers must be a whole number >= 0'],
  ])('rejects %j with an InputError', async (args, message) => {
    const run = program().parseAsync(['node', 'shelves', 'world', '--out', '/nonexistent/never-written', ...args]);
    await expect(run).rejects.toBeInstanceOf(InputError);
    await expect(program().parseAsync(['node', 'shelves', 'world', '--out', '/nonexistent/never-written', ...args])).rejects.toThrow(
      message,
    );
  });

  it('writes a world to a folder and reports progress every few days', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'world-cli-'));
    try {
      const log: string[] = [];
      const manifest = await writeWorld(join(dir, 'w'), { users: 40, days: 6, seed: 3, start: '2027-01-30' }, (line) => log.push(line));
      expect(log.filter((l) => l.startsWith('world: day'))).toEqual([
        expect.stringMatching(/^world: day 5\/6, [\d,]+ events$/),
        expect.stringMatching(/^world: day 6\/6, [\d,]+ events$/),
      ]);
      expect(log.at(-1)).toMatch(/^world: 40 users, \d+ items, \d+ events in 6 partitions/);
      expect(manifest.partitions.map((p) => p.dt)).toEqual([
        '2027-01-30',
        '2027-01-31',
        '2027-02-01',
        '2027-02-02',
        '2027-02-03',
        '2027-02-04',
      ]);
      expect(JSON.parse(readFileSync(join(dir, 'w', 'manifest.json'), 'utf8'))).toEqual(manifest);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('shelves world --out s3://', () => {
  it('uploads every file of the world under the prefix', async () => {
    const { startTestEngines } = await import('../aws/local-engines.ts');
    const { RAW_BUCKET } = await import('../../lib/wiring/resources.ts');
    const { getObjectBytes, listKeys } = await import('../../lib/aws/s3-uri.ts');
    const { resetClients } = await import('../../lib/aws/clients.ts');
    const engines = await startTestEngines();
    try {
      resetClients();
      const manifest = await writeWorld(
        `s3://${RAW_BUCKET.localName}/worlds/tiny/`,
        { users: 20, days: 2, seed: 5, start: '2026-09-01' },
        () => {},
      );
      const keys = await listKeys(`s3://${RAW_BUCKET.localName}/worlds/tiny/`);
      expect(keys).toEqual(
        expect.arrayContaining([
          'worlds/tiny/manifest.json',
          'worlds/tiny/catalog/catalog.jsonl',
          'worlds/tiny/users/users.jsonl',
          'worlds/tiny/truth/users.jsonl',
          'worlds/tiny/events/dt=2026-09-02/part-00000.jsonl',
        ]),
      );
      const stored = JSON.parse(new TextDecoder().decode(await getObjectBytes(`s3://${RAW_BUCKET.localName}/worlds/tiny/manifest.json`)));
      expect(stored).toEqual(manifest);
    } finally {
      resetClients();
      await engines.cleanup();
    }
  });
});
