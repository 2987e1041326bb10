/**
 * The catalog as serving reads it, in DynamoDB (CATALOG_TABLE): items by id, and new items of a type
 * by publish time through the byTypePublished index (what the dynamic item index is fed from).
 */
import { BatchGetCommand, BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CatalogItemSchema, type CatalogItem, type ItemType } from '../core/contract.ts';
import { TransientError } from '../core/errors.ts';
import { CATALOG_TABLE } from '../wiring/resources.ts';
import { documentClient, tableNameFromEnv } from './registry.ts';

const WRITE_BATCH = 25;
const GET_BATCH = 100;
const MAX_UNPROCESSED_ROUNDS = 8;
const BY_TYPE_PUBLISHED = CATALOG_TABLE.globalIndexes[0].indexName;

/** Reads and writes the catalog table; the table name defaults to $CATALOG_TABLE, read at construction. */
export class CatalogTable {
  readonly tableName: string;

  constructor(tableName: string = tableNameFromEnv(CATALOG_TABLE.env)) {
    this.tableName = tableName;
  }

  /** Puts items in batches of 25 (overwriting by itemId); retries unprocessed items, then raises TransientError. */
  async putItems(items: readonly CatalogItem[]): Promise<number> {
    for (let start = 0; start < items.length; start += WRITE_BATCH) {
      let requests: Record<string, unknown>[] = items
        .slice(start, start + WRITE_BATCH)
        .map((item) => ({ PutRequest: { Item: CatalogItemSchema.parse(item) } }));
      for (let round = 0; requests.length > 0; round++) {
        if (round === MAX_UNPROCESSED_ROUNDS)
          throw new TransientError(`catalog write left ${requests.length} items unprocessed after ${round} rounds`);
        if (round > 0) await sleep(25 * 2 ** round);
        const result = await documentClient().send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
        requests = (result.UnprocessedItems?.[this.tableName] ?? []) as Record<string, unknown>[];
      }
    }
    return items.length;
  }

  /** Items of `type` published strictly after `after` (ISO), oldest first; `limit` caps the count. */
  async queryPublishedAfter(type: ItemType, after: string, options: { limit?: number } = {}): Promise<CatalogItem[]> {
    const items: CatalogItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documentClient().send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: BY_TYPE_PUBLISHED,
          KeyConditionExpression: '#type = :type AND publishedAt > :after',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: { ':type': type, ':after': after },
          ExclusiveStartKey: startKey,
          ...(options.limit === undefined ? {} : { Limit: options.limit - items.length }),
        }),
      );
      for (const item of page.Items ?? []) items.push(CatalogItemSchema.parse(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && (options.limit === undefined || items.length < options.limit));
    return items;
  }

  /** The items with these ids, in the order asked; unknown ids are left out. */
  async getItems(itemIds: readonly string[]): Promise<CatalogItem[]> {
    const unique = [...new Set(itemIds)];
    const found = new Map<string, CatalogItem>();
    for (let start = 0; start < unique.length; start += GET_BATCH) {
      let keys: Record<string, unknown>[] = unique.slice(start, start + GET_BATCH).map((itemId) => ({ itemId }));
      for (let round = 0; keys.length > 0; round++) {
        if (round === MAX_UNPROCESSED_ROUNDS)
          throw new TransientError(`catalog read left ${keys.length} keys unprocessed after ${round} rounds`);
        if (round > 0) await sleep(25 * 2 ** round);
        const result = await documentClient().send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }));
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const parsed = CatalogItemSchema.parse(item);
          found.set(parsed.itemId, parsed);
        }
        keys = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return itemIds.flatMap((id) => {
      const item = found.get(id);
      return item === undefined ? [] : [item];
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
