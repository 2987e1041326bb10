/**
 * The core Rng's generator (sfc32 seeded through splitmix32), reseedable in place. The simulator seeds
 * one generator per user per day; a new Rng each time was an allocation and a closure per user-day.
 * For the same seed it gives the same numbers as `new Rng(seed)` (a test holds them equal).
 */
export class SimRng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(seed = 0) {
    this.reseed(seed);
  }

  reseed(seed: number): this {
    let s = seed >>> 0;
    s = (s + 0x9e3779b9) >>> 0;
    this.a = splitmix(s);
    s = (s + 0x9e3779b9) >>> 0;
    this.b = splitmix(s);
    s = (s + 0x9e3779b9) >>> 0;
    this.c = splitmix(s);
    s = (s + 0x9e3779b9) >>> 0;
    this.d = splitmix(s);
    for (let i = 0; i < 12; i++) this.nextUint32();
    return this;
  }

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
}

function splitmix(s: number): number {
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a 32-bit of `text` continued from the state `h` (hashString(a + b) === fnvContinue(hashString(a), b)). */
export function fnvContinue(h: number, text: string): number {
  let x = h;
  for (let i = 0; i < text.length; i++) {
    x ^= text.charCodeAt(i);
    x = Math.imul(x, 0x01000193);
  }
  return x >>> 0;
}
