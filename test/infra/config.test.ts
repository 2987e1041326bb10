import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.ts';
import { DEFAULT_APP_CONFIG, parseAppConfig } from '../../lib/infra/app-config.ts';

describe('parseAppConfig', () => {
  it('fills every field with its default', () => {
    expect(parseAppConfig({})).toEqual(DEFAULT_APP_CONFIG);
    expect(DEFAULT_APP_CONFIG).toMatchObject({
      stackName: 'HomeShelves',
      canaryWeight: 0.2,
      trainingInstanceType: 'ml.m5.large',
      mapMaxConcurrency: 10,
      bundling: true,
    });
  });

  it.each([
    [{ canaryWeight: '0.05' }, { canaryWeight: 0.05 }],
    [{ bundling: 'false' }, { bundling: false }],
    [{ mapMaxConcurrency: '4' }, { mapMaxConcurrency: 4 }],
    [
      { account: '123456789012', region: 'eu-west-1' },
      { account: '123456789012', region: 'eu-west-1' },
    ],
  ])('reads context strings %j as typed values', (raw, expected) => {
    expect(parseAppConfig(raw)).toMatchObject(expected);
  });

  it.each([
    [{ canaryWeight: 1 }, 'canaryWeight'],
    [{ trainingInstanceType: 'm5.large' }, 'trainingInstanceType'],
    [{ schedules: { shortcuts: 'every day', podcasts: 'rate(1 day)', playlists: 'rate(1 day)' } }, 'schedules.shortcuts'],
    [{ logRetentionDays: 31 }, 'logRetentionDays'],
    [{ unknownKey: 1 }, 'unknownKey'],
  ])('rejects %j naming the field %s', (raw, field) => {
    expect(() => parseAppConfig(raw)).toThrow(ConfigError);
    expect(() => parseAppConfig(raw)).toThrow(field);
  });
});
