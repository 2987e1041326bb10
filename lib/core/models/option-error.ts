/**
 * The one policy of every model for invalid options: an option out of its range is an OptionError
 * naming the model, the option, the value received and the range expected. Nothing is clamped or
 * replaced silently: a typo in a hyperparameter file must fail the run, not train a different model.
 * Absent options take their documented defaults.
 */
import { ConfigError } from '../errors.ts';

/** An option of a model outside its documented range. */
export class OptionError extends ConfigError {
  override readonly name: string = 'OptionError';
  constructor(
    readonly model: string,
    readonly option: string,
    readonly received: unknown,
    readonly expected: string,
  ) {
    super(
      `${model} option ${option} is ${typeof received === 'string' ? JSON.stringify(received) : String(received)}, expected ${expected}`,
    );
  }
}

/** Checks the options of one model; each method returns the value or throws an OptionError. */
export class OptionChecker {
  constructor(private readonly model: string) {}

  /** An integer in [min, max]. */
  int(option: string, value: number, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
    if (!Number.isInteger(value) || value < min || value > max)
      throw new OptionError(
        this.model,
        option,
        value,
        max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer ${min}..${max}`,
      );
    return value;
  }

  /** A finite number in [min, max] (or (min, max] when `above` is set). */
  number(option: string, value: number, min: number, max: number = Number.POSITIVE_INFINITY, above = false): number {
    const ok = Number.isFinite(value) && (above ? value > min : value >= min) && value <= max;
    if (!ok) {
      const low = above ? `> ${min}` : `>= ${min}`;
      throw new OptionError(
        this.model,
        option,
        value,
        max === Number.POSITIVE_INFINITY ? `a number ${low}` : `a number ${low} and <= ${max}`,
      );
    }
    return value;
  }

  /** One of the listed values. */
  oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
    if (!(allowed as readonly string[]).includes(value))
      throw new OptionError(this.model, option, value, allowed.map((a) => JSON.stringify(a)).join(' or '));
    return value as T;
  }
}
