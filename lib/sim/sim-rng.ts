/**
 * Hash helpers of the simulator's hot loop. (Its per-listener-day generator is the core Rng, reseeded
 * in place: `Rng.reseed`.)
 */
/** FNV-1a 32-bit of `text` continued from the state `h` (hashString(a + b) === fnvContinue(hashString(a), b)). */
export function fnvContinue(h: number, text: string): number {
  let x = h;
  for (let i = 0; i < text.length; i++) {
    x ^= text.charCodeAt(i);
    x = Math.imul(x, 0x01000193);
  }
  return x >>> 0;
}
