/**
 * Row validation against the data contract. A malformed row never disappears: it becomes a reject
 * that names the file, line, field and reason, and every read ends in a quality report; a reject
 * rate above the limit fails the run with a message that says which file and why.
 */
import type { z } from 'zod';
import { DataQualityError } from './errors.ts';

/** Default largest share of rejected rows per file before a read fails (1%). */
export const DEFAULT_REJECT_LIMIT = 0.01;

export const REJECT_REASONS = [
  'bad-json',
  'missing-field',
  'wrong-type',
  'invalid-value',
  'unknown-item',
  'unknown-user',
  'future-timestamp',
  'duplicate',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Reject {
  readonly file: string;
  readonly line: number;
  readonly field: string;
  readonly reason: RejectReason;
  readonly message: string;
  readonly raw: string;
}

export interface RowContext {
  readonly file: string;
  readonly line: number;
  readonly knownItems?: ReadonlySet<string>;
  readonly knownUsers?: ReadonlySet<string>;
  /** Epoch ms; rows with a later `timestamp` are rejected. */
  readonly now?: number;
}

export type RowResult<T> = { readonly ok: true; readonly row: T } | { readonly ok: false; readonly reject: Reject };

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

function reasonOf(issue: z.core.$ZodIssue, raw: unknown): RejectReason {
  if (issue.code === 'invalid_type') return valueAt(raw, issue.path) === undefined ? 'missing-field' : 'wrong-type';
  return 'invalid-value';
}

/** Validates one JSON line against `schema`, then the cross-checks the context asks for. */
export function validateJsonLine<T extends { readonly timestamp?: string; readonly itemId?: string; readonly userId?: string }>(
  text: string,
  schema: z.ZodType<T>,
  ctx: RowContext,
): RowResult<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return reject(ctx, text, '', 'bad-json', `not valid JSON: ${(error as Error).message}`);
  }
  return validateRecord(raw, text, schema, ctx);
}

/** Validates an already parsed record (a JSON object, or a CSV / Parquet row). */
export function validateRecord<T extends { readonly timestamp?: string; readonly itemId?: string; readonly userId?: string }>(
  raw: unknown,
  text: string,
  schema: z.ZodType<T>,
  ctx: RowContext,
): RowResult<T> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return reject(ctx, text, '', 'wrong-type', 'expected an object');
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const field = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys.join(',') : issue.path.join('.');
    return reject(ctx, text, field, reasonOf(issue, raw), issue.message);
  }
  const row = parsed.data;
  if (ctx.now !== undefined && row.timestamp !== undefined && Date.parse(row.timestamp) > ctx.now) {
    return reject(ctx, text, 'timestamp', 'future-timestamp', `timestamp ${row.timestamp} is after ${new Date(ctx.now).toISOString()}`);
  }
  if (ctx.knownItems !== undefined && row.itemId !== undefined && !ctx.knownItems.has(row.itemId) && row.timestamp !== undefined) {
    return reject(ctx, text, 'itemId', 'unknown-item', `item "${row.itemId}" is not in the catalog`);
  }
  if (ctx.knownUsers !== undefined && row.userId !== undefined && !ctx.knownUsers.has(row.userId) && row.timestamp !== undefined) {
    return reject(ctx, text, 'userId', 'unknown-user', `user "${row.userId}" is not in the users table`);
  }
  return { ok: true, row };
}

function reject<T>(ctx: RowContext, raw: string, field: string, reason: RejectReason, message: string): RowResult<T> {
  return {
    ok: false,
    reject: { file: ctx.file, line: ctx.line, field, reason, message, raw: raw.length > 2000 ? `${raw.slice(0, 2000)}…` : raw },
  };
}

/**
 * Rejects the second and later copies of an event within one file (same user, item, event type and
 * timestamp: a client retry logged twice). Keeps one key per distinct event, so memory grows with the
 * file, not with the dataset; opt in per read.
 */
export class DuplicateFilter {
  private readonly firstLine = new Map<string, number>();

  /** `result` unchanged, or a `duplicate` reject naming the line of the first copy. */
  check<T>(result: RowResult<T>, ctx: RowContext, raw: string): RowResult<T> {
    if (!result.ok) return result;
    const row = result.row as {
      readonly userId?: unknown;
      readonly itemId?: unknown;
      readonly eventType?: unknown;
      readonly timestamp?: unknown;
    };
    if (row.timestamp === undefined) return result;
    const key = `${String(row.userId)}\u0000${String(row.itemId)}\u0000${String(row.eventType)}\u0000${String(row.timestamp)}`;
    const first = this.firstLine.get(key);
    if (first === undefined) {
      this.firstLine.set(key, ctx.line);
      return result;
    }
    return reject(ctx, raw, '', 'duplicate', `same userId, itemId, eventType and timestamp as line ${first}`);
  }
}

export interface QualityReport {
  readonly file: string;
  readonly read: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly rejectedByReason: Readonly<Record<string, number>>;
  rejectsUri?: string;
}

/** Counts a read as it goes; keeps the first reject of each reason as an example. */
export class QualityTally {
  read = 0;
  accepted = 0;
  readonly byReason: Record<string, number> = {};
  readonly examples = new Map<string, Reject>();

  constructor(readonly file: string) {}

  add(result: RowResult<unknown>): void {
    this.read++;
    if (result.ok) this.accepted++;
    else {
      this.byReason[result.reject.reason] = (this.byReason[result.reject.reason] ?? 0) + 1;
      if (!this.examples.has(result.reject.reason)) this.examples.set(result.reject.reason, result.reject);
    }
  }

  report(): QualityReport {
    return {
      file: this.file,
      read: this.read,
      accepted: this.accepted,
      rejected: this.read - this.accepted,
      rejectedByReason: Object.fromEntries(Object.entries(this.byReason).sort()),
    };
  }
}

/**
 * Throws DataQualityError when the share of rejected rows exceeds `limit` (0..1), naming the file,
 * the rate, the limit, and each reason with an example line.
 */
export function checkRejectRate(report: QualityReport, limit: number, examples?: ReadonlyMap<string, Reject>): void {
  if (report.read === 0 || report.rejected / report.read <= limit) return;
  const reasons = Object.entries(report.rejectedByReason)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => {
      const ex = examples?.get(reason);
      return `${reason} ${n}${ex ? ` (line ${ex.line}${ex.field ? `, field ${ex.field}` : ''}: ${ex.message})` : ''}`;
    });
  throw new DataQualityError(
    `${report.file}: ${((report.rejected / report.read) * 100).toFixed(1)}% of ${report.read} rows rejected, limit ${(limit * 100).toFixed(1)}%: ${reasons.join('; ')}${report.rejectsUri ? `; rejected rows are in ${report.rejectsUri}` : ''}`,
  );
}
