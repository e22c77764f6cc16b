/**
 * Piecewise-uniform allocation: the ports fall in a few ranges, each uniform inside
 * (real allocators have steps: two pools, a reserved range, a preferred half). The
 * change points are chosen on a grid of `bin`-port cells by dynamic programming, the
 * best split for every number of pieces up to `maxPieces`, and the number of pieces by
 * BIC (each piece beyond the first costs a change point and a mass), so uniform data
 * stay one piece however many ports they have.
 */
import type { Numbers } from './stats/beta.ts';

export interface PiecewiseFit {
  /** [fromPort, toPort, mass], sorted, covering [min, max]; a piece may have mass 0. */
  pieces: [number, number, number][];
  logLik: number;
  /** Free parameters: 2 per piece (change point or range end, and mass), the masses summing to 1. */
  k: number;
  /** BIC of each number of pieces tried (index = pieces - 1). */
  bicByPieces: number[];
}

export const PIECEWISE_BIN = 64;
export const MAX_PIECES = 6;

/** Free parameters of s pieces: the range's two ends, s - 1 change points, s - 1 masses. */
export function piecewiseK(s: number): number {
  return 2 * s;
}

export function fitPiecewise(xs: Numbers, bin = PIECEWISE_BIN, maxPieces = MAX_PIECES): PiecewiseFit {
  const n = xs.length;
  if (n === 0) throw new RangeError('fitPiecewise: no values');
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    if (xs[i]! < min) min = xs[i]!;
    if (xs[i]! > max) max = xs[i]!;
  }
  // Cells of `bin` ports from min; the last may be narrower.
  const cells = Math.ceil((max - min + 1) / bin);
  const count = new Float64Array(cells);
  for (let i = 0; i < n; i++) count[Math.floor((xs[i]! - min) / bin)]! += 1;
  const cumCount = new Float64Array(cells + 1);
  const cumWidth = new Float64Array(cells + 1);
  for (let c = 0; c < cells; c++) {
    cumCount[c + 1] = cumCount[c]! + count[c]!;
    cumWidth[c + 1] = cumWidth[c]! + (Math.min(max, min + (c + 1) * bin - 1) - (min + c * bin) + 1);
  }
  // Log-likelihood of cells [i, j) as one piece with its MLE mass c/n spread over its width.
  const piece = (i: number, j: number) => {
    const c = cumCount[j]! - cumCount[i]!;
    return c > 0 ? c * Math.log(c / (n * (cumWidth[j]! - cumWidth[i]!))) : 0;
  };
  const S = Math.min(maxPieces, cells);
  // best[s - 1][j]: best log-likelihood of cells [0, j) in s pieces; from[s - 1][j]: where the last piece starts.
  const best: Float64Array[] = [];
  const from: Int32Array[] = [];
  for (let s = 1; s <= S; s++) {
    best.push(new Float64Array(cells + 1).fill(-Infinity));
    from.push(new Int32Array(cells + 1));
  }
  // Column by column, so each piece's log-likelihood is computed once for every number of pieces.
  const endingAt = new Float64Array(cells);
  for (let j = 1; j <= cells; j++) {
    for (let i = 0; i < j; i++) endingAt[i] = piece(i, j);
    best[0]![j] = endingAt[0]!;
    for (let s = 2; s <= Math.min(S, j); s++) {
      const prev = best[s - 2]!;
      const b = best[s - 1]!;
      const f = from[s - 1]!;
      for (let i = s - 1; i < j; i++) {
        const v = prev[i]! + endingAt[i]!;
        if (v > b[j]!) {
          b[j] = v;
          f[j] = i;
        }
      }
    }
  }
  const bicByPieces = best.map((b, s) => piecewiseK(s + 1) * Math.log(n) - 2 * b[cells]!);
  let s = 0;
  for (let t = 1; t < S; t++) if (bicByPieces[t]! < bicByPieces[s]!) s = t;
  // Walk the change points back.
  const cuts: number[] = [cells];
  for (let t = s, j = cells; t > 0; t--) {
    j = from[t]![j]!;
    cuts.unshift(j);
  }
  cuts.unshift(0);
  const pieces: [number, number, number][] = [];
  for (let p = 0; p + 1 < cuts.length; p++) {
    const i = cuts[p]!;
    const j = cuts[p + 1]!;
    pieces.push([min + i * bin, Math.min(max, min + j * bin - 1), (cumCount[j]! - cumCount[i]!) / n]);
  }
  return { pieces, logLik: best[s]![cells]!, k: piecewiseK(s + 1), bicByPieces };
}

/** log P(port = x) under the pieces; -Infinity outside them or in an empty piece. */
export function piecewiseLogPmf(pieces: readonly [number, number, number][], x: number): number {
  for (const [from, to, mass] of pieces) if (x >= from && x <= to) return mass > 0 ? Math.log(mass / (to - from + 1)) : -Infinity;
  return -Infinity;
}

/** P(port <= x). */
export function piecewiseCdf(pieces: readonly [number, number, number][]): (x: number) => number {
  return (x: number) => {
    let acc = 0;
    for (const [from, to, mass] of pieces) {
      if (x >= to) acc += mass;
      else if (x >= from) return acc + (mass * (Math.floor(x) - from + 1)) / (to - from + 1);
      else return acc;
    }
    return acc;
  };
}
