import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataQualityError, InputError } from '../../lib/core/errors.ts';
import { loadDataset, openDataset } from '../../lib/io/dataset.ts';
import { encodeRecords } from '../../lib/io/records.ts';

const FIXTURE = resolve('test/fixtures/data/small');
const P1 = 'events/dt=2026-09-01/part-00000.jsonl';
const P2 = 'events/dt=2026-09-02/part-00000.jsonl';
/** The fixture's files hold bad rows on purpose (up to 67%); these reads look at them instead of failing. */
const LENIENT = { rejectLimit: 1 } as const;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'shelves-io-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('a dataset with a manifest', () => {
  it('lists the partitions the manifest names, in order', async () => {
    const dataset = await openDataset(FIXTURE);
    expect(dataset.manifest?.generator).toBe('hand-written fixture');
    expect(await dataset.partitions()).toEqual([
      { dt: '2026-09-01', uri: join(FIXTURE, P1) },
      { dt: '2026-09-02', uri: join(FIXTURE, P2) },
    ]);
  });

  it('reads catalog (JSON Lines) and users (CSV with |-separated lists), rejecting the invalid item', async () => {
    const dataset = await openDataset(FIXTURE, LENIENT);
    const catalog = await dataset.readCatalog();
    expect(catalog.rows.map((i) => i.itemId)).toEqual(['show-1', 'ep-1', 'pl-1']);
    expect(catalog.rejects.map((r) => [r.file, r.line, r.reason, r.field, r.message])).toEqual([
      ['catalog/catalog.jsonl', 4, 'invalid-value', 'showId', 'an episode needs showId'],
    ]);
    const users = await dataset.readUsers();
    expect(users.rows.map((u) => [u.userId, u.onboardingGenres])).toEqual([
      ['u1', ['jazz', 'news']],
      ['u2', []],
      ['u3', ['rock']],
    ]);
    expect(users.report).toEqual({ file: 'users/users.csv', read: 3, accepted: 3, rejected: 0, rejectedByReason: {} });
  });

  it('checks events against catalog, users and the manifest end, so every bad row is a reject with its reason', async () => {
    const loaded = await loadDataset(FIXTURE, LENIENT);
    expect(loaded.events.map((e) => `${e.userId}@${e.timestamp.slice(0, 13)}`)).toEqual([
      'u1@2026-09-01T07',
      'u1@2026-09-01T08',
      'u2@2026-09-01T10',
      'u3@2026-09-02T10',
    ]);
    expect(loaded.reports.map((r) => [r.file, r.read, r.accepted, r.rejectedByReason])).toEqual([
      ['catalog/catalog.jsonl', 4, 3, { 'invalid-value': 1 }],
      ['users/users.csv', 3, 3, {}],
      [P1, 4, 3, { 'unknown-user': 1 }],
      [P2, 3, 1, { 'future-timestamp': 1, 'invalid-value': 1 }],
    ]);
  });

  it('writes each file’s rejects as JSON Lines under the rejects root and names them in the report', async () => {
    const rejectsRoot = join(tmp, 'rejects');
    const dataset = await openDataset(FIXTURE, LENIENT);
    const events = await dataset.readAllEvents({ rejectsRoot, knownUsers: new Set(['u1', 'u2', 'u3']) });
    const written = join(rejectsRoot, 'events/dt=2026-09-02/part-00000.rejects.jsonl');
    expect(events.reports[1]?.rejectsUri).toBe(written);
    const lines = (await readFile(written, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; reason: string; field: string; file: string });
    expect(lines.map((r) => [r.file, r.line, r.reason, r.field])).toEqual([
      [P2, 2, 'future-timestamp', 'timestamp'],
      [P2, 3, 'invalid-value', 'eventType'],
    ]);
  });

  it('fails with DataQualityError naming the file, rate, limit, reason and an example line when over the limit', async () => {
    const dataset = await openDataset(FIXTURE);
    const read = dataset.readEventsPartition(join(FIXTURE, P1), { knownUsers: new Set(['u1', 'u2', 'u3']), rejectLimit: 0.1 });
    await expect(read).rejects.toThrow(DataQualityError);
    await expect(read).rejects.toThrow(
      /^events\/dt=2026-09-01\/part-00000\.jsonl: 25\.0% of 4 rows rejected, limit 10\.0%: unknown-user 1 \(line 3, field userId: user "ghost" is not in the users table\)$/,
    );
  });

  it('fails at the default limit of 1% unless the dataset is opened with another', async () => {
    await expect((await openDataset(FIXTURE)).readCatalog()).rejects.toThrow(
      /^catalog\/catalog\.jsonl: 25\.0% of 4 rows rejected, limit 1\.0%: invalid-value 1 \(line 4, field showId/,
    );
    await expect(loadDataset(FIXTURE)).rejects.toThrow(DataQualityError);
    const lenient = await openDataset(FIXTURE, { rejectLimit: 0.3 });
    expect((await lenient.readCatalog()).rows).toHaveLength(3);
    await expect(lenient.readEventsPartition(join(FIXTURE, P2))).rejects.toThrow(/66\.7% of 3 rows rejected, limit 30\.0%/);
  });

  it('streams every partition in order, the same events and reports as reading them all', async () => {
    const dataset = await openDataset(FIXTURE, { ...LENIENT, rejectsRoot: join(tmp, 'stream-rejects') });
    const knownUsers = new Set(['u1', 'u2', 'u3']);
    const stream = dataset.streamEvents({ knownUsers });
    const streamed = [];
    for await (const event of stream) streamed.push(event);
    const all = await dataset.readAllEvents({ knownUsers });
    expect(streamed).toEqual(all.rows);
    expect(stream.reports).toEqual(all.reports);
    expect(stream.reports.map((r) => [r.file, r.rejected, r.rejectsUri])).toEqual([
      [P1, 1, join(tmp, 'stream-rejects', 'events/dt=2026-09-01/part-00000.rejects.jsonl')],
      [P2, 2, join(tmp, 'stream-rejects', 'events/dt=2026-09-02/part-00000.rejects.jsonl')],
    ]);
  });

  it('streams one partition file, as a Map-state task does, with the dataset’s now as the future cut-off', async () => {
    const dataset = await openDataset(FIXTURE, LENIENT);
    const stream = dataset.streamEventsPartition(join(FIXTURE, P2));
    const users = [];
    for await (const event of stream) users.push(event.userId);
    expect(users).toEqual(['u3']);
    expect(stream.report()).toEqual({
      file: P2,
      read: 3,
      accepted: 1,
      rejected: 2,
      rejectedByReason: { 'future-timestamp': 1, 'invalid-value': 1 },
    });
  });

  it('accepts the same file when the limit is above the rate', async () => {
    const dataset = await openDataset(FIXTURE);
    const result = await dataset.readEventsPartition(join(FIXTURE, P1), { knownUsers: new Set(['u1', 'u2', 'u3']), rejectLimit: 0.25 });
    expect(result.rows).toHaveLength(3);
  });
});

describe('a dataset without a manifest', () => {
  it('discovers partitions by listing events/ and reads CSV, gzipped JSON Lines and Parquet files alike', async () => {
    const root = join(tmp, 'own');
    await cp(FIXTURE, root, { recursive: true });
    await rm(join(root, 'manifest.json'));
    const p1 = (await readFile(join(root, P1), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    await rm(join(root, P1));
    await writeFile(join(root, 'events/dt=2026-09-01/part-00000.csv'), encodeRecords('x.csv', p1.slice(0, 2)));
    await writeFile(join(root, 'events/dt=2026-09-01/part-00001.parquet'), encodeRecords('x.parquet', p1.slice(2)));
    await writeFile(join(root, 'events/dt=2026-09-02/part-00000.jsonl.gz'), gzipSync(await readFile(join(root, P2))));
    await rm(join(root, P2));

    const dataset = await openDataset(root);
    expect(dataset.manifest).toBeUndefined();
    expect((await dataset.partitions()).map((p) => [p.dt, p.uri.slice(root.length + 1)])).toEqual([
      ['2026-09-01', 'events/dt=2026-09-01/part-00000.csv'],
      ['2026-09-01', 'events/dt=2026-09-01/part-00001.parquet'],
      ['2026-09-02', 'events/dt=2026-09-02/part-00000.jsonl.gz'],
    ]);
    const loaded = await loadDataset(root, { ...LENIENT, now: Date.parse('2026-09-03T00:00:00Z') });
    const expected = await loadDataset(FIXTURE, LENIENT);
    expect(loaded.events).toEqual(expected.events);
    expect(loaded.reports.slice(2).map((r) => [r.file, r.rejected])).toEqual([
      ['events/dt=2026-09-01/part-00000.csv', 0],
      ['events/dt=2026-09-01/part-00001.parquet', 1],
      ['events/dt=2026-09-02/part-00000.jsonl.gz', 2],
    ]);
  });

  it('names the missing catalog file', async () => {
    const dataset = await openDataset(join(tmp, 'empty'));
    await expect(dataset.readCatalog()).rejects.toThrow(InputError);
    await expect(dataset.readCatalog()).rejects.toThrow(/no catalog file: expected .*catalog\/catalog\.jsonl/);
  });
});
