import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../lib/core/errors.ts';
import { loadDataset, openDataset } from '../../lib/io/dataset.ts';
import { readLines } from '../../lib/io/lines.ts';
import { readBytes } from '../../lib/io/records.ts';
import { joinUri, openStore, splitUri, type Store } from '../../lib/io/store.ts';
import { startTestEngines } from '../aws/local-engines.ts';

const FIXTURE = resolve('test/fixtures/data/small');

async function exercise(store: Store): Promise<void> {
  await store.put('a/one.txt', 'one');
  await store.put('a/b/two.bin', new Uint8Array([1, 2, 3]));
  await store.put('c.txt', 'c');
  expect(await store.list()).toEqual(['a/b/two.bin', 'a/one.txt', 'c.txt']);
  expect(await store.list('a/')).toEqual(['a/b/two.bin', 'a/one.txt']);
  expect(Buffer.from(await store.get('a/one.txt')).toString()).toBe('one');
  expect([...(await store.get('a/b/two.bin'))]).toEqual([1, 2, 3]);
  expect(await store.exists('c.txt')).toBe(true);
  expect(await store.exists('c')).toBe(false);

  async function* lines(): AsyncGenerator<string> {
    for (let i = 0; i < 2000; i++) yield `line ${i}\n`;
  }
  await store.putStream('big/lines.txt', lines());
  const chunks: Buffer[] = [];
  for await (const chunk of await store.getStream('big/lines.txt')) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  expect(text.split('\n')).toHaveLength(2001);
  expect(text.endsWith('line 1999\n')).toBe(true);
  await expect(store.getStream('big/missing.txt')).rejects.toThrow();
}

describe('joinUri', () => {
  it.each([
    ['s3://b/root/', ['events', 'dt=1/'], 's3://b/root/events/dt=1'],
    ['/data/root', ['events', 'x.jsonl'], '/data/root/events/x.jsonl'],
  ])('joins %s with %j', (base, parts, expected) => {
    expect(joinUri(base, ...parts)).toBe(expected);
  });
});

describe('splitUri', () => {
  it.each([
    ['s3://b/root/events/x.jsonl', 's3://b/root/events', 'x.jsonl'],
    ['/data/root/x.csv', '/data/root', 'x.csv'],
    ['/x.csv', '/', 'x.csv'],
    ['x.csv', '.', 'x.csv'],
  ])('splits %s into its folder and name', (uri, parent, name) => {
    expect(splitUri(uri)).toEqual({ parent, name });
  });
});

describe('a local store', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shelves-store-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts, lists, gets and checks keys', async () => {
    await exercise(openStore(join(dir, 'store')));
  });

  it('lists nothing in a folder that does not exist', async () => {
    expect(await openStore(join(dir, 'missing')).list()).toEqual([]);
  });

  it('refuses a key that escapes the root', async () => {
    await expect(openStore(dir).get('../x')).rejects.toThrow(InputError);
  });

  it('streams the lines of a gzipped file', async () => {
    const store = openStore(dir);
    await store.put('big.jsonl.gz', gzipSync(`${Array.from({ length: 5000 }, (_, i) => `{"n":${i}}`).join('\n')}\n`));
    let count = 0;
    let last = '';
    for await (const line of readLines(store.uriOf('big.jsonl.gz'))) {
      count++;
      last = line;
    }
    expect([count, last]).toEqual([5000, '{"n":4999}']);
  });

  it('names a missing file', async () => {
    await expect(readBytes(join(dir, 'nope.jsonl'))).rejects.toThrow(/file not found: .*nope\.jsonl/);
    await expect(readLines(join(dir, 'nope.jsonl')).next()).rejects.toThrow(InputError);
  });
});

describe('an S3 store on s3rver', () => {
  let engines: Awaited<ReturnType<typeof startTestEngines>>;
  beforeAll(async () => {
    engines = await startTestEngines();
  });
  afterAll(async () => {
    await engines.cleanup();
  });

  it('puts, lists, gets and checks keys under a prefix', async () => {
    await exercise(openStore('s3://home-shelves-raw/store-test/'));
  });

  it('reads a dataset from S3 exactly as from a local folder, writing rejects to S3', async () => {
    const root = 's3://home-shelves-raw/datasets/small';
    const s3 = openStore(root);
    const local = openStore(FIXTURE);
    for (const key of await local.list()) await s3.put(key, await local.get(key));

    const fromS3 = await loadDataset(root, { rejectLimit: 1, rejectsRoot: 's3://home-shelves-raw/rejects/small' });
    const fromDisk = await loadDataset(FIXTURE, { rejectLimit: 1 });
    expect(fromS3.events).toEqual(fromDisk.events);
    expect(fromS3.catalog).toEqual(fromDisk.catalog);
    expect(fromS3.users).toEqual(fromDisk.users);
    expect((await openDataset(root)).manifest).toEqual(fromDisk.manifest);
    expect(fromS3.reports[3]?.rejectsUri).toBe('s3://home-shelves-raw/rejects/small/events/dt=2026-09-02/part-00000.rejects.jsonl');
    expect(await openStore('s3://home-shelves-raw/rejects/small').list()).toEqual([
      'catalog/catalog.rejects.jsonl',
      'events/dt=2026-09-01/part-00000.rejects.jsonl',
      'events/dt=2026-09-02/part-00000.rejects.jsonl',
    ]);
  });
});
