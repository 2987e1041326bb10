/**
 * POST /v1/events behind its port: a batch of feedback is stored only when its client (API client id,
 * else source IP) and each of its users are within their rate limits; otherwise nothing is stored
 * and the caller gets a FeedbackRateLimitedError (HTTP 429 with Retry-After). Rate limits bound the
 * volume one client or one user can write; what counts toward canary decisions is decided later, by
 * matching against the request log (lib/core/gate/feedback-match.ts).
 */
import { z } from 'zod';
import { dynamoClient } from '../aws/clients.ts';
import { ConfigError } from '../core/errors.ts';
import type { FeedbackEvent } from '../api/schemas.ts';
import type { FeedbackSink } from './ports.ts';
import { DynamoWindowLimiter, TokenBucketLimiter, type RateLimit, type RateLimiter } from './rate-limit.ts';

/** Who sent a batch, as API Gateway tells it (never from a header the client sets). */
export interface FeedbackSource {
  /** `client:<id>` for an authorized API client, else `ip:<source address>`. */
  readonly clientId: string;
}

/** The subset of an API Gateway HTTP API (v2) event that identifies the caller. */
export interface CallerContext {
  readonly requestContext?: {
    readonly http?: { readonly sourceIp?: string };
    readonly authorizer?: { readonly jwt?: { readonly claims?: Readonly<Record<string, unknown>> } };
  };
}

/** The rate-limit key of a request: the JWT's client_id (or azp) when an authorizer ran, else the source IP. */
export function feedbackSource(event: CallerContext): FeedbackSource {
  const claims = event.requestContext?.authorizer?.jwt?.claims;
  const client = claims?.client_id ?? claims?.azp;
  if (typeof client === 'string' && client !== '') return { clientId: `client:${client}` };
  return { clientId: `ip:${event.requestContext?.http?.sourceIp ?? 'unknown'}` };
}

/** Too many events from one client or for one user: nothing of the batch was stored. */
export class FeedbackRateLimitedError extends Error {
  override readonly name = 'FeedbackRateLimitedError';
  /** The HTTP status this error maps to. */
  readonly statusCode = 429;
  constructor(
    readonly scope: 'client' | 'user',
    readonly key: string,
    readonly cost: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `too many feedback events for ${scope} ${key}: ${cost} in this batch is over its limit; expected a retry after ${retryAfterSeconds} s`,
    );
  }
}

export interface FeedbackLimits {
  /** Events per client (API client or source IP); default 1,000/s with a burst of 20,000 (many users share a NAT). */
  readonly client: RateLimit;
  /** Events per userId; default 5/s with a burst of 600 (a few home screens' impressions, plays and skips at once). */
  readonly user: RateLimit;
}

export const DEFAULT_FEEDBACK_LIMITS: FeedbackLimits = {
  client: { ratePerSecond: 1000, burst: 20_000 },
  user: { ratePerSecond: 5, burst: 600 },
};

const positive = z.coerce.number().positive().finite();
const LimitsEnvSchema = z.object({
  FEEDBACK_CLIENT_RATE: positive.default(DEFAULT_FEEDBACK_LIMITS.client.ratePerSecond),
  FEEDBACK_CLIENT_BURST: positive.default(DEFAULT_FEEDBACK_LIMITS.client.burst),
  FEEDBACK_USER_RATE: positive.default(DEFAULT_FEEDBACK_LIMITS.user.ratePerSecond),
  FEEDBACK_USER_BURST: positive.default(DEFAULT_FEEDBACK_LIMITS.user.burst),
});

/**
 * The limits from FEEDBACK_CLIENT_RATE / _BURST and FEEDBACK_USER_RATE / _BURST (events per second,
 * bucket size), each optional; a value that is not a positive number throws ConfigError.
 */
export function feedbackLimitsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): FeedbackLimits {
  const raw = Object.fromEntries(Object.keys(LimitsEnvSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = LimitsEnvSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0]);
    throw new ConfigError(
      `environment variable ${variable} is ${JSON.stringify(env[variable])}; expected a positive number (${issue?.message})`,
    );
  }
  const v = parsed.data;
  return {
    client: { ratePerSecond: v.FEEDBACK_CLIENT_RATE, burst: v.FEEDBACK_CLIENT_BURST },
    user: { ratePerSecond: v.FEEDBACK_USER_RATE, burst: v.FEEDBACK_USER_BURST },
  };
}

export interface FeedbackLimiters {
  readonly client: RateLimiter;
  readonly user: RateLimiter;
}

/** In-process token buckets for both scopes (the local API, and the fallback of one Lambda container). */
export function inProcessLimiters(limits: FeedbackLimits = DEFAULT_FEEDBACK_LIMITS, now: () => number = Date.now): FeedbackLimiters {
  return { client: new TokenBucketLimiter(limits.client, now), user: new TokenBucketLimiter(limits.user, now) };
}

/** The environment variable naming the DynamoDB table of shared rate-limit counters (pk `key`, TTL `expiresAt`). */
export const RATE_LIMIT_TABLE_ENV = 'FEEDBACK_RATE_LIMIT_TABLE';

/**
 * The limiters for this process: DynamoDB fixed-window counters shared by every container when
 * FEEDBACK_RATE_LIMIT_TABLE is set (AWS), in-process token buckets otherwise (local API).
 */
export function feedbackLimitersFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): FeedbackLimiters {
  const limits = feedbackLimitsFromEnv(env);
  const table = env[RATE_LIMIT_TABLE_ENV];
  if (table === undefined || table === '') return inProcessLimiters(limits);
  return {
    client: new DynamoWindowLimiter(dynamoClient(), { tableName: table, limit: limits.client }),
    user: new DynamoWindowLimiter(dynamoClient(), { tableName: table, limit: limits.user }),
  };
}

/**
 * A FeedbackSink that stores a batch only within the limits: the client pays one unit per event, each
 * user one unit per event of theirs. Without a source (a trusted in-process caller) only users are limited.
 */
export function rateLimitedFeedback(sink: FeedbackSink, limiters: FeedbackLimiters): FeedbackSink {
  return {
    async writeFeedback(events: readonly FeedbackEvent[], source?: FeedbackSource): Promise<void> {
      if (events.length === 0) return;
      if (source !== undefined) {
        const decision = await limiters.client.take(source.clientId, events.length);
        if (!decision.allowed) throw new FeedbackRateLimitedError('client', source.clientId, events.length, decision.retryAfterSeconds);
      }
      const perUser = new Map<string, number>();
      for (const e of events) perUser.set(e.userId, (perUser.get(e.userId) ?? 0) + 1);
      for (const [userId, cost] of perUser) {
        const decision = await limiters.user.take(`user:${userId}`, cost);
        if (!decision.allowed) throw new FeedbackRateLimitedError('user', userId, cost, decision.retryAfterSeconds);
      }
      await sink.writeFeedback(events, source);
    },
  };
}
