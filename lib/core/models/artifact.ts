/**
 * Model artifacts: a JSON manifest plus one binary payload of named typed arrays.
 *
 * Loading maps each section onto the payload buffer as a typed-array view (no per-number parsing),
 * so a large model loads in the time it takes to read the file. Sections are 8-byte aligned, and
 * little-endian (every platform Lambda and SageMaker run on).
 */
import { z } from 'zod';

export const ARTIFACT_FORMAT = 'home-shelves/model@1';

export const DTYPES = ['float32', 'float64', 'int32', 'uint32', 'uint8'] as const;
export type Dtype = (typeof DTYPES)[number];
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

const SectionSchema = z.strictObject({
  name: z.string().min(1),
  dtype: z.enum(DTYPES),
  offset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
});
export type Section = z.infer<typeof SectionSchema>;

export const ModelManifestSchema = z.strictObject({
  format: z.literal(ARTIFACT_FORMAT),
  kind: z.string().min(1),
  hyperparameters: z.record(z.string(), z.unknown()),
  transformVersion: z.string(),
  dataSnapshot: z.string(),
  /** Epoch ms of the training cut-off (the data's "now"), not the wall clock: keeps bytes deterministic. */
  trainedAt: z.number(),
  seed: z.number().int(),
  /** Item ids in index order; row i of every per-item section belongs to itemIndex[i]. */
  itemIndex: z.array(z.string()),
  /** Any further JSON state the model needs (user index, feature vocabulary, metrics...). */
  extra: z.record(z.string(), z.unknown()),
  sections: z.array(SectionSchema),
  payloadBytes: z.number().int().nonnegative(),
});
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

export interface ModelArtifact {
  readonly manifest: ModelManifest;
  readonly payload: Uint8Array;
}

const BYTES: Record<Dtype, number> = { float32: 4, float64: 8, int32: 4, uint32: 4, uint8: 1 };

function dtypeOf(array: TypedArray): Dtype {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof Int32Array) return 'int32';
  if (array instanceof Uint32Array) return 'uint32';
  return 'uint8';
}

/** Packs named typed arrays into one payload; returns the payload and the section table. */
export function packSections(arrays: Readonly<Record<string, TypedArray>>): { payload: Uint8Array; sections: Section[] } {
  const names = Object.keys(arrays).sort();
  const sections: Section[] = [];
  let offset = 0;
  for (const name of names) {
    const array = arrays[name] as TypedArray;
    offset = Math.ceil(offset / 8) * 8;
    sections.push({ name, dtype: dtypeOf(array), offset, length: array.length });
    offset += array.byteLength;
  }
  const payload = new Uint8Array(Math.ceil(offset / 8) * 8);
  for (const section of sections) {
    const array = arrays[section.name] as TypedArray;
    payload.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), section.offset);
  }
  return { payload, sections };
}

/** Error thrown when an artifact's payload does not match its manifest. */
export class ArtifactError extends Error {
  override readonly name = 'ArtifactError';
}

/** Views each section of the payload as a typed array (zero-copy when the payload is 8-byte aligned). */
export function unpackSections(artifact: ModelArtifact): Record<string, TypedArray> {
  const { manifest } = artifact;
  let { payload } = artifact;
  if (payload.byteLength !== manifest.payloadBytes) {
    throw new ArtifactError(`payload has ${payload.byteLength} bytes, manifest expects ${manifest.payloadBytes}`);
  }
  if (payload.byteOffset % 8 !== 0) payload = payload.slice(); // realign once; views need aligned offsets
  const out: Record<string, TypedArray> = {};
  for (const s of manifest.sections) {
    const end = s.offset + s.length * BYTES[s.dtype];
    if (end > payload.byteLength) throw new ArtifactError(`section ${s.name} ends at byte ${end}, payload has ${payload.byteLength}`);
    const at = payload.byteOffset + s.offset;
    const buf = payload.buffer;
    switch (s.dtype) {
      case 'float32':
        out[s.name] = new Float32Array(buf, at, s.length);
        break;
      case 'float64':
        out[s.name] = new Float64Array(buf, at, s.length);
        break;
      case 'int32':
        out[s.name] = new Int32Array(buf, at, s.length);
        break;
      case 'uint32':
        out[s.name] = new Uint32Array(buf, at, s.length);
        break;
      case 'uint8':
        out[s.name] = new Uint8Array(buf, at, s.length);
        break;
    }
  }
  return out;
}

/** Builds an artifact from a manifest (without sections/payloadBytes) and named arrays. */
export function makeArtifact(
  manifest: Omit<ModelManifest, 'format' | 'sections' | 'payloadBytes'>,
  arrays: Readonly<Record<string, TypedArray>>,
): ModelArtifact {
  const { payload, sections } = packSections(arrays);
  return { manifest: { format: ARTIFACT_FORMAT, ...manifest, sections, payloadBytes: payload.byteLength }, payload };
}

/** Serializes a manifest to canonical JSON (sorted keys), so equal models give equal bytes. */
export function manifestJson(manifest: ModelManifest): string {
  return `${JSON.stringify(sortKeys(manifest), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return value;
}

/** File names of an artifact directory (local folder, S3 prefix, or /opt/ml/model). */
export const ARTIFACT_FILES = { manifest: 'manifest.json', payload: 'model.bin' } as const;
