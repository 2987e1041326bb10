import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUCKETS, TABLES, type TableSpec } from '../../lib/wiring/resources.ts';
import { synthStack } from './stack-fixture.ts';

let stack: ReturnType<typeof synthStack>;
// Synthesis takes minutes when the machine is busy.
beforeAll(() => {
  // prod: the stage whose data outlives the stack (dev's removal policy is in stages.test.ts).
  stack = synthStack({ stage: 'prod', noncurrentVersionDays: 45 });
}, 600_000);

describe('buckets', () => {
  it.each(BUCKETS.map((b) => [b.id]))('%s is encrypted, versioned, private and access-logged', (id) => {
    const bucket = stack.json.Resources[id];
    expect(bucket?.Type).toBe('AWS::S3::Bucket');
    expect(bucket?.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: { Ref: expect.stringMatching(/^StorageAccessLogsBucket/) }, LogFilePrefix: `${id}/` },
    });
  });

  it.each(BUCKETS.map((b) => [b.id]))('%s expires noncurrent versions after the configured days', (id) => {
    const rules = (stack.json.Resources[id]?.Properties?.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toContainEqual(expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 45 }, Status: 'Enabled' }));
  });

  it.each(BUCKETS.map((b) => [b.id]))('%s denies requests without TLS', (id) => {
    stack.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('keeps data buckets and tables when the prod stack is deleted', () => {
    for (const { id } of [...BUCKETS, ...TABLES])
      expect(stack.template.toJSON().Resources[id]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('tables', () => {
  it.each(TABLES.map((t) => [t.id, t] as const))('%s has the key schema and indexes of resources.ts', (id, spec) => {
    const keySchema = [
      { AttributeName: spec.partitionKey.name, KeyType: 'HASH' },
      ...('sortKey' in spec ? [{ AttributeName: spec.sortKey.name, KeyType: 'RANGE' }] : []),
    ];
    // Widened to TableSpec: no table of TABLES has an index today, which would narrow `'globalIndexes' in spec` to unknown.
    const indexes = (spec as TableSpec).globalIndexes ?? [];
    const props = stack.json.Resources[id]?.Properties ?? {};
    expect(props.KeySchema).toEqual(keySchema);
    expect(
      (props.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown }[] | undefined)?.map((g) => [g.IndexName, g.KeySchema]) ??
        [],
    ).toEqual(
      indexes.map((g) => [
        g.indexName,
        [
          { AttributeName: g.partitionKey.name, KeyType: 'HASH' },
          ...(g.sortKey ? [{ AttributeName: g.sortKey.name, KeyType: 'RANGE' }] : []),
        ],
      ]),
    );
    const attributes = new Map(
      [
        spec.partitionKey,
        ...('sortKey' in spec ? [spec.sortKey] : []),
        ...indexes.flatMap((g) => [g.partitionKey, ...(g.sortKey ? [g.sortKey] : [])]),
      ].map((k) => [k.name, k.type]),
    );
    expect(
      new Map(
        (props.AttributeDefinitions as { AttributeName: string; AttributeType: string }[]).map((a) => [a.AttributeName, a.AttributeType]),
      ),
    ).toEqual(attributes);
  });

  it.each(TABLES.map((t) => [t.id]))('%s is on demand, with point-in-time recovery and encryption', (id) => {
    expect(stack.json.Resources[id]?.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });
});
