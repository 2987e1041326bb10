/**
 * The data stores: the three buckets of BUCKETS and the tables of TABLES (lib/wiring/resources.ts),
 * key schemas and indexes built from that module so the stack and the local runtime cannot drift.
 */
import { type CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BUCKETS, TABLES, type BucketSpec, type TableSpec } from '../wiring/resources.ts';
import { acknowledgeRule } from './nag.ts';

type BucketId = (typeof BUCKETS)[number]['id'];
type TableId = (typeof TABLES)[number]['id'];

export interface ShelvesStorageProps {
  /** Days a noncurrent object version is kept. */
  readonly noncurrentVersionDays: number;
  /**
   * What happens to buckets and tables on stack deletion; default RETAIN (data outlives the stack).
   * DESTROY also empties the buckets first (autoDeleteObjects), since CloudFormation cannot delete a
   * bucket that holds objects.
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Buckets (encrypted, versioned, private, TLS-only, access-logged) and tables (on demand, PITR, encrypted). */
export class ShelvesStorage extends Construct {
  /** Receives the server access logs of the data buckets. */
  readonly accessLogsBucket: s3.Bucket;
  readonly buckets: Readonly<Record<BucketId, s3.Bucket>>;
  readonly tables: Readonly<Record<TableId, dynamodb.Table>>;

  constructor(scope: Construct, id: string, props: ShelvesStorageProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(365) }],
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });
    acknowledgeRule(
      this.accessLogsBucket,
      'AwsSolutions-S1',
      'This bucket is the server access log destination of the data buckets; logging its own access into itself would create a feedback loop.',
    );

    const buckets = {} as Record<BucketId, s3.Bucket>;
    for (const spec of BUCKETS) buckets[spec.id] = this.dataBucket(spec, props.noncurrentVersionDays, removalPolicy);
    this.buckets = buckets;

    const tables = {} as Record<TableId, dynamodb.Table>;
    for (const spec of TABLES) tables[spec.id] = this.table(spec, removalPolicy);
    this.tables = tables;
  }

  private dataBucket(spec: BucketSpec, noncurrentVersionDays: number, removalPolicy: RemovalPolicy): s3.Bucket {
    const bucket = new s3.Bucket(this, spec.id, {
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: `${spec.id}/`,
      lifecycleRules: [
        { id: 'ExpireNoncurrentVersions', noncurrentVersionExpiration: Duration.days(noncurrentVersionDays) },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });
    (bucket.node.defaultChild as CfnResource).overrideLogicalId(spec.id);
    return bucket;
  }

  private table(spec: TableSpec, removalPolicy: RemovalPolicy): dynamodb.Table {
    const table = new dynamodb.Table(this, spec.id, {
      partitionKey: attribute(spec.partitionKey),
      ...(spec.sortKey !== undefined ? { sortKey: attribute(spec.sortKey) } : {}),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      ...(spec.timeToLiveAttribute !== undefined ? { timeToLiveAttribute: spec.timeToLiveAttribute } : {}),
      removalPolicy,
    });
    for (const index of spec.globalIndexes ?? []) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        ...(index.sortKey !== undefined ? { sortKey: attribute(index.sortKey) } : {}),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    (table.node.defaultChild as CfnResource).overrideLogicalId(spec.id);
    return table;
  }
}

function attribute(key: { readonly name: string; readonly type: 'S' | 'N' }): dynamodb.Attribute {
  return { name: key.name, type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER };
}
