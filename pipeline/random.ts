/**
 * Seeded randomness that gives the same numbers on every machine: sfc32 (a 128-bit
 * state, 32-bit integer generator built from Math.imul-free adds, xors and shifts),
 * seeded by hashing a string key (cyrb128 mixed through splitmix32). Continuous draws
 * use only IEEE-exact arithmetic plus V8's fdlibm `Math.log`/`Math.exp`, so a seed
 * reproduces bytes across platforms.
 *
 * `fork(label)` derives a new stream from the seed key and the label, not from the
 * current state, so streams are independent of how much was drawn before: adding a
 * carrier or a run never changes another one's data.
 *
 * @example
 *   const rng = new Rng('campaign-1');
 *   const kpn = rng.fork('KPN');        // same stream whatever else is simulated
 *   kpn.int(1024, 65535); kpn.uuid();
 */
import { logGamma } from './fit/stats/special.ts';

/** 128 bits of a string, as four 32-bit words (cyrb128). */
function cyrb128(str: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** One splitmix32 step: a well-mixed 32-bit value from any 32-bit input. */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const TWO_32 = 4294967296;

// One log-gamma for the project (the Beta fit's, accurate for tiny shapes too).
export { logGamma };

/**
 * The version-4 UUID text of four random 32-bit words: the version nibble and the
 * variant bits overwrite bits of the second and third word (122 random bits remain).
 */
export function uuidFromWords(a: number, b: number, c: number, d: number): string {
  const v = (b & 0x0fff) | 0x4000;
  const w = ((c >>> 16) & 0x3fff) | 0x8000;
  return (
    HEX[a >>> 24]! + HEX[(a >>> 16) & 255]! + HEX[(a >>> 8) & 255]! + HEX[a & 255]! + '-' +
    HEX[b >>> 24]! + HEX[(b >>> 16) & 255]! + '-' +
    HEX[v >>> 8]! + HEX[v & 255]! + '-' +
    HEX[w >>> 8]! + HEX[w & 255]! + '-' +
    HEX[(c >>> 8) & 255]! + HEX[c & 255]! +
    HEX[d >>> 24]! + HEX[(d >>> 16) & 255]! + HEX[(d >>> 8) & 255]! + HEX[d & 255]!
  );
}

export class Rng {
  /** The string the stream was derived from: the seed, then `/label` per fork. */
  readonly key: string;
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: string | number) {
    this.key = String(seed);
    const h = cyrb128(this.key);
    this.a = splitmix32(h[0]);
    this.b = splitmix32(h[1]);
    this.c = splitmix32(h[2]);
    this.d = splitmix32(h[3]);
    // sfc32 needs a few rounds to spread the seed through the counter word.
    for (let i = 0; i < 15; i++) this.u32();
  }

  /** An independent stream derived from this stream's key and `label` (not its state). */
  fork(label: string): Rng {
    return new Rng(`${this.key}/${label}`);
  }

  /** A uniform 32-bit unsigned integer (sfc32). */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  /** Uniform integer in [lo, hi], both inclusive (spans up to 2^32). */
  int(lo: number, hi: number): number {
    if (!(hi >= lo)) throw new RangeError(`Rng.int: empty range [${lo}, ${hi}]`);
    const span = hi - lo + 1;
    if (span > TWO_32) return lo + Math.floor(this.next() * span);
    // Rejection keeps small ranges exactly uniform (Lemire-style threshold on 32 bits).
    const limit = TWO_32 - (TWO_32 % span);
    let x = this.u32();
    while (x >= limit) x = this.u32();
    return lo + (x % span);
  }

  bernoulli(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.u32() < p * TWO_32;
  }

  /** Normal(mu, sigma) by Marsaglia's polar method (no trigonometry). */
  normal(mu = 0, sigma = 1): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return mu + sigma * this.spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    this.hasSpare = true;
    return mu + sigma * u * f;
  }

  /** Exponential with the given rate (mean 1/rate). */
  exponential(rate = 1): number {
    return -Math.log(1 - this.next()) / rate;
  }

  /** Gamma(shape, scale) by Marsaglia–Tsang; shape < 1 boosted through U^(1/shape). */
  gamma(shape: number, scale = 1): number {
    if (!(shape > 0)) throw new RangeError(`Rng.gamma: shape must be > 0, got ${shape}`);
    if (shape < 1) {
      const g = this.gamma(shape + 1, 1);
      return scale * g * Math.exp(Math.log(1 - this.next()) / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.next();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return scale * d * v;
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return scale * d * v;
    }
  }

  /** Beta(a, b) as X/(X+Y) of two gammas. */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }

  /**
   * Poisson(lambda): Knuth's product method below 30, Hörmann's PTRS (transformed
   * rejection with squeeze, exact) above, so large rates cost O(1).
   */
  poisson(lambda: number): number {
    if (!(lambda >= 0)) throw new RangeError(`Rng.poisson: lambda must be >= 0, got ${lambda}`);
    if (lambda === 0) return 0;
    if (lambda < 30) {
      const limit = Math.exp(-lambda);
      let k = 0;
      let p = this.next();
      while (p > limit) {
        k += 1;
        p *= this.next();
      }
      return k;
    }
    const slam = Math.sqrt(lambda);
    const loglam = Math.log(lambda);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invalpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.next() - 0.5;
      const v = this.next();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logGamma(k + 1)) return k;
    }
  }

  /** Geometric number of failures before the first success, with the given mean. */
  geometric(mean: number): number {
    if (!(mean > 0)) return 0;
    const p = 1 / (1 + mean);
    return Math.floor(Math.log(1 - this.next()) / Math.log(1 - p));
  }

  /** An RFC 4122 version-4 UUID, lowercase, from this stream (four u32 draws, see uuidFromWords). */
  uuid(): string {
    return uuidFromWords(this.u32(), this.u32(), this.u32(), this.u32());
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick: empty array');
    return items[this.int(0, items.length - 1)]!;
  }

  /** Fisher–Yates in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }
}
