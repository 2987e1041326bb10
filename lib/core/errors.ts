/**
 * Named errors. The class name is the contract: Step Functions Retry/Catch match on it, the CLI
 * prints its message without a stack trace, and messages show the value received and the value
 * expected.
 */

/** Bad input from a person or a file: names the file, line and field when known. */
export class InputError extends Error {
  override readonly name: string = 'InputError';
  constructor(
    message: string,
    readonly where: { readonly file?: string; readonly line?: number; readonly field?: string } = {},
  ) {
    super(formatWhere(where) + message);
  }
}

/** The share of rejected rows went over the configured limit. */
export class DataQualityError extends Error {
  override readonly name = 'DataQualityError';
}

/** Configuration missing or invalid (environment, context, policy file, model options). */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
}

/** A failure worth retrying (network, throttling); Step Functions retries it with backoff. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

/** A conditional write lost a race (another deploy won, or the record changed meanwhile). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

function formatWhere(where: { file?: string; line?: number; field?: string }): string {
  const parts: string[] = [];
  if (where.file !== undefined) parts.push(where.line !== undefined ? `${where.file}:${where.line}` : where.file);
  if (where.field !== undefined) parts.push(`field "${where.field}"`);
  return parts.length > 0 ? `${parts.join(', ')}: ` : '';
}

/** True for errors whose message is meant for a person as is (no stack trace needed). */
export function isUserFacing(error: unknown): error is Error {
  return error instanceof InputError || error instanceof DataQualityError || error instanceof ConfigError || error instanceof ConflictError;
}
