/**
 * Block allocation: the NAT hands a subscriber ports inside one aligned block (256
 * ports on the Dutch carriers measured) until it has used some number of them, then
 * moves to a new block. Detection scores every power-of-two block size by the
 * likelihood of the allocation sequence under "stay in the previous port's block with
 * probability q, else jump anywhere"; the best size wins, and 2x or 0.5x of it score
 * visibly worse (halves of a block are left half the time; doubled blocks dilute q/s).
 */
import { startsRun, type Allocations } from './allocations.ts';

export interface BlockSizeScore {
  size: number;
  pSame: number;
  logLik: number;
  /** Consecutive pairs of a run, and how many of them stay in one block. */
  pairs: number;
  same: number;
}

export interface BlockFit {
  blockSize: number;
  /** Probability that the next allocation stays in the previous one's block. */
  pSameBlock: number;
  /** Mean allocations per block visit, from visits not cut by a run's start or end, corrected for lost packets. */
  perBlock: number;
  /** Visits that were complete (counted for perBlock). */
  visits: number;
  blocksSeen: number;
  min: number;
  max: number;
  logLik: number;
  /**
   * How far above chance consecutive allocations share a block, in standard errors: a
   * NAT drawing uniformly over R ports stays in an s-port block with probability s/R.
   */
  clusteringZ: number;
  /** Parameters: block size, q, min, max. */
  k: number;
  sizes: BlockSizeScore[];
}

export const BLOCK_SIZES = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096] as const;

/** Whether two ports lie in one aligned block of `size` ports. */
const sameBlock = (x: number, y: number, size: number) => Math.floor(x / size) === Math.floor(y / size);

function scoreSize(a: Allocations, size: number, rangeSize: number): BlockSizeScore {
  let pairs = 0;
  let same = 0;
  for (let i = 1; i < a.n; i++) {
    if (startsRun(a, i)) continue;
    pairs += 1;
    if (sameBlock(a.port[i - 1]!, a.port[i]!, size)) same += 1;
  }
  const q = pairs === 0 ? 0 : same / pairs;
  return { size, pSame: q, logLik: blockLogLik(a, size, q, rangeSize), pairs, same };
}

/** log P(allocation i | the one before it in its run) under a block model, its three logarithms taken once. */
export function blockLogProb(size: number, q: number, rangeSize: number): (a: Allocations, i: number) => number {
  const start = -Math.log(rangeSize);
  const stay = Math.log(q / size + (1 - q) / rangeSize);
  const leave = Math.log(Math.max(1 - q, 1e-12) / rangeSize);
  return (a, i) => {
    if (startsRun(a, i)) return start;
    return sameBlock(a.port[i - 1]!, a.port[i]!, size) ? stay : leave;
  };
}

/** Log-likelihood of the allocation sequence under a block model. */
export function blockLogLik(a: Allocations, size: number, q: number, rangeSize: number): number {
  const logProb = blockLogProb(size, q, rangeSize);
  let ll = 0;
  for (let i = 0; i < a.n; i++) ll += logProb(a, i);
  return ll;
}

export function fitBlock(a: Allocations, range: [number, number], lossRate: number): BlockFit | null {
  if (a.n < 2) return null;
  const sizes = BLOCK_SIZES.map((s) => {
    const min = Math.floor(range[0] / s) * s;
    const max = Math.floor(range[1] / s) * s + s - 1;
    return scoreSize(a, s, max - min + 1);
  });
  const best = sizes.reduce((x, y) => (y.logLik > x.logLik ? y : x));
  const size = best.size;
  const min = Math.floor(range[0] / size) * size;
  const max = Math.floor(range[1] / size) * size + size - 1;
  // Visits: maximal stretches of consecutive allocations in one block; the first and
  // last of each run are cut short by the capture, not by the NAT, so they are left out.
  // Visit lengths are integers: their count and sum are exact.
  let visits = 0;
  let visitSum = 0;
  const seen = new Uint8Array(Math.ceil(65536 / size));
  let blocksSeen = 0;
  let len = 0;
  let first = true;
  let prev = -1;
  const { port, n } = a;
  for (let i = 0; i < n; i++) {
    const b = Math.floor(port[i]! / size);
    if (seen[b] === 0) {
      seen[b] = 1;
      blocksSeen++;
    }
    const newRun = startsRun(a, i);
    if (newRun || b !== prev) {
      if (i > 0 && !first && !newRun) {
        visits++;
        visitSum += len;
      }
      first = newRun;
      len = 0;
    }
    len += 1;
    prev = b;
  }
  const observed = visits > 0 ? visitSum / visits : n / Math.max(1, blocksSeen);
  // Lost packets were allocated too; the capture saw only (1 - loss) of each visit.
  const perBlock = observed / Math.max(1e-9, 1 - lossRate);
  const chance = size / (max - min + 1);
  const clusteringZ = best.pairs === 0 ? 0 : (best.same - best.pairs * chance) / Math.sqrt(best.pairs * chance * (1 - chance) || 1e-12);
  return {
    blockSize: size, pSameBlock: best.pSame, perBlock, visits, blocksSeen, min, max,
    logLik: best.logLik, clusteringZ, k: 4, sizes,
  };
}
