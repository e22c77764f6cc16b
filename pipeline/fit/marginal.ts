/**
 * The bias table's `marginal`: where the next external port falls, as sorted, disjoint,
 * inclusive port ranges with masses summing to 1. The fitted model's mass is taken on
 * aligned bins of `binWidth` ports inside its support, empty bins are dropped, and
 * adjacent bins are merged where their densities are closest (the merge that loses
 * the least Kullback–Leibler information) until at most `maxSegments` remain.
 */

export type Segment = [from: number, to: number, mass: number];

export const MARGINAL_BIN = 64;
export const MAX_SEGMENTS = 128;
/** A merge losing less than this (nats) changes nothing a table can express. */
const LOSSLESS = 1e-12;
/** Masses are rounded to this many decimals so tables are compact and byte-stable. */
const MASS_DECIMALS = 12;

/** Mass of each aligned bin from a CDF over integer ports, F(x) = P(port <= x). */
export function binsFromCdf(cdf: (x: number) => number, lo: number, hi: number, binWidth = MARGINAL_BIN): Segment[] {
  const out: Segment[] = [];
  let start = lo;
  let prev = cdf(lo - 1);
  while (start <= hi) {
    const end = Math.min(hi, (Math.floor(start / binWidth) + 1) * binWidth - 1);
    const f = cdf(end);
    out.push([start, end, Math.max(0, f - prev)]);
    prev = f;
    start = end + 1;
  }
  return out;
}

function mergeLoss(a: Segment, b: Segment): number {
  const wa = a[1] - a[0] + 1;
  const wb = b[1] - b[0] + 1;
  const m = a[2] + b[2];
  const term = (mass: number, w: number) => (mass > 0 ? mass * Math.log(mass / w) : 0);
  return term(a[2], wa) + term(b[2], wb) - term(m, wa + wb);
}

/** Drop empty bins, merge the closest adjacent pairs down to `maxSegments`, normalise and round. */
export function compactSegments(bins: Segment[], maxSegments = MAX_SEGMENTS): Segment[] {
  const segs: Segment[] = bins.filter((s) => s[2] > 0).map((s) => [s[0], s[1], s[2]]);
  // loss[i]: what merging segs[i] and segs[i + 1] loses (Infinity: not adjacent). A merge
  // changes only its two neighbours' losses, so the rest are kept, not recomputed.
  const pairLoss = (i: number) => (segs[i]![1] + 1 === segs[i + 1]![0] ? mergeLoss(segs[i]!, segs[i + 1]!) : Infinity);
  const loss = Array.from({ length: Math.max(0, segs.length - 1) }, (_, i) => pairLoss(i));
  for (;;) {
    let best = -1;
    let bestLoss = Infinity;
    for (let i = 0; i < loss.length; i++) {
      if (loss[i]! < bestLoss) {
        bestLoss = loss[i]!;
        best = i;
      }
    }
    // Past the cap, keep merging only what loses nothing (equal densities).
    if (best < 0 || (segs.length <= maxSegments && bestLoss > LOSSLESS)) break;
    const a = segs[best]!;
    const b = segs[best + 1]!;
    segs.splice(best, 2, [a[0], b[1], a[2] + b[2]]);
    loss.splice(best, 1);
    if (best > 0) loss[best - 1] = pairLoss(best - 1);
    if (best < loss.length) loss[best] = pairLoss(best);
  }
  return normalise(segs);
}

/** Masses rounded to 12 decimals that sum to 1 (the rounding residue goes to the largest). */
export function normalise(segs: Segment[]): Segment[] {
  const total = segs.reduce((s, x) => s + x[2], 0);
  if (total <= 0) return [];
  const scale = 10 ** MASS_DECIMALS;
  const ints = segs.map((s) => Math.round((s[2] / total) * scale));
  const residue = scale - ints.reduce((s, v) => s + v, 0);
  let largest = 0;
  ints.forEach((v, i) => {
    if (v > ints[largest]!) largest = i;
  });
  ints[largest]! += residue;
  return segs.map((s, i) => [s[0], s[1], ints[i]! / scale] as Segment).filter((s) => s[2] > 0);
}

/**
 * A block NAT's marginal: where blocks fall (the family fitted to one port per block
 * visit, `cdf`) taken per aligned block over the observed range widened to block edges,
 * and spread evenly inside each block, since a visit hands out any offset of its block.
 * Every block that holds a visit start gets mass, so every port the NAT was seen to use
 * has some.
 */
export function blockMarginal(cdf: (x: number) => number, blockSize: number, observed: [number, number]): Segment[] {
  const lo = Math.floor(observed[0] / blockSize) * blockSize;
  const hi = Math.min(65535, Math.floor(observed[1] / blockSize) * blockSize + blockSize - 1);
  return compactSegments(binsFromCdf(cdf, lo, hi, blockSize));
}

/** Total-variation distance between two segment lists over integer ports (uniform within segments). */
export function totalVariation(a: Segment[], b: Segment[]): number {
  const cuts = new Set<number>();
  for (const s of [...a, ...b]) {
    cuts.add(s[0]);
    cuts.add(s[1] + 1);
  }
  const edges = [...cuts].sort((x, y) => x - y);
  const density = (segs: Segment[], x: number) => {
    for (const s of segs) if (x >= s[0] && x <= s[1]) return s[2] / (s[1] - s[0] + 1);
    return 0;
  };
  let tv = 0;
  for (let i = 0; i + 1 < edges.length; i++) {
    const w = edges[i + 1]! - edges[i]!;
    tv += Math.abs(density(a, edges[i]!) - density(b, edges[i]!)) * w;
  }
  return tv / 2;
}
