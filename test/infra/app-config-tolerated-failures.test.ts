import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.ts';
import { parseAppConfig } from '../../lib/infra/app-config.ts';
import { STATE_MACHINE } from '../../lib/wiring/resources.ts';
import { STATES } from '../../lib/wiring/pipeline.ts';
import { allStates, renderDefinition, synthStack } from './stack-fixture.ts';

describe('tolerated failures of the BuildFeatures map in the app config', () => {
  it('leaves both unset by default (AWS then tolerates no failed partition)', () => {
    const config = parseAppConfig({});
    expect(config.mapToleratedFailurePercentage).toBeUndefined();
    expect(config.mapToleratedFailureCount).toBeUndefined();
  });

  it.each([
    [
      { mapToleratedFailurePercentage: '2.5', mapToleratedFailureCount: '3' },
      { mapToleratedFailurePercentage: 2.5, mapToleratedFailureCount: 3 },
    ],
    [
      { mapToleratedFailurePercentage: 0, mapToleratedFailureCount: 0 },
      { mapToleratedFailurePercentage: 0, mapToleratedFailureCount: 0 },
    ],
    [{ mapToleratedFailurePercentage: '100' }, { mapToleratedFailurePercentage: 100 }],
  ])('reads context %j as %j', (raw, expected) => {
    expect(parseAppConfig(raw)).toMatchObject(expected);
  });

  it.each([
    ['mapToleratedFailurePercentage', '101', 'expected a percentage from 0 to 100, received 101'],
    ['mapToleratedFailurePercentage', -1, 'expected a percentage from 0 to 100, received -1'],
    ['mapToleratedFailurePercentage', 'five', 'expected a percentage from 0 to 100, received "five"'],
    ['mapToleratedFailureCount', '1.5', 'expected a whole number of partitions, 0 or more, received 1.5'],
    ['mapToleratedFailureCount', '-2', 'expected a whole number of partitions, 0 or more, received -2'],
    ['mapToleratedFailureCount', true, 'expected a whole number of partitions, 0 or more, received true'],
  ])('refuses %s = %j with a ConfigError naming the key, the value and the expectation', (key, value, message) => {
    const parse = () => parseAppConfig({ [key]: value });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(message);
    expect(parse).toThrow(key);
  });
});

describe('the stack passes them to the Distributed Map', () => {
  let states: ReturnType<typeof allStates>;
  beforeAll(() => {
    const { json } = synthStack({ mapToleratedFailurePercentage: '5', mapToleratedFailureCount: '2' });
    states = allStates(renderDefinition(json.Resources, STATE_MACHINE.id));
    // Synthesis takes seconds, and much longer on a machine shared by parallel test runs.
  }, 240_000);

  it('renders ToleratedFailurePercentage and ToleratedFailureCount on BuildFeatures', () => {
    expect(states[STATES.buildFeatures]).toMatchObject({ Type: 'Map', ToleratedFailurePercentage: 5, ToleratedFailureCount: 2 });
  });
});
