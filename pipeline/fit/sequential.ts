/**
 * Sequential allocation: the NAT hands out the next free port of a counter that other
 * subscribers advance too, so the gap between our consecutive allocations is small,
 * positive, and grows with the time between our sends. The model is the empirical
 * distribution of gaps in [1, maxGap] (maxGap: the 99.5th percentile of positive
 * gaps, at most 4096) plus a uniform "jump anywhere" share for wraps and resets;
 * its likelihood makes it comparable to the other families by AIC.
 */
import { startsRun, type Allocations } from './allocations.ts';

export interface SequentialFit {
  /** The NAT's own step per allocation (regression coefficient on sends between). */
  meanStep: number;
  /**
   * Ports per second that other subscribers' traffic adds (regression coefficient on
   * seconds between, constrained to >= 0); 0 when not identified (see rateIdentified).
   */
  ratePerSecond: number;
  /** Whether the sends' spacing varied enough to tell the rate from the step (evenly paced sends without losses cannot). */
  rateIdentified: boolean;
  /** Standard errors of meanStep and ratePerSecond (ordinary least squares); null when not identified or on the >= 0 boundary. */
  stdErr: { meanStep: number; ratePerSecond: number } | null;
  /** Mean observed gap between consecutive joined allocations inside [1, maxGap]. */
  meanGap: number;
  maxGap: number;
  /** Share of consecutive pairs whose gap fell inside [1, maxGap]. */
  inBody: number;
  pairs: number;
  /** Gap histogram over [1, maxGap]: [fromGap, toGap, mass] with masses summing to 1. */
  gaps: [number, number, number][];
  logLik: number;
  k: number;
}

const MAX_GAP_LIMIT = 4096;
/** Bins per gap histogram: fine enough for per-port steps, coarse enough to keep k modest. */
const MAX_BINS = 64;

export function fitSequential(a: Allocations, rangeSize: number): SequentialFit | null {
  // Typed columns and counted sums, not arrays of numbers: a carrier has millions of pairs.
  let pairs = 0;
  for (let i = 1; i < a.n; i++) if (!startsRun(a, i)) pairs++;
  const gaps = new Int32Array(pairs);
  const dts = new Float64Array(pairs);
  const dseqs = new Int32Array(pairs);
  let positives = 0;
  for (let i = 1, k = 0; i < a.n; i++) {
    if (startsRun(a, i)) continue;
    const g = a.port[i]! - a.port[i - 1]!;
    gaps[k] = g;
    dts[k] = (a.time[i]! - a.time[i - 1]!) / 1000;
    dseqs[k] = a.sendSeq[i]! - a.sendSeq[i - 1]!;
    if (g > 0) positives++;
    k++;
  }
  const positive = new Int32Array(positives);
  for (let i = 0, k = 0; i < pairs; i++) if (gaps[i]! > 0) positive[k++] = gaps[i]!;
  positive.sort();
  if (positive.length < 2) return null;
  const maxGap = Math.min(MAX_GAP_LIMIT, positive[Math.min(positive.length - 1, Math.floor(positive.length * 0.995))]!);
  const width = Math.max(1, Math.ceil(maxGap / MAX_BINS));
  const bins = Math.ceil(maxGap / width);
  const counts = new Float64Array(bins);
  // The body's gaps are integers, so their sum is exact in any order.
  let body = 0;
  let bodySum = 0;
  // Normal equations of gap = step * dseq + rate * dt (no intercept).
  let qq = 0, qt = 0, tt = 0, qg = 0, tg = 0, gg = 0;
  for (let i = 0; i < pairs; i++) {
    const g = gaps[i]!;
    if (g >= 1 && g <= maxGap) {
      counts[Math.floor((g - 1) / width)]! += 1;
      body++;
      bodySum += g;
      const q = dseqs[i]!;
      const t = dts[i]!;
      qq += q * q; qt += q * t; tt += t * t; qg += q * g; tg += t * g; gg += g * g;
    }
  }
  const inBody = body / pairs;
  // Half a count per bin so a gap the sample missed is unlikely, not impossible.
  const total = body + bins * 0.5;
  const mass = Array.from(counts, (c) => (c + 0.5) / total);
  const law: GapLaw = { maxGap, width, mass, jump: Math.max(1 - inBody, 0.5 / pairs) };
  const logProb = sequentialLogProb(law, rangeSize);
  let ll = 0;
  for (let i = 0; i < a.n; i++) ll += logProb(a, i);
  const det = qq * tt - qt * qt;
  // Relative determinant: how far the two regressors are from proportional (0 = even pacing, no losses).
  const rateIdentified = body >= 3 && det > 1e-9 * qq * tt;
  // Least squares with both coefficients kept >= 0 (a NAT's step and other subscribers'
  // rate cannot be negative): the unconstrained solution when it is feasible, else the
  // better of the two one-coefficient fits.
  const rssOf = (st: number, ra: number) => gg - 2 * st * qg - 2 * ra * tg + st * st * qq + 2 * st * ra * qt + ra * ra * tt;
  let step = qq > 0 ? Math.max(0, qg / qq) : mean(bodySum, body);
  let rate = 0;
  let onBoundary = false;
  if (rateIdentified) {
    const st = (qg * tt - qt * tg) / det;
    const ra = (qq * tg - qt * qg) / det;
    if (st >= 0 && ra >= 0) {
      step = st;
      rate = ra;
    } else {
      onBoundary = true;
      const rateOnly = tt > 0 ? Math.max(0, tg / tt) : 0;
      if (rssOf(0, rateOnly) < rssOf(step, 0)) {
        step = 0;
        rate = rateOnly;
      }
    }
  }
  const sigma2 = Math.max(0, rssOf(step, rate)) / Math.max(1, body - 2);
  // Standard errors of the interior solution; at a boundary the normal approximation does not hold.
  const stdErr = rateIdentified && !onBoundary ? { meanStep: Math.sqrt((sigma2 * tt) / det), ratePerSecond: Math.sqrt((sigma2 * qq) / det) } : null;
  const segs: [number, number, number][] = mass.map((m, b) => [1 + b * width, Math.min(maxGap, (b + 1) * width), m]);
  return {
    meanStep: step,
    ratePerSecond: rate,
    rateIdentified,
    stdErr,
    meanGap: mean(bodySum, body),
    maxGap,
    inBody,
    pairs,
    gaps: segs,
    logLik: ll,
    k: bins + 1,
  };
}

/** The gap model behind the likelihood: a histogram over [1, maxGap] plus a uniform jump share. */
export interface GapLaw {
  maxGap: number;
  /** Histogram bin width, in ports. */
  width: number;
  /** Mass per bin (summing to 1). */
  mass: number[];
  /** Share of allocations that jump anywhere in the range. */
  jump: number;
}

/** The gap law of a fit (for scoring other data with it). */
export function gapLawOf(f: SequentialFit): GapLaw {
  const width = f.gaps[0] ? f.gaps[0][1] - f.gaps[0][0] + 1 : 1;
  return { maxGap: f.maxGap, width, mass: f.gaps.map((g) => g[2]), jump: Math.max(1 - f.inBody, 0.5 / Math.max(1, f.pairs)) };
}

/** log P(allocation i | the one before it in its run) under a gap law, its logarithms taken once per bin (carriers score millions of allocations). */
export function sequentialLogProb(law: GapLaw, rangeSize: number): (a: Allocations, i: number) => number {
  const start = -Math.log(rangeSize);
  const outside = Math.log(0 + law.jump / rangeSize);
  const inBin = Float64Array.from(law.mass, (m) => Math.log(((1 - law.jump) * m) / law.width + law.jump / rangeSize));
  const { maxGap, width } = law;
  return (a, i) => {
    if (startsRun(a, i)) return start;
    const g = a.port[i]! - a.port[i - 1]!;
    return g >= 1 && g <= maxGap ? inBin[Math.floor((g - 1) / width)]! : outside;
  };
}

function mean(sum: number, n: number): number {
  return n === 0 ? 0 : sum / n;
}
