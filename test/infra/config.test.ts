import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.ts';
import { DEFAULT_APP_CONFIG, parseAppConfig, resolveStageContext, STAGE_PRESETS } from '../../lib/infra/app-config.ts';

describe('parseAppConfig', () => {
  it('fills every field with its default', () => {
    expect(parseAppConfig({})).toEqual(DEFAULT_APP_CONFIG);
    expect(DEFAULT_APP_CONFIG).toMatchObject({
      stage: 'dev',
      stackName: 'HomeShelves-dev',
      removalPolicy: 'destroy',
      alarms: STAGE_PRESETS.dev.alarms,
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

  it.each([
    ['dev', 'HomeShelves-dev', 'destroy'],
    ['prod', 'HomeShelves-prod', 'retain'],
  ] as const)('gives stage %s the stack name %s, removal policy %s and its alarm thresholds', (stage, stackName, removalPolicy) => {
    expect(parseAppConfig({ stage })).toMatchObject({ stage, stackName, removalPolicy, alarms: STAGE_PRESETS[stage].alarms });
  });

  it('keeps the stage preset for alarm thresholds that are not configured', () => {
    expect(parseAppConfig({ stage: 'prod', alarms: { apiLatencyP99Ms: '750' } }).alarms).toEqual({
      ...STAGE_PRESETS.prod.alarms,
      apiLatencyP99Ms: 750,
    });
  });

  it.each([
    [{ stage: 'staging' }, 'stage'],
    [{ alarmEmail: 'not-an-address' }, 'alarmEmail'],
    [{ alarms: { lambdaErrors: 0 } }, 'alarms.lambdaErrors'],
  ])('rejects %j naming the field %s', (raw, field) => {
    expect(() => parseAppConfig(raw)).toThrow(ConfigError);
    expect(() => parseAppConfig(raw)).toThrow(field);
  });

  it.each([
    [
      { trainingMaxRuntimeMinutes: 360, pipelineTimeoutMinutes: 360 },
      'trainingMaxRuntimeMinutes (360) must be shorter than pipelineTimeoutMinutes (360)',
    ],
    [
      { trainingMaxRuntimeMinutes: 400, pipelineTimeoutMinutes: 300 },
      'trainingMaxRuntimeMinutes (400) must be shorter than pipelineTimeoutMinutes (300)',
    ],
    [{ apiRateLimit: 500, apiBurstLimit: 499 }, 'apiBurstLimit (499) must be at least apiRateLimit (500)'],
    [{ canaryMonitorMinutes: 4 }, "canaryMonitorMinutes (4) must be at least the canary monitor's timeout (5 min)"],
    [{ alarms: { apiLatencyP99Ms: 10_000 } }, "alarms.apiLatencyP99Ms (10000) must be below Serve's timeout (10000 ms)"],
    [
      { requestLogBufferSeconds: 900, alarms: { deliveryFreshnessSeconds: 900 } },
      'alarms.deliveryFreshnessSeconds (900) must exceed requestLogBufferSeconds (900)',
    ],
    [{ stage: 'prod', removalPolicy: 'destroy' }, 'removalPolicy "destroy" is refused for stage prod (expected "retain")'],
    [{ rolloutSteps: '0.5,0.25,1' }, 'rolloutSteps (0.5,0.25,1) must increase and end at 1'],
    [{ rolloutSteps: '0.05,0.5' }, 'rolloutSteps (0.05,0.5) must increase and end at 1'],
  ])('refuses the inconsistent configuration %j', (raw, message) => {
    expect(() => parseAppConfig(raw)).toThrow(ConfigError);
    expect(() => parseAppConfig(raw)).toThrow(message);
  });

  it('names every broken relation at once', () => {
    expect(() =>
      parseAppConfig({ apiRateLimit: 10, apiBurstLimit: 5, trainingMaxRuntimeMinutes: 600, pipelineTimeoutMinutes: 60 }),
    ).toThrow(/trainingMaxRuntimeMinutes \(600\)[\s\S]*apiBurstLimit \(5\)/);
  });

  it('accepts the limits of each relation', () => {
    expect(() =>
      parseAppConfig({
        trainingMaxRuntimeMinutes: 359,
        pipelineTimeoutMinutes: 360,
        apiRateLimit: 7,
        apiBurstLimit: 7,
        canaryMonitorMinutes: 5,
      }),
    ).not.toThrow();
  });
});

describe('resolveStageContext', () => {
  const file = {
    canaryWeight: 0.2,
    alarms: { lambdaErrors: 3 },
    stages: { dev: { logRetentionDays: 14 }, prod: { logRetentionDays: 90, alarms: { apiLatencyP99Ms: 800 } } },
  };

  it('uses dev when no stage is given, with the common values and the dev entry', () => {
    expect(resolveStageContext(file, {})).toEqual({ stage: 'dev', canaryWeight: 0.2, logRetentionDays: 14, alarms: { lambdaErrors: 3 } });
  });

  it('layers the common values, the stage entry and the -c overrides, in that order', () => {
    expect(resolveStageContext(file, { stage: 'prod', canaryWeight: '0.1' })).toEqual({
      stage: 'prod',
      canaryWeight: '0.1',
      logRetentionDays: 90,
      alarms: { lambdaErrors: 3, apiLatencyP99Ms: 800 },
    });
  });

  it('reads alarm thresholds given on the command line as JSON text', () => {
    expect(resolveStageContext(file, { alarms: '{"apiLatencyP99Ms":700}' }).alarms).toEqual({ lambdaErrors: 3, apiLatencyP99Ms: 700 });
    expect(() => resolveStageContext(file, { alarms: 'fast' })).toThrow(
      'context alarms must be a JSON object such as {"apiLatencyP99Ms":800}, received "fast"',
    );
  });

  it('parses the cdk.json of the repository for both stages', async () => {
    const cdkJson = JSON.parse(await (await import('node:fs/promises')).readFile(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
      context: { homeShelves: Record<string, unknown> };
    };
    expect(parseAppConfig(resolveStageContext(cdkJson.context.homeShelves, {})).stackName).toBe('HomeShelves-dev');
    expect(parseAppConfig(resolveStageContext(cdkJson.context.homeShelves, { stage: 'prod' }))).toMatchObject({
      stackName: 'HomeShelves-prod',
      removalPolicy: 'retain',
    });
  });
});
