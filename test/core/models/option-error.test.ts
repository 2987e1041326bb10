/** One policy for invalid model options: an OptionError naming the model, option, value and range; nothing clamped. */
import { describe, expect, it } from 'vitest';
import { ConfigError, isUserFacing } from '../../../lib/core/errors.ts';
import { fitEase } from '../../../lib/core/models/ease/index.ts';
import { fitHybrid } from '../../../lib/core/models/hybrid/index.ts';
import { OptionChecker, OptionError } from '../../../lib/core/models/option-error.ts';
import { fitRanker } from '../../../lib/core/models/shortcuts/ranker.ts';
import { plantedWorld } from './hybrid/planted.ts';
import { syntheticExamples } from './shortcuts/synthetic.ts';

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('OptionError', () => {
  it('is a ConfigError a person reads as is, with the value received and the range expected', () => {
    const error = new OptionError('hybrid', 'dim', 0, 'an integer 1..1024');
    expect(error).toBeInstanceOf(ConfigError);
    expect(isUserFacing(error)).toBe(true);
    expect(error.name).toBe('OptionError');
    expect(error.message).toBe('hybrid option dim is 0, expected an integer 1..1024');
  });

  it.each([
    [(c: OptionChecker) => c.int('n', 2.5, 1), 'm option n is 2.5, expected an integer >= 1'],
    [(c: OptionChecker) => c.int('n', 7, 1, 6), 'm option n is 7, expected an integer 1..6'],
    [(c: OptionChecker) => c.number('x', 0, 0, 1, true), 'm option x is 0, expected a number > 0 and <= 1'],
    [(c: OptionChecker) => c.number('x', Number.NaN, 0), 'm option x is NaN, expected a number >= 0'],
    [(c: OptionChecker) => c.oneOf('k', 'gpu', ['wasm', 'js']), 'm option k is "gpu", expected "wasm" or "js"'],
  ])('checks ranges: %#', (check, message) => {
    expect(() => check(new OptionChecker('m'))).toThrow(message);
  });

  it('passes values in range through unchanged', () => {
    const c = new OptionChecker('m');
    expect(c.int('n', 6, 1, 6)).toBe(6);
    expect(c.number('x', 1, 0, 1, true)).toBe(1);
    expect(c.oneOf('k', 'js', ['wasm', 'js'])).toBe('js');
  });

  it.each([
    ['hybrid', () => fitHybrid(plantedWorld().data, { maxSampled: 0 }), 'maxSampled', 0],
    ['hybrid', () => fitHybrid(plantedWorld().data, { loss: 'bpr', bprNegatives: 0 }), 'bprNegatives', 0],
    ['hybrid', () => fitHybrid(plantedWorld().data, { identityShare: 0 }), 'identityShare', 0],
    ['hybrid', () => fitHybrid(plantedWorld().data, { identityShare: 1.5 }), 'identityShare', 1.5],
    ['ease', () => fitEase(plantedWorld().data, { lambda: 0 }), 'lambda', 0],
    ['ease', () => fitEase(plantedWorld().data, { lambda: Number.NaN }), 'lambda', Number.NaN],
    ['ease', () => fitEase(plantedWorld().data, { maxItems: 8001 }), 'maxItems', 8001],
    ['ease', () => fitEase(plantedWorld().data, { maxItems: 2.5 }), 'maxItems', 2.5],
    ['ease', () => fitEase(plantedWorld().data, { onTooManyItems: 'truncate' as 'error' }), 'onTooManyItems', 'truncate'],
    ['ease', () => fitEase(plantedWorld().data, { userFeatures: 'yes' as unknown as boolean }), 'userFeatures', 'yes'],
    ['shortcuts-ranker', () => fitRanker(syntheticExamples(50, 1), { seed: 1, depth: 9 }), 'depth', 9],
    ['shortcuts-ranker', () => fitRanker(syntheticExamples(50, 1), { seed: 1, bins: 1 }), 'bins', 1],
    ['shortcuts-ranker', () => fitRanker(syntheticExamples(50, 1), { seed: 1, validationShare: 0.8 }), 'validationShare', 0.8],
  ] as const)('%s refuses %s out of range instead of clamping it', (model, fit, option, value) => {
    expect(thrown(fit)).toMatchObject({ name: 'OptionError', model, option, received: value });
  });
});
