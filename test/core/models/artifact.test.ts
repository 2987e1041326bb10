import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type ArtifactParts, artifactPieces, makeArtifact, type TypedArray } from '../../../lib/core/models/artifact.ts';
import { readArtifactDir, writeArtifactDir, writeArtifactPartsDir } from '../../../lib/io/artifact-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'artifact-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MANIFEST: ArtifactParts['manifest'] = {
  kind: 'test',
  hyperparameters: { dim: 3 },
  transformVersion: 't@1',
  dataSnapshot: 'sha256:0',
  trainedAt: 1_700_000_000_000,
  seed: 7,
  itemIndex: ['a', 'b'],
  extra: { note: 'x' },
};

/** An array of each dtype, of any length (odd byte lengths need padding), sometimes a view into a larger buffer with garbage around it. */
const typedArray: fc.Arbitrary<TypedArray> = fc
  .record({
    kind: fc.constantFrom('float32', 'float64', 'int32', 'uint32', 'uint8'),
    values: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 13 }),
    before: fc.nat(3),
  })
  .map(({ kind, values, before }) => {
    const make = (n: number): TypedArray => {
      switch (kind) {
        case 'float32':
          return new Float32Array(n);
        case 'float64':
          return new Float64Array(n);
        case 'int32':
          return new Int32Array(n);
        case 'uint32':
          return new Uint32Array(n);
        default:
          return new Uint8Array(n);
      }
    };
    const whole = make(before + values.length + 2).fill(99);
    const view = whole.subarray(before, before + values.length);
    values.forEach((v, i) => {
      view[i] = kind === 'float32' || kind === 'float64' ? v / 7 : Math.abs(v) % 250;
    });
    return view;
  });

const namedArrays = fc.dictionary(fc.stringMatching(/^[a-zA-Z]{1,6}$/), typedArray, { maxKeys: 6 });

function concat(pieces: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

describe('artifactPieces', () => {
  it("gives makeArtifact's manifest, and pieces that are its payload byte for byte", () => {
    fc.assert(
      fc.property(namedArrays, (arrays) => {
        const packed = makeArtifact(MANIFEST, arrays);
        const { manifest, pieces } = artifactPieces({ manifest: MANIFEST, arrays });
        expect(manifest).toEqual(packed.manifest);
        expect(Buffer.from(concat(pieces)).equals(Buffer.from(packed.payload))).toBe(true);
        // No empty piece (each one costs a write).
        expect(pieces.every((p) => p.byteLength > 0)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("views the arrays' own memory (no copy)", () => {
    const big = new Float32Array(6).fill(1.5);
    const { pieces } = artifactPieces({ manifest: MANIFEST, arrays: { big } });
    expect(pieces).toHaveLength(1);
    expect(pieces[0]?.buffer).toBe(big.buffer);
  });
});

describe('writeArtifactPartsDir', () => {
  it('writes the files writeArtifactDir(makeArtifact(...)) writes, and they read back', async () => {
    const samples = fc.sample(namedArrays, { numRuns: 20, seed: 3 });
    samples.push({ v: new Float64Array([1, 2]), w: new Uint8Array([1, 2, 3]), x: new Float32Array(0), y: new Int32Array([-5]) });
    for (const [k, arrays] of samples.entries()) {
      const packed = join(dir, `packed-${k}`);
      const streamed = join(dir, `streamed-${k}`);
      await writeArtifactDir(packed, makeArtifact(MANIFEST, arrays));
      await writeArtifactPartsDir(streamed, { manifest: MANIFEST, arrays });
      for (const file of ['manifest.json', 'model.bin']) {
        expect(readFileSync(join(streamed, file)).equals(readFileSync(join(packed, file))), `${k} ${file}`).toBe(true);
      }
      const back = await readArtifactDir(streamed);
      expect(back).toEqual(makeArtifact(MANIFEST, arrays));
    }
  });

  it('a manifest read back is still checked (the schema loads on read)', async () => {
    const streamed = join(dir, 'bad');
    await writeArtifactPartsDir(streamed, { manifest: MANIFEST, arrays: { a: new Float32Array(2) } });
    const manifest = JSON.parse(readFileSync(join(streamed, 'manifest.json'), 'utf8'));
    writeFileSync(join(streamed, 'manifest.json'), JSON.stringify({ ...manifest, seed: 1.5 }));
    await expect(readArtifactDir(streamed)).rejects.toThrow('invalid manifest: Invalid input: expected int, received number');
  });
});
