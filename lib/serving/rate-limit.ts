/**
 * Rate limits for POST /v1/events, per key (a user, a client): a token bucket in this process, and a
 * fixed-window counter in DynamoDB that every Lambda container shares.
 *
 * Why both: one process (the local API, one warm Lambda container) is limited exactly by the token
 * bucket at no I/O cost; behind API Gateway each container has its own memory, so N containers would
 * allow N times the rate, and API Gateway's HTTP API throttling is per route or stage, not per client
 * (usage plans and WAF rate rules need a REST API). The DynamoDB counter is one conditional UpdateItem
 * per key and request: exact across containers, at the price of a write per key.
 */
import { ConditionalCheckFailedException, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConfigError } from '../core/errors.ts';

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** When refused: seconds until the request would be allowed (at least 1); 0 when allowed. */
  readonly retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Takes `cost` units for `key`, or refuses without taking any. */
  take(key: string, cost: number): Promise<RateLimitDecision>;
}

export interface RateLimit {
  /** Units refilled per second. */
  readonly ratePerSecond: number;
  /** Units a quiet key may spend at once (the bucket's size); at least the largest single cost. */
  readonly burst: number;
}

function checkLimit(limit: RateLimit, what: string): void {
  if (!(limit.ratePerSecond > 0) || !(limit.burst >= 1) || !Number.isFinite(limit.ratePerSecond) || !Number.isFinite(limit.burst))
    throw new ConfigError(
      `${what}: ratePerSecond ${limit.ratePerSecond} and burst ${limit.burst}; expected finite numbers with ratePerSecond > 0 and burst >= 1`,
    );
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets in memory, one per key: `burst` tokens, refilled at `ratePerSecond`. Memory is bounded:
 * every `pruneEvery` takes, buckets that are full again (the same as no bucket) are dropped, and beyond
 * `maxKeys` the least recently used go first (such a key starts again with a full bucket).
 */
export class TokenBucketLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private takes = 0;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
    private readonly pruneEvery = 1000,
  ) {
    checkLimit(limit, 'token bucket');
  }

  /** Keys currently tracked (for tests and the soak's memory check). */
  get size(): number {
    return this.buckets.size;
  }

  private level(bucket: Bucket, t: number): number {
    return Math.min(this.limit.burst, bucket.tokens + (Math.max(0, t - bucket.at) / 1000) * this.limit.ratePerSecond);
  }

  async take(key: string, cost: number): Promise<RateLimitDecision> {
    const t = this.now();
    if (++this.takes % this.pruneEvery === 0) this.prune(t);
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, at: t };
    const tokens = this.level(bucket, t);
    this.buckets.delete(key); // re-inserted last: the Map's order is least recently used first
    if (tokens >= cost) {
      this.buckets.set(key, { tokens: tokens - cost, at: t });
      return { allowed: true, retryAfterSeconds: 0 };
    }
    this.buckets.set(key, { tokens, at: t });
    const missing = Math.min(cost, this.limit.burst) - tokens;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(missing / this.limit.ratePerSecond)) };
  }

  private prune(t: number): void {
    for (const [key, bucket] of this.buckets) if (this.level(bucket, t) >= this.limit.burst) this.buckets.delete(key);
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}

export interface DynamoWindowOptions {
  readonly tableName: string;
  readonly limit: RateLimit;
  /** Window length; default 60 s. A key may spend max(burst, rate x window) per window. */
  readonly windowSeconds?: number;
  /** Partition key attribute of the table; default `key`. Items expire through the `expiresAt` TTL attribute. */
  readonly keyAttribute?: string;
}

/**
 * A fixed-window counter per key in a DynamoDB table: one conditional UpdateItem adds the cost when the
 * window's count stays within the allowance, else the condition fails and nothing is added. Counters
 * carry an `expiresAt` (epoch seconds) for the table's TTL, so the table does not grow.
 */
export class DynamoWindowLimiter implements RateLimiter {
  private readonly windowMs: number;
  private readonly allowance: number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly options: DynamoWindowOptions,
    private readonly now: () => number = Date.now,
  ) {
    checkLimit(options.limit, `rate limit table ${options.tableName}`);
    this.windowMs = (options.windowSeconds ?? 60) * 1000;
    this.allowance = Math.max(options.limit.burst, Math.ceil((options.limit.ratePerSecond * this.windowMs) / 1000));
  }

  async take(key: string, cost: number): Promise<RateLimitDecision> {
    const t = this.now();
    const start = Math.floor(t / this.windowMs) * this.windowMs;
    const retryAfterSeconds = Math.max(1, Math.ceil((start + this.windowMs - t) / 1000));
    if (cost > this.allowance) return { allowed: false, retryAfterSeconds };
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { [this.options.keyAttribute ?? 'key']: { S: `${key}#${start}` } },
          UpdateExpression: 'ADD #n :cost SET expiresAt = :ttl',
          ConditionExpression: 'attribute_not_exists(#n) OR #n <= :room',
          ExpressionAttributeNames: { '#n': 'n' },
          ExpressionAttributeValues: {
            ':cost': { N: String(cost) },
            ':room': { N: String(this.allowance - cost) },
            ':ttl': { N: String(Math.ceil((start + 2 * this.windowMs) / 1000)) },
          },
        }),
      );
      return { allowed: true, retryAfterSeconds: 0 };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { allowed: false, retryAfterSeconds };
      throw error;
    }
  }
}
