/** A task's AWS SDK errors name their HTTP status, request and attempts; names are kept for Retry and Catch. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { taskHandler } from '../../lib/middleware/task-handler.ts';
import { startTestEngines } from '../aws/local-engines.ts';

const context = { functionName: 'test', awsRequestId: 'r1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

function getItemTask(endpoint: string) {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 2 });
  return taskHandler('GetThing', z.object({ table: z.string() }), z.unknown(), async ({ table }) =>
    client.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'x' } } })),
  );
}

describe('taskHandler and service errors', () => {
  let engines: Awaited<ReturnType<typeof startTestEngines>>;
  let broken: Server;
  beforeAll(async () => {
    engines = await startTestEngines();
    // What a proxy or an overloaded engine answers: a status with a body that is not the service's JSON.
    broken = createServer((_req, res) => res.writeHead(503, { 'content-type': 'text/html' }).end('<html>overloaded</html>'));
    await new Promise<void>((done) => broken.listen(0, '127.0.0.1', done));
  });
  afterAll(async () => {
    await new Promise((done) => broken.close(done));
    await engines.cleanup();
  });

  it('adds the HTTP status and request to a named service error, keeping its name', async () => {
    const error = await getItemTask(engines.dynamoEndpoint)({ table: 'no-such-table' }, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('ResourceNotFoundException');
    expect((error as Error).message).toMatch(/\(HTTP 400, request [\w-]+, 1 attempt\)$/);
  });

  it('says which status an unreadable error body came with, where the SDK alone says "UnknownError"', async () => {
    const address = broken.address() as AddressInfo;
    const error = await getItemTask(`http://127.0.0.1:${address.port}`)({ table: 't' }, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/HTTP 503/);
    expect((error as Error).message).toMatch(/2 attempts/);
  });
});
