/**
 * Sequential allocation: the NAT hands out the next free port of a counter that other
 * subscribers advance too, so the gap between our consecutive allocations is small,
 * positive, and grows with the time between our sends. The model is the empirical
 * distribution of gaps in [1, maxGap] (maxGap: the 99.5th percentile of positive
 * gaps, at most 4096) plus a uniform "jump anywhere" share for wraps and resets;
 * its likelihood makes it comparable to the other families by AIC.
 */
import { forEachPair, startsRun, type Allocations } from './allocations.ts';

export interface SequentialFit {
  /** The NAT's own step per allocation (regression coefficient on sends between). */
  meanStep: number;
  /** Ports per second that other subscribers' traffic adds (regression coefficient on seconds between). */
  ratePerSecond: number;
  rateIdentified: boolean;
  /** Standard errors of meanStep and ratePerSecond (ordinary least squares); null when not identified. */
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
  const gaps: number[] = [];
  const dts: number[] = [];
  const dseqs: number[] = [];
  forEachPair(a, (p, c) => {
    gaps.push(a.port[c]! - a.port[p]!);
    dts.push((a.time[c]! - a.time[p]!) / 1000);
    dseqs.push(a.sendSeq[c]! - a.sendSeq[p]!);
  });
  const positive = gaps.filter((g) => g > 0).sort((x, y) => x - y);
  if (positive.length < 2) return null;
  const maxGap = Math.min(MAX_GAP_LIMIT, positive[Math.min(positive.length - 1, Math.floor(positive.length * 0.995))]!);
  const width = Math.max(1, Math.ceil(maxGap / MAX_BINS));
  const bins = Math.ceil(maxGap / width);
  const counts = new Float64Array(bins);
  const bodyG: number[] = [];
  // Normal equations of gap = step * dseq + rate * dt (no intercept).
  let qq = 0, qt = 0, tt = 0, qg = 0, tg = 0, gg = 0;
  gaps.forEach((g, i) => {
    if (g >= 1 && g <= maxGap) {
      counts[Math.floor((g - 1) / width)]! += 1;
      bodyG.push(g);
      const q = dseqs[i]!;
      const t = dts[i]!;
      qq += q * q; qt += q * t; tt += t * t; qg += q * g; tg += t * g; gg += g * g;
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
  const det = qq * tt - qt * qt;
  // Relative determinant: how far the two regressors are from proportional (0 = even pacing, no losses).
  const rateIdentified = bodyG.length >= 3 && det > 1e-9 * qq * tt;
  const step = rateIdentified ? (qg * tt - qt * tg) / det : qq > 0 ? qg / qq : mean(bodyG);
  const rate = rateIdentified ? (qq * tg - qt * qg) / det : 0;
  const rss = gg - 2 * step * qg - 2 * rate * tg + step * step * qq + 2 * step * rate * qt + rate * rate * tt;
  const sigma2 = Math.max(0, rss) / Math.max(1, bodyG.length - 2);
  const stdErr = rateIdentified ? { meanStep: Math.sqrt((sigma2 * tt) / det), ratePerSecond: Math.sqrt((sigma2 * qq) / det) } : null;
  const segs: [number, number, number][] = mass.map((m, b) => [1 + b * width, Math.min(maxGap, (b + 1) * width), m]);
  return {
    meanStep: step,
    ratePerSecond: rate,
    rateIdentified,
    stdErr,
    meanGap: mean(bodyG),
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
