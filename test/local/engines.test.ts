import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient, s3Client } from '../../lib/aws/clients.ts';
import { ModelRegistry } from '../../lib/aws/registry.ts';
import { getObjectBytes, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { createTableInput, startLocalEngines } from '../../lib/local/engines.ts';
import { BUCKETS, CATALOG_TABLE, ENV, TABLES } from '../../lib/wiring/resources.ts';

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

  it('gives the catalog table its byTypePublished index on type and publishedAt', () => {
    expect(createTableInput(CATALOG_TABLE).GlobalSecondaryIndexes?.[0]?.KeySchema).toEqual([
      { AttributeName: 'type', KeyType: 'HASH' },
      { AttributeName: 'publishedAt', KeyType: 'RANGE' },
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

  it('stops twice without error', async () => {
    const engines = await startLocalEngines({ home });
    await engines.stop();
    await expect(engines.stop()).resolves.toBeUndefined();
  });
});
