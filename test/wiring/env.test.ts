import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.ts';
import { DEFAULT_CANARY_WEIGHT } from '../../lib/core/shelf-settings.ts';
import { ENV_SCHEMAS, loadEnv, readEnv } from '../../lib/wiring/env.ts';

describe('readEnv', () => {
  it.each([
    ['CANARY_WEIGHT', '0.5', 0.5],
    ['CANARY_WEIGHT', undefined, DEFAULT_CANARY_WEIGHT],
    ['ENDPOINT_CACHE_SECONDS', '0', 0],
    ['ENDPOINT_CACHE_SECONDS', undefined, 30],
    ['CATALOG_REFRESH_SECONDS', '1', 1],
    ['LOG_LEVEL', 'warn', 'WARN'],
    ['LOG_LEVEL', '', 'INFO'],
    ['REJECT_LIMIT', '1', 1],
    ['SHELVES_S3_ENDPOINT', undefined, undefined],
    ['SHELVES_S3_ENDPOINT', 'http://127.0.0.1:4569', 'http://127.0.0.1:4569'],
    ['REGISTRY_TABLE', 'home-shelves-registry', 'home-shelves-registry'],
  ] as const)('reads %s=%s as %s', (name, value, expected) => {
    expect(readEnv(name, { [name]: value })).toBe(expected);
  });

  it.each([
    ['CANARY_WEIGHT', '1.5', /CANARY_WEIGHT is "1\.5"; expected a share of traffic above 0 and at most 1/],
    ['CANARY_WEIGHT', 'abc', /CANARY_WEIGHT is "abc"; expected a share of traffic/],
    ['CANARY_WEIGHT', '0', /CANARY_WEIGHT is "0"; expected a share of traffic above 0/],
    ['ENDPOINT_CACHE_SECONDS', '2.5', /ENDPOINT_CACHE_SECONDS is "2\.5"; expected endpoint record cache: whole seconds/],
    ['REJECT_LIMIT', '-0.1', /REJECT_LIMIT is "-0\.1"; expected a share between 0 and 1/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL is "loud"; expected one of TRACE, DEBUG, INFO/],
    ['SHELVES_NOW', 'yesterday', /SHELVES_NOW is "yesterday"; expected an ISO date-time/],
    ['SHELVES_S3_ENDPOINT', 'localhost', /SHELVES_S3_ENDPOINT is "localhost"; expected an S3 endpoint URL/],
    ['REGISTRY_TABLE', undefined, /REGISTRY_TABLE is not set; expected the registry table name/],
    ['RAW_BUCKET', '', /RAW_BUCKET is not set; expected the raw data bucket name/],
  ] as const)('refuses %s=%s with a ConfigError naming the variable, the value and the expectation', (name, value, message) => {
    const read = () => readEnv(name, { [name]: value });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(message);
  });

  it('describes what every variable expects, so every error can say it', () => {
    for (const [name, schema] of Object.entries(ENV_SCHEMAS)) expect([name, schema.description]).toEqual([name, expect.any(String)]);
  });
});

describe('loadEnv', () => {
  it('reads several variables at once, with their defaults', () => {
    expect(loadEnv(['RAW_BUCKET', 'CANARY_WEIGHT'], { RAW_BUCKET: 'raw' })).toEqual({
      RAW_BUCKET: 'raw',
      CANARY_WEIGHT: DEFAULT_CANARY_WEIGHT,
    });
  });

  it('fails on the first variable that is wrong', () => {
    expect(() => loadEnv(['RAW_BUCKET', 'FEATURES_BUCKET'], { RAW_BUCKET: 'raw' })).toThrow(/FEATURES_BUCKET is not set/);
  });
});
