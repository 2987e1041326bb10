import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient, s3Client } from '../../lib/aws/clients.ts';
import { ModelRegistry } from '../../lib/aws/registry.ts';
import { getObjectBytes, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { createTableInput, startLocalEngines } from '../../lib/local/engines.ts';
import { BUCKETS, ENV, TABLES, type TableSpec } from '../../lib/wiring/resources.ts';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'shelves-engines-'));
});
afterAll(async () => rm(home, { recursive: true, force: true }));

describe('startLocalEngines', () => {
  it('serves DynamoDB and S3 on loopback and points the environment at them', async () => {
    const before = process.env[ENV.s3Endpoint];
    const engines = await startLocalEngines({ home });
    try {
      expect(engines.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(engines.dynamoEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(process.env[ENV.s3Endpoint]).toBe(engines.s3Endpoint);
      expect(process.env[ENV.dynamoEndpoint]).toBe(engines.dynamoEndpoint);
      expect(process.env.AWS_ACCESS_KEY_ID).toBe('S3RVER');
      for (const spec of [...TABLES, ...BUCKETS]) expect(engines.env[spec.env]).toBe(spec.localName);
    } finally {
      await engines.stop();
    }
    expect(process.env[ENV.s3Endpoint]).toBe(before);
  });

  it.each(TABLES.map((t) => [t.localName, t] as const))('creates table %s with the key schema of resources.ts', async (_name, table) => {
    const engines = await startLocalEngines({ home });
    try {
      const { Table } = await dynamoClient().send(new DescribeTableCommand({ TableName: table.localName }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.KeySchema).toEqual(createTableInput(table).KeySchema);
      expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema]) ?? []).toEqual(
        (createTableInput(table).GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, i.KeySchema]),
      );
    } finally {
      await engines.stop();
    }
  });

  // No table of resources.ts has a global index today; TableSpec still allows one, so the mapping is checked on its own.
  it("gives a spec's global index its key schema and defines the index's attributes once", () => {
    const spec: TableSpec = {
      id: 'IndexedTable',
      env: 'INDEXED_TABLE',
      localName: 'indexed',
      partitionKey: { name: 'itemId', type: 'S' },
      globalIndexes: [
        { indexName: 'byTypePublished', partitionKey: { name: 'type', type: 'S' }, sortKey: { name: 'publishedAt', type: 'S' } },
      ],
    };
    const input = createTableInput(spec);
    expect(input.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema])).toEqual([
      [
        'byTypePublished',
        [
          { AttributeName: 'type', KeyType: 'HASH' },
          { AttributeName: 'publishedAt', KeyType: 'RANGE' },
        ],
      ],
    ]);
    expect(input.AttributeDefinitions).toEqual([
      { AttributeName: 'itemId', AttributeType: 'S' },
      { AttributeName: 'type', AttributeType: 'S' },
      { AttributeName: 'publishedAt', AttributeType: 'S' },
    ]);
  });

  it('creates every bucket of resources.ts', async () => {
    const engines = await startLocalEngines({ home });
    try {
      for (const bucket of BUCKETS)
        await expect(s3Client().send(new HeadBucketCommand({ Bucket: bucket.localName }))).resolves.toBeDefined();
    } finally {
      await engines.stop();
    }
  });

  it('keeps items and objects across a restart', async () => {
    const first = await startLocalEngines({ home });
    await new ModelRegistry().beginRun('podcasts', 'persisted', { startedAt: '2025-03-01T00:00:00.000Z' });
    await putObjectBytes('s3://home-shelves-raw/persist/check.txt', 'still here');
    await first.stop();

    const second = await startLocalEngines({ home });
    try {
      expect((await new ModelRegistry().getRun('podcasts', 'persisted'))?.status).toBe('running');
      expect(new TextDecoder().decode(await getObjectBytes('s3://home-shelves-raw/persist/check.txt'))).toBe('still here');
    } finally {
      await second.stop();
    }
  });

  it("keeps dynalite's tables in memory when asked: nothing written under the home, nothing kept across a restart", async () => {
    const memoryHome = await mkdtemp(join(tmpdir(), 'shelves-engines-memory-'));
    try {
      const first = await startLocalEngines({ home: memoryHome, dynamoStore: 'memory' });
      await new ModelRegistry().beginRun('podcasts', 'in-memory', { startedAt: '2025-03-01T00:00:00.000Z' });
      expect((await new ModelRegistry().getRun('podcasts', 'in-memory'))?.status).toBe('running');
      await first.stop();
      expect(await readdir(join(memoryHome, 'dynamodb'))).toEqual([]);

      const second = await startLocalEngines({ home: memoryHome, dynamoStore: 'memory' });
      try {
        expect(await new ModelRegistry().getRun('podcasts', 'in-memory')).toBeNull();
      } finally {
        await second.stop();
      }
    } finally {
      await rm(memoryHome, { recursive: true, force: true });
    }
  });

  it('answers after the main thread was blocked longer than an idle connection would be kept by default', async () => {
    // The engines run on their own thread; the SDK's pooled keep-alive sockets live on this one. A step
    // that computes for seconds must not find its pooled sockets closed under it ("socket hang up").
    const engines = await startLocalEngines({ home });
    try {
      const bucket = (BUCKETS[0] as (typeof BUCKETS)[number]).localName;
      const table = (TABLES[0] as (typeof TABLES)[number]).localName;
      // No retries: a dead pooled socket must not be hidden by the SDK's retry of "socket hang up".
      const local = { region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, maxAttempts: 1 };
      const s3 = new S3Client({ ...local, endpoint: engines.s3Endpoint, forcePathStyle: true });
      const dynamo = new DynamoDBClient({ ...local, endpoint: engines.dynamoEndpoint });
      // Several sockets in each pool, as a step's parallel requests leave them.
      await Promise.all(Array.from({ length: 8 }, () => s3.send(new HeadBucketCommand({ Bucket: bucket }))));
      await Promise.all(Array.from({ length: 8 }, () => dynamo.send(new DescribeTableCommand({ TableName: table }))));
      const until = Date.now() + 6_500; // past Node's default 5 s keep-alive timeout
      while (Date.now() < until) {
        // a CPU-bound step: no event loop turn
      }
      await expect(Promise.all(Array.from({ length: 8 }, () => s3.send(new HeadBucketCommand({ Bucket: bucket }))))).resolves.toHaveLength(
        8,
      );
      await expect(
        Promise.all(Array.from({ length: 8 }, () => dynamo.send(new DescribeTableCommand({ TableName: table })))),
      ).resolves.toHaveLength(8);
    } finally {
      await engines.stop();
    }
  }, 30_000);

  it('stops twice without error', async () => {
    const engines = await startLocalEngines({ home });
    await engines.stop();
    await expect(engines.stop()).resolves.toBeUndefined();
  });
});
