/**
 * AWS SDK clients, configured once from the environment (through lib/wiring/env.ts). Locally the runtime sets
 * SHELVES_S3_ENDPOINT / SHELVES_DYNAMODB_ENDPOINT (and credentials) so the same code talks to s3rver
 * and dynalite on loopback; in AWS the variables are absent and the SDK's defaults apply.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { readEnv } from '../wiring/env.ts';

let s3: S3Client | undefined;
let dynamo: DynamoDBClient | undefined;

/** The process-wide S3 client (path-style addressing when an endpoint override is set). */
export function s3Client(): S3Client {
  if (s3 === undefined) {
    const endpoint = readEnv('SHELVES_S3_ENDPOINT');
    s3 = new S3Client(endpoint ? { endpoint, forcePathStyle: true, region: readEnv('AWS_REGION') } : {});
  }
  return s3;
}

/** The process-wide DynamoDB client. */
export function dynamoClient(): DynamoDBClient {
  if (dynamo === undefined) {
    const endpoint = readEnv('SHELVES_DYNAMODB_ENDPOINT');
    dynamo = new DynamoDBClient(endpoint ? { endpoint, region: readEnv('AWS_REGION') } : {});
  }
  return dynamo;
}

/** Drops cached clients (after the local runtime changes the endpoints, and in tests). */
export function resetClients(): void {
  s3?.destroy();
  dynamo?.destroy();
  s3 = undefined;
  dynamo = undefined;
}
