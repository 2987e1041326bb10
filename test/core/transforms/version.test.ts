import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { itemFeatures } from '../../../lib/core/transforms/entities.ts';
import { TRANSFORM_SOURCES, TRANSFORM_VERSION, versionOf } from '../../../lib/core/transforms/version.ts';

const sourceDir = new URL('../../../lib/core/transforms/', import.meta.url);
const sources = TRANSFORM_SOURCES.map((file) => readFileSync(new URL(file, sourceDir), 'utf8'));

describe('transform version', () => {
  it('is the 16-hex-digit hash of the transform source files (update the literal in version.ts when this fails)', () => {
    const computed = versionOf(sources);
    expect(computed).toMatch(/^[0-9a-f]{16}$/);
    expect(TRANSFORM_VERSION, `lib/core/transforms/version.ts: set TRANSFORM_VERSION = '${computed}'`).toBe(computed);
  });

  it('changes when one character of a transform source changes', () => {
    const edited = sources.map((text, i) => (i === 1 ? text.replace('i === 0 ? 1 : 0.5', 'i === 0 ? 1 : 0.4') : text));
    expect(edited[1]).not.toBe(sources[1]);
    expect(versionOf(edited)).not.toBe(versionOf(sources));
  });

  it('changes when a transform function or a constant changes', () => {
    const changed = (item: Parameters<typeof itemFeatures>[0]) => [[`type:${item.type}`, 2]];
    expect(versionOf([changed, { minListenMs: 30_000 }])).not.toBe(versionOf([itemFeatures, { minListenMs: 30_000 }]));
    expect(versionOf([itemFeatures, { minListenMs: 30_000 }])).not.toBe(versionOf([itemFeatures, { minListenMs: 31_000 }]));
  });

  it.each([
    ['line endings', ['a\r\nb'], ['a\nb']],
    ['nothing', [], []],
  ])('ignores %s and is deterministic', (_what, a, b) => {
    expect(versionOf(a)).toBe(versionOf(b));
  });

  it('tells apart the order of definitions', () => {
    expect(versionOf(['a', 'b'])).not.toBe(versionOf(['b', 'a']));
  });
});
