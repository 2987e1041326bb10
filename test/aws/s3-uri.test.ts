import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadPrefix, formatS3Uri, joinS3Uri, listKeys, parseS3Uri, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { InputError } from '../../lib/core/errors.ts';
import { startTestEngines } from './local-engines.ts';

describe('S3 URIs', () => {
  it.each([
    ['s3://bucket/a/b.parquet', { bucket: 'bucket', key: 'a/b.parquet' }],
    ['s3://bucket/prefix/', { bucket: 'bucket', key: 'prefix/' }],
    ['s3://bucket', { bucket: 'bucket', key: '' }],
  ])('parses %s', (uri, expected) => {
    expect(parseS3Uri(uri)).toEqual(expected);
  });

  it.each(['bucket/key', 'https://bucket/key', 's3:///key'])('rejects %s with InputError', (uri) => {
    expect(() => parseS3Uri(uri)).toThrow(InputError);
  });

  it('formats and joins without doubled slashes', () => {
    expect(formatS3Uri('b', 'k/x')).toBe('s3://b/k/x');
    expect(joinS3Uri('s3://b/models/', '/run-1/', 'output')).toBe('s3://b/models/run-1/output');
  });
});

describe('prefix transfer on s3rver', () => {
  let engines: Awaited<ReturnType<typeof startTestEngines>>;
  let dir: string;
  beforeAll(async () => {
    engines = await startTestEngines();
    dir = await mkdtemp(join(tmpdir(), 'shelves-s3-'));
    await putObjectBytes('s3://home-shelves-features/run-1/train/part-0.json', '{"a":1}');
    await putObjectBytes('s3://home-shelves-features/run-1/train/nested/part-1.json', '{"a":2}');
    await putObjectBytes('s3://home-shelves-features/run-1/eval/part-0.json', '{"b":1}');
  });
  afterAll(async () => {
    await engines.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the keys under a prefix', async () => {
    expect(await listKeys('s3://home-shelves-features/run-1/train/')).toEqual([
      'run-1/train/nested/part-1.json',
      'run-1/train/part-0.json',
    ]);
  });

  it('downloads a prefix keeping the paths below it', async () => {
    const written = await downloadPrefix('s3://home-shelves-features/run-1/train', join(dir, 'train'));
    expect(written).toEqual([join(dir, 'train', 'nested', 'part-1.json'), join(dir, 'train', 'part-0.json')]);
    expect(await readFile(join(dir, 'train', 'nested', 'part-1.json'), 'utf8')).toBe('{"a":2}');
  });

  it('downloads a single object by its base name', async () => {
    expect(await downloadPrefix('s3://home-shelves-features/run-1/eval/part-0.json', join(dir, 'one'))).toEqual([
      join(dir, 'one', 'part-0.json'),
    ]);
  });
});
