/**
 * Samplers over a table's segments: inverse CDF by binary search over the cumulative
 * masses, then uniform within the chosen segment, from ONE uniform draw per port (the
 * leftover fraction of the draw picks the port inside the segment). The caller owns the
 * randomness: pass any `() => number` uniform on [0, 1), seeded for reproducible runs.
 * `natatlas export` emits the same algorithm as TypeScript and Kotlin source.
 */
import type { BiasTable, DeltaSegment, PortSegment } from './types.js';

/** A uniform draw on [0, 1) (a seeded PRNG's `next`, or `Math.random` when replay does not matter). */
export type Uniform = () => number;

const PORT_MAX = 65535;

/**
 * A sampler of the integers covered by `segments` (`[from, to, mass]`, inclusive ranges),
 * each segment chosen with probability proportional to its mass and every integer in it
 * equally likely. Masses need not sum to exactly 1; they are normalised.
 */
export function segmentSampler(segments: readonly (PortSegment | DeltaSegment)[]): (random: Uniform) => number {
  const n = segments.length;
  if (n === 0) throw new RangeError('segmentSampler: no segments to sample from');
  const from = segments.map((s) => s[0]);
  const width = segments.map((s) => s[1] - s[0] + 1);
  const cum = new Float64Array(n);
  let total = 0;
  segments.forEach((s, i) => {
    if (!(s[2] >= 0) || !(width[i]! >= 1)) throw new RangeError(`segmentSampler: segment ${i} [${s[0]}, ${s[1]}, ${s[2]}] is not a range with a mass >= 0`);
    total += s[2];
    cum[i] = total;
  });
  if (!(total > 0)) throw new RangeError('segmentSampler: the masses sum to 0');
  for (let i = 0; i < n; i++) cum[i]! /= total;
  cum[n - 1] = 1;
  return (random) => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u < cum[mid]!) hi = mid;
      else lo = mid + 1;
    }
    const below = lo === 0 ? 0 : cum[lo - 1]!;
    const w = width[lo]!;
    const offset = Math.floor(((u - below) / (cum[lo]! - below)) * w);
    return from[lo]! + Math.min(w - 1, Math.max(0, offset));
  };
}

/** A sampler of the port a fresh mapping gets: the table's marginal. */
export function marginalSampler(table: Pick<BiasTable, 'marginal'>): (random: Uniform) => number {
  return segmentSampler(table.marginal);
}

/**
 * A sampler of the next port given the last one seen, under the table's conditional model:
 * - `block`: with probability `pSameBlock` a port of the last port's aligned block
 *   (uniform within it), otherwise a fresh draw from the marginal;
 * - `delta`: the last port plus a gap drawn from the gap histogram, or a fresh marginal
 *   draw when that leaves 0..65535 (the NAT's counter wrapped);
 * - none: the marginal (ports are independent).
 */
export function conditionalSampler(table: Pick<BiasTable, 'marginal' | 'conditional'>): (last: number, random: Uniform) => number {
  const marginal = marginalSampler(table);
  const c = table.conditional;
  if (c === null) return (_last, random) => marginal(random);
  if (c.kind === 'block') {
    const { blockSize, pSameBlock } = c;
    return (last, random) => {
      if (random() >= pSameBlock) return marginal(random);
      const base = last - (last % blockSize);
      return Math.min(PORT_MAX, base + Math.floor(random() * blockSize));
    };
  }
  const gap = segmentSampler(c.segments);
  return (last, random) => {
    const next = last + gap(random);
    return next >= 0 && next <= PORT_MAX ? next : marginal(random);
  };
}
