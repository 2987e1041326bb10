/**
 * The embedded local runtime's storage: dynalite (DynamoDB) and s3rver (S3) in this process, on
 * loopback and free ports, persisting under `<home>/dynamodb` and `<home>/s3`. Starting them creates
 * the tables and buckets of lib/wiring/resources.ts when absent and points this process's AWS SDK
 * clients (lib/aws/clients.ts) at them through environment variables only, exactly as the Lambdas
 * read them in AWS.
 */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { BUCKETS, ENV, TABLES, type TableSpec } from '../wiring/resources.ts';
import { dynamoClient, resetClients, s3Client } from '../aws/clients.ts';
import { readEnv } from '../wiring/env.ts';

/** s3rver accepts only this key pair; dynalite accepts any. */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

export interface LocalEnginesOptions {
  /** Root of local state; default `$SHELVES_HOME` or `.shelves`. */
  readonly home?: string;
  /** Ports to bind; default 0 (a free port chosen by the OS). */
  readonly ports?: { readonly s3?: number; readonly dynamo?: number };
}

export interface LocalEngines {
  readonly home: string;
  readonly s3Endpoint: string;
  readonly dynamoEndpoint: string;
  /** Every environment variable set for this process (also what a child process needs). */
  readonly env: Readonly<Record<string, string>>;
  /** Closes both servers (flushing dynalite's store) and restores the environment it changed. */
  stop(): Promise<void>;
}

/** Starts dynalite and s3rver, creates the resources and sets the environment; idempotent on existing data. */
export async function startLocalEngines(options: LocalEnginesOptions = {}): Promise<LocalEngines> {
  const home = resolve(options.home ?? readEnv('SHELVES_HOME'));
  const dynamoDir = join(home, 'dynamodb');
  const s3Dir = join(home, 's3');
  await mkdir(dynamoDir, { recursive: true });
  await mkdir(s3Dir, { recursive: true });

  const [{ default: dynalite }, { default: S3rver }] = await Promise.all([import('dynalite'), import('s3rver')]);
  const dynamoServer = dynalite({ path: dynamoDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynamoPort = await listen(dynamoServer, options.ports?.dynamo ?? 0);
  const s3rver = new S3rver({ port: options.ports?.s3 ?? 0, address: '127.0.0.1', directory: s3Dir, silent: true });
  let s3Port: number;
  try {
    s3Port = (await s3rver.run()).port;
  } catch (error) {
    await closeServer(dynamoServer);
    throw error;
  }

  const s3Endpoint = `http://127.0.0.1:${s3Port}`;
  const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
  const env: Record<string, string> = {
    SHELVES_HOME: home,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REGION: LOCAL_REGION,
    // s3rver predates the SDK's default CRC32 checksums and aws-chunked uploads; only send them when required.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    [ENV.s3Endpoint]: s3Endpoint,
    [ENV.dynamoEndpoint]: dynamoEndpoint,
  };
  for (const table of TABLES) env[table.env] = table.localName;
  for (const bucket of BUCKETS) env[bucket.env] = bucket.localName;

  const previous = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(env)) {
    previous.set(name, process.env[name]);
    process.env[name] = value;
  }
  // AWS_SESSION_TOKEN from a real profile would be signed into requests and confuse s3rver.
  previous.set('AWS_SESSION_TOKEN', process.env.AWS_SESSION_TOKEN);
  delete process.env.AWS_SESSION_TOKEN;
  resetClients();

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    resetClients();
    await Promise.all([closeServer(dynamoServer), s3rver.close()]);
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };

  try {
    for (const table of TABLES) await ensureTable(table);
    for (const bucket of BUCKETS) await ensureBucket(bucket.localName);
  } catch (error) {
    await stop();
    throw error;
  }
  return { home, s3Endpoint, dynamoEndpoint, env, stop };
}

/** CreateTable input for a table spec (on-demand billing, one projection-ALL GSI per index). */
export function createTableInput(table: TableSpec): CreateTableCommandInput {
  const attributes = new Map<string, 'S' | 'N'>();
  const keySchema = (pk: TableSpec['partitionKey'], sk?: TableSpec['sortKey']): KeySchemaElement[] => {
    attributes.set(pk.name, pk.type);
    const schema: KeySchemaElement[] = [{ AttributeName: pk.name, KeyType: 'HASH' }];
    if (sk !== undefined) {
      attributes.set(sk.name, sk.type);
      schema.push({ AttributeName: sk.name, KeyType: 'RANGE' });
    }
    return schema;
  };
  const KeySchema = keySchema(table.partitionKey, table.sortKey);
  const GlobalSecondaryIndexes = table.globalIndexes?.map((index) => ({
    IndexName: index.indexName,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: { ProjectionType: 'ALL' as const },
  }));
  const AttributeDefinitions: AttributeDefinition[] = [...attributes].map(([AttributeName, AttributeType]) => ({
    AttributeName,
    AttributeType,
  }));
  return {
    TableName: table.localName,
    KeySchema,
    AttributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
    ...(GlobalSecondaryIndexes !== undefined && GlobalSecondaryIndexes.length > 0 ? { GlobalSecondaryIndexes } : {}),
  };
}

async function ensureTable(table: TableSpec): Promise<void> {
  const client = dynamoClient();
  try {
    await client.send(new DescribeTableCommand({ TableName: table.localName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand(createTableInput(table)));
  // dynalite is started with createTableMs 0, but the status flips on the next tick: wait for ACTIVE.
  for (let attempt = 0; attempt < 100; attempt++) {
    const described = await client.send(new DescribeTableCommand({ TableName: table.localName }));
    if (described.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((done) => setTimeout(done, 20));
  }
  throw new Error(`table ${table.localName} did not become ACTIVE`);
}

async function ensureBucket(name: string): Promise<void> {
  const client = s3Client();
  try {
    await client.send(new HeadBucketCommand({ Bucket: name }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      done((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((done, fail) => server.close((error) => (error ? fail(error) : done())));
}
