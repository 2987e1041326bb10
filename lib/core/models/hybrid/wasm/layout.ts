/**
 * The one description of the wasm kernel's control block: the per-shard record, in shared memory,
 * through which runner.ts hands the kernel its arrays and settings.
 *
 * Both sides use this table by name: the runner writes every field with writeControl (its type asks
 * for every field, so a new field cannot be forgotten), and kernel.wat reads `offset=@name`, which
 * scripts/build-wasm.ts replaces with the byte offsets below before compiling (an unknown name fails
 * the build). The committed binary is checked against a fresh build by a test, so the table, the .wat
 * and the binary cannot drift apart.
 */

/** i32 fields, in order, 4 bytes each from byte 0: array byte offsets, sizes, switches, rng state. */
const I32_FIELDS = [
  'dim',
  'nItems',
  'userPtr',
  'userFeat',
  'userWeight',
  'itemPtr',
  'itemFeat',
  'itemWeight',
  'coldPtr',
  'coldFeat',
  'coldWeight',
  'posUser',
  'posItem',
  'posWeight',
  'seenPtr',
  'seenItem',
  'order',
  'userEmb',
  'userAcc',
  'userMom',
  'itemEmb',
  'itemAcc',
  'itemMom',
  'itemBias',
  'itemBiasAcc',
  'itemBiasMom',
  /** 0 WARP, 1 BPR. */
  'loss',
  /** 0 Adagrad, 1 Adam, 2 row-wise Adagrad (one accumulator per feature row). */
  'optimizer',
  'maxSampled',
  'scratchUser',
  'scratchPos',
  'scratchNeg',
  'scratchGrad',
  /** sfc32 state words (lib/core/rng.ts), written back by the kernel at the end of a shard. */
  'rngA',
  'rngB',
  'rngC',
  'rngD',
  /** Byte offset of the f64 table log(floor((nItems - 1) / s)), s = 0..maxSampled (WARP's rank weight). */
  'logTable',
  /** Out: positives processed. */
  'samples',
] as const;

/** f64 fields, in order, 8 bytes each from F64_START. */
const F64_FIELDS = ['learningRate', 'l2', 'identityDropout', 'beta1Pow', 'beta2Pow'] as const;

const F64_START = 192;

export type ControlI32 = (typeof I32_FIELDS)[number];
export type ControlF64 = (typeof F64_FIELDS)[number];
export type ControlField = ControlI32 | ControlF64;

/** Bytes reserved per control block. */
export const CONTROL_BYTES = 256;

/** Every field's byte offset and type. */
export const CONTROL_LAYOUT: Readonly<Record<ControlField, { readonly offset: number; readonly type: 'i32' | 'f64' }>> = (() => {
  const out = {} as Record<ControlField, { offset: number; type: 'i32' | 'f64' }>;
  I32_FIELDS.forEach((name, k) => {
    out[name] = { offset: k * 4, type: 'i32' };
  });
  F64_FIELDS.forEach((name, k) => {
    out[name] = { offset: F64_START + k * 8, type: 'f64' };
  });
  return out;
})();

if (I32_FIELDS.length * 4 > F64_START || F64_START + F64_FIELDS.length * 8 > CONTROL_BYTES) {
  throw new RangeError(`control block fields need ${F64_START + F64_FIELDS.length * 8} bytes, expected at most ${CONTROL_BYTES}`);
}

/** Writes every field of one control block at byte `ctx` of `buffer`. */
export function writeControl(buffer: ArrayBufferLike, ctx: number, values: Readonly<Record<ControlField, number>>): void {
  const view = new DataView(buffer, ctx, CONTROL_BYTES);
  for (const name of I32_FIELDS) view.setInt32(CONTROL_LAYOUT[name].offset, values[name] | 0, true);
  for (const name of F64_FIELDS) view.setFloat64(CONTROL_LAYOUT[name].offset, values[name], true);
}

/** Reads one i32 field of a control block (for the fields the kernel writes back). */
export function readControlI32(buffer: ArrayBufferLike, ctx: number, name: ControlI32): number {
  return new DataView(buffer, ctx, CONTROL_BYTES).getInt32(CONTROL_LAYOUT[name].offset, true);
}

/**
 * Replaces every `@name` of the kernel source with that field's byte offset; throws on a name the
 * table does not have, so a typo cannot compile.
 */
export function substituteLayout(wat: string): string {
  return wat.replace(/@([A-Za-z][A-Za-z0-9]*)/g, (_, name: string) => {
    const field = (CONTROL_LAYOUT as Record<string, { offset: number } | undefined>)[name];
    if (field === undefined)
      throw new RangeError(`kernel.wat reads control field @${name}, expected one of ${Object.keys(CONTROL_LAYOUT).join(', ')}`);
    return String(field.offset);
  });
}
