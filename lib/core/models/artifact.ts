/**
 * Model artifacts: a JSON manifest plus one binary payload of named typed arrays.
 *
 * Loading maps each section onto the payload buffer as a typed-array view (no per-number parsing),
 * so a large model loads in the time it takes to read the file. Sections are 8-byte aligned, and
 * little-endian (every platform Lambda and SageMaker run on).
 */
// Types only: the schema (and zod) load when a manifest is read (artifact-schema.ts), never to write one.
import type { z } from 'zod';
import type { ModelManifestSchema, SectionSchema } from './artifact-schema.ts';

export const ARTIFACT_FORMAT = 'home-shelves/model@1';

export const DTYPES = ['float32', 'float64', 'int32', 'uint32', 'uint8'] as const;
export type Dtype = (typeof DTYPES)[number];
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

export type Section = z.infer<typeof SectionSchema>;

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

/** The section table of named typed arrays: sorted by name, each at the next 8-byte boundary. */
function layoutSections(arrays: Readonly<Record<string, TypedArray>>): { sections: Section[]; payloadBytes: number } {
  const names = Object.keys(arrays).sort();
  const sections: Section[] = [];
  let offset = 0;
  for (const name of names) {
    const array = arrays[name] as TypedArray;
    offset = Math.ceil(offset / 8) * 8;
    sections.push({ name, dtype: dtypeOf(array), offset, length: array.length });
    offset += array.byteLength;
  }
  return { sections, payloadBytes: Math.ceil(offset / 8) * 8 };
}

function bytesOf(array: TypedArray): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Packs named typed arrays into one payload; returns the payload and the section table. */
export function packSections(arrays: Readonly<Record<string, TypedArray>>): { payload: Uint8Array; sections: Section[] } {
  const { sections, payloadBytes } = layoutSections(arrays);
  const payload = new Uint8Array(payloadBytes);
  for (const section of sections) payload.set(bytesOf(arrays[section.name] as TypedArray), section.offset);
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

/** An artifact before packing: the manifest without sections/payloadBytes, and the named arrays. */
export interface ArtifactParts {
  readonly manifest: Omit<ModelManifest, 'format' | 'sections' | 'payloadBytes'>;
  readonly arrays: Readonly<Record<string, TypedArray>>;
}

/** Builds an artifact from a manifest (without sections/payloadBytes) and named arrays. */
export function makeArtifact(manifest: ArtifactParts['manifest'], arrays: ArtifactParts['arrays']): ModelArtifact {
  const { payload, sections } = packSections(arrays);
  return { manifest: { format: ARTIFACT_FORMAT, ...manifest, sections, payloadBytes: payload.byteLength }, payload };
}

/**
 * The artifact makeArtifact would build, as its manifest and its payload in pieces: views of the
 * arrays' own memory and the zero padding between them, in order (concatenated, they are the payload
 * byte for byte). For a writer that streams the payload to a file: the packed copy of a large model
 * (18 MB for 50k users and 20k items at dim 64) costs fresh memory and a pass over it. The pieces are
 * views: write them before the arrays change.
 */
export function artifactPieces(parts: ArtifactParts): { manifest: ModelManifest; pieces: Uint8Array[] } {
  const { sections, payloadBytes } = layoutSections(parts.arrays);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const section of sections) {
    if (section.offset > at) pieces.push(new Uint8Array(section.offset - at));
    const bytes = bytesOf(parts.arrays[section.name] as TypedArray);
    if (bytes.byteLength > 0) pieces.push(bytes);
    at = section.offset + bytes.byteLength;
  }
  if (payloadBytes > at) pieces.push(new Uint8Array(payloadBytes - at));
  return { manifest: { format: ARTIFACT_FORMAT, ...parts.manifest, sections, payloadBytes }, pieces };
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
