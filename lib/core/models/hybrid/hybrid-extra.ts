/**
 * The check of a hybrid artifact's `extra` (its JSON state beside the arrays), written out by hand.
 *
 * It was a zod schema; `loadHybrid` is synchronous, so the schema could not be imported lazily, and
 * model.ts is loaded by every `shelves train`, where importing zod cost ~0.15 s of CPU for a check that
 * training never runs. The check accepts what that schema accepted, and a rejection's message is the
 * message of zod's first issue (zod 4, English), word for word (test/core/models/hybrid/hybrid-extra.test.ts
 * compares both on generated values):
 *
 *   z.looseObject({ dim: z.number().int().positive(), userIds: z.array(z.string()),
 *     userFeatureNames: z.array(z.string()), itemFeatureNames: z.array(z.string()),
 *     training: z.record(z.string(), z.unknown()).optional() })
 */

/** The checked `extra` (further keys are kept, as a loose object keeps them). */
export interface HybridExtra {
  readonly dim: number;
  readonly userIds: string[];
  readonly userFeatureNames: string[];
  readonly itemFeatureNames: string[];
  readonly training?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export type HybridExtraResult =
  | { readonly success: true; readonly data: HybridExtra }
  | { readonly success: false; readonly message: string };

/** Checks a hybrid artifact's `extra`; on failure, the message of the first problem (keys in the order above). */
export function parseHybridExtra(extra: unknown): HybridExtraResult {
  if (!isObject(extra)) return failed(invalidType('object', extra));
  const problem =
    dimProblem(extra.dim) ??
    stringsProblem(extra.userIds) ??
    stringsProblem(extra.userFeatureNames) ??
    stringsProblem(extra.itemFeatureNames) ??
    (extra.training === undefined ? undefined : recordProblem(extra.training));
  return problem === undefined ? { success: true, data: extra as unknown as HybridExtra } : failed(problem);
}

function failed(message: string): HybridExtraResult {
  return { success: false, message };
}

/** z.number().int().positive(): zod checks the type, then int (a safe integer), then > 0. */
function dimProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return invalidType('number', value);
  if (!Number.isInteger(value)) return invalidType('int', value);
  if (value > Number.MAX_SAFE_INTEGER) return `Too big: expected int to be <=${Number.MAX_SAFE_INTEGER}`;
  if (value < Number.MIN_SAFE_INTEGER) return `Too small: expected int to be >=${Number.MIN_SAFE_INTEGER}`;
  if (value <= 0) return 'Too small: expected number to be >0';
  return undefined;
}

/** z.array(z.string()): the first element that is not a string. */
function stringsProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return invalidType('array', value);
  for (const element of value) if (typeof element !== 'string') return invalidType('string', element);
  return undefined;
}

/** z.record(z.string(), z.unknown()): a plain object (zod's test) whose enumerable own keys are all strings. */
function recordProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return invalidType('record', value);
  for (const key of Object.getOwnPropertySymbols(value))
    if (Object.prototype.propertyIsEnumerable.call(value, key)) return 'Invalid key in record';
  return undefined;
}

function isObject(value: unknown): value is Record<string | symbol, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** zod's isPlainObject: an object whose constructor (if any) has a prototype with its own isPrototypeOf. */
function isPlainObject(value: unknown): value is object {
  if (!isObject(value)) return false;
  const ctor: unknown = value.constructor;
  if (ctor === undefined || typeof ctor !== 'function') return true;
  const prototype: unknown = ctor.prototype;
  return isObject(prototype) && Object.hasOwn(prototype, 'isPrototypeOf');
}

function invalidType(expected: string, value: unknown): string {
  return `Invalid input: expected ${expected}, received ${received(value)}`;
}

/** zod's name for a value in messages: NaN and infinities by value, arrays, null, class instances by constructor. */
function received(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : String(value);
  if (isObject(value) && Object.getPrototypeOf(value) !== Object.prototype && 'constructor' in value && value.constructor) {
    return (value.constructor as { name: string }).name;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
