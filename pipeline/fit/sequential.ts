/**
 * Sequential allocation: the NAT hands out the next free port of a counter that other
 * subscribers advance too, so the gap between our consecutive allocations is small,
 * positive, and grows with the time between our sends. The model is the empirical
 * distribution of gaps in [1, maxGap] (maxGap: the 99.5th percentile of positive
 * gaps, at most 4096) plus a uniform "jump anywhere" share for wraps and resets;
 * its likelihood makes it comparable to the other families by AIC.
 */
import { linearRegression } from 'simple-statistics';
import { forEachPair, startsRun, type Allocations } from './allocations.ts';

export interface SequentialFit {
  /** Mean gap between consecutive allocations inside [1, maxGap]. */
  meanStep: number;
  /** Extra ports per second of time between sends (other subscribers' traffic): slope of gap on time gap. */
  ratePerSecond: number;
  /** Gap at zero time between sends (our own step), from the same regression. */
  interceptStep: number;
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
  const gaps: number[] = [];
  const dts: number[] = [];
  forEachPair(a, (p, c) => {
    gaps.push(a.port[c]! - a.port[p]!);
    dts.push((a.time[c]! - a.time[p]!) / 1000);
  });
  const positive = gaps.filter((g) => g > 0).sort((x, y) => x - y);
  if (positive.length < 2) return null;
  const maxGap = Math.min(MAX_GAP_LIMIT, positive[Math.min(positive.length - 1, Math.floor(positive.length * 0.995))]!);
  const width = Math.max(1, Math.ceil(maxGap / MAX_BINS));
  const bins = Math.ceil(maxGap / width);
  const counts = new Float64Array(bins);
  const bodyG: number[] = [];
  const bodyT: [number, number][] = [];
  gaps.forEach((g, i) => {
    if (g >= 1 && g <= maxGap) {
      counts[Math.floor((g - 1) / width)]! += 1;
      bodyG.push(g);
      bodyT.push([dts[i]!, g]);
    }
  });
  const inBody = bodyG.length / gaps.length;
  // Half a count per bin so a gap the sample missed is unlikely, not impossible.
  const total = bodyG.length + bins * 0.5;
  const mass = Array.from(counts, (c) => (c + 0.5) / total);
  const jump = Math.max(1 - inBody, 0.5 / gaps.length);
  let ll = 0;
  for (let i = 0; i < a.n; i++) {
    if (startsRun(a, i)) {
      ll -= Math.log(rangeSize);
      continue;
    }
    const g = a.port[i]! - a.port[i - 1]!;
    const inside = g >= 1 && g <= maxGap ? ((1 - jump) * mass[Math.floor((g - 1) / width)]!) / width : 0;
    ll += Math.log(inside + jump / rangeSize);
  }
  const reg = bodyT.length >= 3 && new Set(bodyT.map((t) => t[0])).size > 1 ? linearRegression(bodyT) : { m: 0, b: mean(bodyG) };
  const segs: [number, number, number][] = mass.map((m, b) => [1 + b * width, Math.min(maxGap, (b + 1) * width), m]);
  return {
    meanStep: mean(bodyG),
    ratePerSecond: reg.m,
    interceptStep: reg.b,
    maxGap,
    inBody,
    pairs: gaps.length,
    gaps: segs,
    logLik: ll,
    k: bins + 1,
  };
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((s, v) => s + v, 0) / xs.length;
}
