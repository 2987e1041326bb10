/**
 * The embedded local runtime's storage: dynalite (DynamoDB) and s3rver (S3) in a worker thread of this
 * process (lib/local/engine-host.ts: their own event loop, so a CPU-bound step does not stall them), on
 * loopback and free ports, persisting under `<home>/dynamodb` and `<home>/s3`. Starting them creates
 * the tables and buckets of lib/wiring/resources.ts when absent and points this process's AWS SDK
 * clients (lib/aws/clients.ts) at them through environment variables only, exactly as the Lambdas
 * read them in AWS.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
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

/** What the engine host (lib/local/engine-host.mjs) is started with. */
interface EngineHostInput {
  /** null: dynalite keeps its tables in memory (memory-level) instead of LevelDB on disk. */
  readonly dynamoDir: string | null;
  readonly s3Dir: string;
  readonly dynamoPort: number;
  readonly s3Port: number;
}

/** What the engine host posts once both engines listen. */
interface EngineHostReady {
  readonly dynamoPort: number;
  readonly s3Port: number;
}

/** s3rver accepts only this key pair; dynalite accepts any. */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

export interface LocalEnginesOptions {
  /** Root of local state; default `$SHELVES_HOME` or `.shelves`. */
  readonly home?: string;
  /** Ports to bind; default 0 (a free port chosen by the OS). */
  readonly ports?: { readonly s3?: number; readonly dynamo?: number };
  /**
   * Where dynalite keeps its tables: 'disk' (default; LevelDB under the home, kept across runs) or
   * 'memory' (gone when stopped; no LevelDB thread-pool hop per read: latency benches).
   */
  readonly dynamoStore?: 'disk' | 'memory';
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

  const { ports: bound, stop: stopHost } = await startEngineHost({
    dynamoDir: options.dynamoStore === 'memory' ? null : dynamoDir,
    s3Dir,
    dynamoPort: options.ports?.dynamo ?? 0,
    s3Port: options.ports?.s3 ?? 0,
  });
  const [s3Port, dynamoPort] = [bound.s3Port, bound.dynamoPort];

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
    await stopHost();
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

/** The engine host's module (plain JavaScript: a worker thread does not inherit a TypeScript loader). */
const HOST_MODULE = new URL('./engine-host.mjs', import.meta.url);

/** Starts the worker thread hosting dynalite and s3rver; resolves with their ports once both listen. */
function startEngineHost(input: EngineHostInput): Promise<{ ports: EngineHostReady; stop: () => Promise<void> }> {
  const worker = new Worker(HOST_MODULE, { workerData: input });
  const stop = (): Promise<void> =>
    new Promise((done, fail) => {
      worker.once('message', (message: unknown) => {
        if (message === 'stopped') worker.terminate().then(() => done(), fail);
        else fail(new Error(`local engines did not stop cleanly: ${JSON.stringify(message)}`));
      });
      worker.once('error', fail);
      worker.postMessage('stop');
    });
  return new Promise((done, fail) => {
    const onExit = (code: number) => fail(new Error(`the local engines' worker exited with code ${code} before listening`));
    worker.once('error', fail);
    worker.once('exit', onExit);
    worker.once('message', (message: EngineHostReady | { error: string }) => {
      worker.off('error', fail);
      worker.off('exit', onExit);
      if ('error' in message) {
        worker.terminate().finally(() => fail(new Error(`local engines failed to start: ${message.error}`)));
        return;
      }
      done({ ports: message, stop });
    });
  });
}
