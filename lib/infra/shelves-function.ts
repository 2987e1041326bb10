/**
 * The one Lambda construct of the project: runtime, architecture, logging, tracing and bundling are
 * fixed here, and resources are bound with their environment variable and their grant in one call
 * so the two cannot drift apart.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, type CfnResource, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { BucketSpec, FunctionSpec, TableSpec } from '../wiring/resources.ts';
import { acknowledgeRule, acknowledgeWildcardResources } from './nag.ts';

/** Repository root: NodejsFunction entries in FUNCTIONS are relative to it. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How a function may use a table. */
export type TableAccess = 'read' | 'readWrite';
/** How a function may use a bucket (or one prefix of it). */
export type BucketAccess = 'read' | 'readWrite' | 'write';

const S3_READ_OBJECT = ['s3:GetObject'];
const S3_WRITE_OBJECT = ['s3:PutObject', 's3:AbortMultipartUpload'];

export interface ShelvesFunctionProps {
  /** Entry, memory and timeout; `spec.id` is also this construct's id and the function's logical id. */
  readonly spec: FunctionSpec;
  /** Retention of the function's log group. */
  readonly logRetention: RetentionDays;
  /** Extra environment variables; default none. */
  readonly environment?: Readonly<Record<string, string>>;
  /** Log group removal on stack deletion; default RETAIN (logs outlive the stack). */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** A project Lambda (NodejsFunction, nodejs22.x on arm64) with its own role and log group. */
export class ShelvesFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: LogGroup;
  readonly spec: FunctionSpec;

  constructor(scope: Construct, props: ShelvesFunctionProps) {
    super(scope, props.spec.id);
    this.spec = props.spec;
    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: it may write only to its own log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.spec.id}`,
    });
    const logStreams = `${this.logGroup.logGroupArn}:log-stream:*`;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn, logStreams],
      }),
    );
    acknowledgeWildcardResources(
      this.role,
      "The Lambda service names log streams per execution environment; the grant covers streams of this function's own log group only.",
      [logStreams],
    );
    acknowledgeWildcardResources(this.role, 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions.', ['*']);

    this.function = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, props.spec.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.spec.memoryMb,
      timeout: Duration.seconds(props.spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      tracing: Tracing.ACTIVE,
      environment: { ...props.environment },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The nodejs22.x runtime ships AWS SDK v3.
        externalModules: ['@aws-sdk/*'],
        mainFields: ['module', 'main'],
        // Some dependencies are CommonJS and call require(); ESM output needs one.
        banner:
          "import { createRequire as __shelvesCreateRequire } from 'node:module'; const require = __shelvesCreateRequire(import.meta.url);",
      },
    });
    // Predictable logical id: the local runtime maps the ARN token back to the FUNCTIONS entry by it.
    (this.function.node.defaultChild as CfnResource).overrideLogicalId(props.spec.id);
    acknowledgeRule(
      this.function,
      'AwsSolutions-L1',
      'nodejs22.x is the runtime the handlers are built (esbuild target node22) and tested for; moving to a newer runtime is its own tested change.',
    );
  }

  /** Sets the table's environment variable and grants exactly `access` to the table (and its indexes). */
  bindTable(spec: TableSpec, table: ITable, access: TableAccess): this {
    this.function.addEnvironment(spec.env, table.tableName);
    if (access === 'read') table.grantReadData(this.role);
    else table.grantReadWriteData(this.role);
    if (spec.globalIndexes !== undefined && spec.globalIndexes.length > 0) {
      acknowledgeWildcardResources(
        this.role,
        `Queries on the global secondary indexes of ${spec.id} need its index/* ARN; access stays within that one table.`,
        [`${table.tableArn}/index/*`],
      );
    }
    return this;
  }

  /**
   * Sets the bucket's environment variable and grants `access` to the objects under `paths`: each
   * entry ending in `/` is a key prefix (`events/` grants `events/*`), any other entry one exact key
   * (`manifest.json`). Reading includes listing, limited by condition to the same paths. There is
   * no whole-bucket grant: a function names what it uses, so `requests/` stays unreadable to the
   * functions that do not need it.
   */
  bindBucket(spec: BucketSpec, bucket: IBucket, access: BucketAccess, paths: readonly [string, ...string[]]): this {
    this.function.addEnvironment(spec.env, bucket.bucketName);
    const objects = paths.map((path) => bucket.arnForObjects(path.endsWith('/') ? `${path}*` : path));
    const actions = [...(access === 'write' ? [] : S3_READ_OBJECT), ...(access === 'read' ? [] : S3_WRITE_OBJECT)];
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: objects }));
    if (access !== 'write') {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': paths.map((path) => (path.endsWith('/') ? `${path}*` : path)) } },
        }),
      );
    }
    const prefixed = paths.filter((path) => path.endsWith('/'));
    if (prefixed.length > 0) {
      acknowledgeWildcardResources(
        this.role,
        `${this.spec.id} ${access === 'read' ? 'reads' : access === 'write' ? 'writes' : 'reads and writes'} objects with per-run or per-day keys under ${prefixed.join(', ')} of ${spec.id} only; the S3 actions are listed explicitly.`,
        prefixed.map((path) => bucket.arnForObjects(`${path}*`)),
      );
    }
    return this;
  }

  /**
   * Sets `env` to the topic's ARN and grants publishing to it, and using its KMS key when it has one,
   * so the two cannot drift. Explicit statements: `grantPublish` would add `kms:GenerateDataKey*`.
   */
  bindTopic(env: string, topic: ITopic): this {
    this.function.addEnvironment(env, topic.topicArn);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }));
    if (topic.masterKey !== undefined) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [topic.masterKey.keyArn] }),
      );
    }
    return this;
  }

  /** Sets the bucket's environment variable only: the function composes URIs but never touches objects. */
  bindBucketName(spec: BucketSpec, bucket: IBucket): this {
    this.function.addEnvironment(spec.env, bucket.bucketName);
    return this;
  }

  /** Sets `env` to a Firehose delivery stream's name and grants putting records into it. */
  bindDeliveryStream(env: string, stream: { readonly deliveryStreamName: string; readonly deliveryStreamArn: string }): this {
    this.function.addEnvironment(env, stream.deliveryStreamName);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'], resources: [stream.deliveryStreamArn] }),
    );
    return this;
  }

  /** Sets a plain configuration variable. */
  setEnvironment(name: string, value: string): this {
    this.function.addEnvironment(name, value);
    return this;
  }
}
