/** The canary monitor's configuration from the environment: staged rollout when ROLLOUT_STEPS is set. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.ts';
import { readEnv } from '../../lib/wiring/env.ts';

describe('ROLLOUT_STEPS', () => {
  it('reads the rollout steps as weights', () => {
    expect(readEnv('ROLLOUT_STEPS', { ROLLOUT_STEPS: '0.05,0.25,0.5,1' })).toEqual([0.05, 0.25, 0.5, 1]);
  });

  it('leaves the staged rollout off when unset', () => {
    expect(readEnv('ROLLOUT_STEPS', {})).toBeUndefined();
  });

  it.each(['5%,25%', '0.5;1', 'a'])('refuses %s, naming the variable', (value) => {
    expect(() => readEnv('ROLLOUT_STEPS', { ROLLOUT_STEPS: value })).toThrow(ConfigError);
    expect(() => readEnv('ROLLOUT_STEPS', { ROLLOUT_STEPS: value })).toThrow(/ROLLOUT_STEPS/);
  });
});
