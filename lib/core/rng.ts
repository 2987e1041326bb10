/**
 * Seeded pseudo-random numbers. Nothing in the core calls Math.random: every random choice takes an
 * Rng, so the same seed gives the same data, model and metrics.
 */

/** A seeded generator (sfc32 seeded through splitmix32): fast, 32-bit state words, period ~2^128. */
export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(seed: number) {
    this.reseed(seed);
  }

  /**
   * Starts the sequence of `seed` again in place: the same numbers as `new Rng(seed)`, without an
   * allocation (the simulator seeds one generator per listener per day).
   */
  reseed(seed: number): this {
    let s = seed >>> 0;
    s = (s + 0x9e3779b9) >>> 0;
    this.a = splitmix32(s);
    s = (s + 0x9e3779b9) >>> 0;
    this.b = splitmix32(s);
    s = (s + 0x9e3779b9) >>> 0;
    this.c = splitmix32(s);
    s = (s + 0x9e3779b9) >>> 0;
    this.d = splitmix32(s);
    for (let i = 0; i < 12; i++) this.nextUint32();
    return this;
  }

  /** A uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A standard normal deviate (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** The four 32-bit state words (for a kernel that runs the same generator elsewhere, e.g. in wasm). */
  state(): [number, number, number, number] {
    return [this.a, this.b, this.c, this.d];
  }

  /** A child generator whose stream is independent of this one's future draws. */
  fork(label: number | string): Rng {
    const salt = typeof label === 'number' ? label : hashString(label);
    return new Rng((this.nextUint32() ^ Math.imul(salt >>> 0, 0x9e3779b1)) >>> 0);
  }

  /** Shuffles `array` in place (Fisher-Yates) and returns it. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i] as T;
      array[i] = array[j] as T;
      array[j] = tmp;
    }
    return array;
  }
}

/** FNV-1a 32-bit hash of a string; stable across runs and platforms. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The splitmix32 output function of state `s`: seeds sfc32's four words. */
function splitmix32(s: number): number {
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}
