/**
 * Rate limits of POST /v1/events: the in-process token bucket (injected clock), the DynamoDB
 * fixed-window counter on dynalite (shared by two limiter instances, as by two Lambda containers),
 * and the feedback port that stores a batch only within both limits.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedbackEvent } from '../../lib/api/schemas.ts';
import { dynamoClient } from '../../lib/aws/clients.ts';
import { ConfigError } from '../../lib/core/errors.ts';
import {
  DEFAULT_FEEDBACK_LIMITS,
  FeedbackRateLimitedError,
  feedbackLimitsFromEnv,
  feedbackSource,
  inProcessLimiters,
  rateLimitedFeedback,
} from '../../lib/serving/feedback-intake.ts';
import type { FeedbackSink } from '../../lib/serving/ports.ts';
import { DynamoWindowLimiter, TokenBucketLimiter } from '../../lib/serving/rate-limit.ts';
import { startTestEngines } from '../aws/local-engines.ts';

describe('TokenBucketLimiter', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('allows the burst at once, then refuses with the seconds until enough tokens are back', async () => {
    const c = clock();
    const limiter = new TokenBucketLimiter({ ratePerSecond: 2, burst: 10 }, c.now);
    expect(await limiter.take('k', 10)).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(await limiter.take('k', 3)).toEqual({ allowed: false, retryAfterSeconds: 2 });
    c.advance(1500);
    expect((await limiter.take('k', 3)).allowed).toBe(true);
    expect((await limiter.take('k', 1)).allowed).toBe(false);
  });

  it('refills no further than the burst', async () => {
    const c = clock();
    const limiter = new TokenBucketLimiter({ ratePerSecond: 100, burst: 5 }, c.now);
    c.advance(3_600_000);
    expect((await limiter.take('k', 5)).allowed).toBe(true);
    expect((await limiter.take('k', 1)).allowed).toBe(false);
  });

  it('keeps keys apart', async () => {
    const limiter = new TokenBucketLimiter({ ratePerSecond: 1, burst: 1 }, () => 0);
    expect((await limiter.take('a', 1)).allowed).toBe(true);
    expect((await limiter.take('b', 1)).allowed).toBe(true);
    expect((await limiter.take('a', 1)).allowed).toBe(false);
  });

  it('never allows a cost above the burst', async () => {
    const limiter = new TokenBucketLimiter({ ratePerSecond: 1, burst: 4 }, () => 0);
    expect(await limiter.take('k', 5)).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('keeps memory bounded: full buckets are dropped, and beyond maxKeys the least recently used', async () => {
    const c = clock();
    const limiter = new TokenBucketLimiter({ ratePerSecond: 1, burst: 10 }, c.now, 50, 100);
    for (let i = 0; i < 99; i++) await limiter.take(`u${i}`, 1);
    expect(limiter.size).toBe(99);
    c.advance(2000); // every bucket is full again
    await limiter.take('last', 1); // the 100th take prunes
    expect(limiter.size).toBe(1);
    for (let i = 0; i < 199; i++) await limiter.take(`v${i}`, 1);
    await limiter.take('w', 1);
    expect(limiter.size).toBeLessThanOrEqual(51);
  });

  it('refuses a limit that is not positive', () => {
    expect(() => new TokenBucketLimiter({ ratePerSecond: 0, burst: 10 })).toThrow(ConfigError);
  });
});

describe('DynamoWindowLimiter on dynalite', () => {
  let engines: Awaited<ReturnType<typeof startTestEngines>>;
  const table = 'rate-limits';
  beforeAll(async () => {
    engines = await startTestEngines();
    await dynamoClient().send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await new Promise((done) => setTimeout(done, 50));
  }, 60_000);
  afterAll(async () => {
    await engines?.cleanup();
  });

  it('allows exactly the allowance per window across two containers sending at once', async () => {
    let t = Date.parse('2026-10-01T00:00:10Z');
    const now = () => t;
    const options = { tableName: table, limit: { ratePerSecond: 0.1, burst: 10 }, windowSeconds: 60 };
    const a = new DynamoWindowLimiter(dynamoClient(), options, now);
    const b = new DynamoWindowLimiter(dynamoClient(), options, now);
    const decisions = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).take('user:u1', 1)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    expect(decisions.find((d) => !d.allowed)?.retryAfterSeconds).toBe(50);
    expect((await a.take('user:u2', 1)).allowed).toBe(true);
    t += 60_000; // the next window
    expect((await b.take('user:u1', 10)).allowed).toBe(true);
    expect((await b.take('user:u1', 11)).allowed).toBe(false);
  });
});

describe('rateLimitedFeedback', () => {
  const stored: FeedbackEvent[][] = [];
  /** An in-memory double of the feedback port. */
  const sink: FeedbackSink = {
    async writeFeedback(events) {
      stored.push([...events]);
    },
  };
  const event = (userId: string, i: number): FeedbackEvent => ({
    requestId: `r-${userId}`,
    userId,
    itemId: `it-${i}`,
    eventType: 'impression',
    timestamp: '2026-10-01T00:00:00Z',
    msPlayed: 0,
  });
  const batch = (userId: string, n: number) => Array.from({ length: n }, (_, i) => event(userId, i));

  it("stores a batch within limits, and refuses a user's flood without storing any of it", async () => {
    stored.length = 0;
    const port = rateLimitedFeedback(
      sink,
      inProcessLimiters({ client: { ratePerSecond: 1000, burst: 10_000 }, user: { ratePerSecond: 1, burst: 60 } }, () => 0),
    );
    await port.writeFeedback(batch('u1', 60), { clientId: 'ip:10.0.0.1' });
    const refused = port.writeFeedback(batch('u1', 1), { clientId: 'ip:10.0.0.1' });
    await expect(refused).rejects.toBeInstanceOf(FeedbackRateLimitedError);
    await expect(refused).rejects.toMatchObject({ scope: 'user', key: 'u1', statusCode: 429, retryAfterSeconds: 1 });
    await port.writeFeedback(batch('u2', 60), { clientId: 'ip:10.0.0.1' }); // other users go on
    expect(stored.map((b) => b.length)).toEqual([60, 60]);
  });

  it('limits one client across all the users it posts for', async () => {
    stored.length = 0;
    const port = rateLimitedFeedback(
      sink,
      inProcessLimiters({ client: { ratePerSecond: 10, burst: 100 }, user: { ratePerSecond: 10, burst: 100 } }, () => 0),
    );
    for (let u = 0; u < 5; u++) await port.writeFeedback(batch(`u${u}`, 20), { clientId: 'ip:10.0.0.2' });
    await expect(port.writeFeedback(batch('u9', 1), { clientId: 'ip:10.0.0.2' })).rejects.toMatchObject({
      scope: 'client',
      key: 'ip:10.0.0.2',
    });
    await port.writeFeedback(batch('u9', 1), { clientId: 'ip:10.0.0.3' });
    expect(stored).toHaveLength(6);
  });

  it('says in its message what was received and what is expected', () => {
    expect(new FeedbackRateLimitedError('client', 'ip:1.2.3.4', 500, 7).message).toBe(
      'too many feedback events for client ip:1.2.3.4: 500 in this batch is over its limit; expected a retry after 7 s',
    );
  });
});

describe('feedbackSource', () => {
  it.each([
    [
      'the JWT client_id',
      { requestContext: { authorizer: { jwt: { claims: { client_id: 'app-ios' } } }, http: { sourceIp: '1.2.3.4' } } },
      'client:app-ios',
    ],
    ['the JWT azp', { requestContext: { authorizer: { jwt: { claims: { azp: 'web' } } } } }, 'client:web'],
    ['the source IP without an authorizer', { requestContext: { http: { sourceIp: '203.0.113.9' } } }, 'ip:203.0.113.9'],
    ['unknown without a request context', {}, 'ip:unknown'],
  ])('keys on %s', (_name, event, expected) => {
    expect(feedbackSource(event).clientId).toBe(expected);
  });
});

describe('feedbackLimitsFromEnv', () => {
  it('gives the defaults when nothing is set', () => {
    expect(feedbackLimitsFromEnv({})).toEqual(DEFAULT_FEEDBACK_LIMITS);
  });

  it('reads every variable', () => {
    expect(
      feedbackLimitsFromEnv({
        FEEDBACK_CLIENT_RATE: '50',
        FEEDBACK_CLIENT_BURST: '500',
        FEEDBACK_USER_RATE: '0.5',
        FEEDBACK_USER_BURST: '100',
      }),
    ).toEqual({ client: { ratePerSecond: 50, burst: 500 }, user: { ratePerSecond: 0.5, burst: 100 } });
  });

  it('names a bad variable with the value received', () => {
    expect(() => feedbackLimitsFromEnv({ FEEDBACK_USER_BURST: 'lots' })).toThrow(
      /FEEDBACK_USER_BURST is "lots"; expected a positive number/,
    );
  });
});
