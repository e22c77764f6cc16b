/**
 * Pearson's chi-square goodness of fit of drawn ports against a table's segment masses,
 * written here independently of the samplers under test: bins are the segments, each cut
 * into up to 16 equal sub-ranges (expected mass in proportion to width, which also tests
 * "uniform within a segment"), adjacent bins pooled until each expects at least 5 draws.
 * The p-value is the regularized upper incomplete gamma Q(df/2, x/2) (series and
 * continued fraction, Numerical Recipes 6.2), checked against tabulated critical values
 * in chi-square.test.ts.
 */

const LANCZOS = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];

function lnGamma(x: number): number {
  let y = x;
  const t = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let s = 1.000000000190015;
  for (const c of LANCZOS) s += c / ++y;
  return -t + Math.log((2.5066282746310005 * s) / x);
}

/** Q(a, x) = Γ(a, x) / Γ(a). */
export function upperGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnPre = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 100000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(lnPre);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.exp(lnPre) * h;
}

/** P(X >= x) for X ~ chi-square with `df` degrees of freedom. */
export function chiSquareSurvival(x: number, df: number): number {
  return upperGammaQ(df / 2, x / 2);
}

export interface FitResult {
  statistic: number;
  df: number;
  p: number;
  /** Draws outside every segment (must be 0). */
  outside: number;
  bins: number;
}

type Segment = readonly [number, number, number];

/** Chi-square of `ports` against the piecewise-uniform distribution of `segments`. */
export function segmentFit(ports: readonly number[], segments: readonly Segment[]): FitResult {
  const total = segments.reduce((s, seg) => s + seg[2], 0);
  // Bins: [lo, hi] inclusive with their probability.
  const bins: { lo: number; hi: number; prob: number; count: number }[] = [];
  for (const [from, to, mass] of segments) {
    const width = to - from + 1;
    const parts = Math.min(width, 16);
    for (let j = 0; j < parts; j++) {
      const lo = from + Math.floor((j * width) / parts);
      const hi = from + Math.floor(((j + 1) * width) / parts) - 1;
      bins.push({ lo, hi, prob: ((mass / total) * (hi - lo + 1)) / width, count: 0 });
    }
  }
  let outside = 0;
  for (const port of ports) {
    let lo = 0;
    let hi = bins.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (port > bins[mid]!.hi) lo = mid + 1;
      else hi = mid;
    }
    const b = bins[lo]!;
    if (port >= b.lo && port <= b.hi) b.count++;
    else outside++;
  }
  const n = ports.length;
  const pooled: { expected: number; count: number }[] = [];
  let acc = { expected: 0, count: 0 };
  for (const b of bins) {
    acc.expected += b.prob * n;
    acc.count += b.count;
    if (acc.expected >= 5) {
      pooled.push(acc);
      acc = { expected: 0, count: 0 };
    }
  }
  if (acc.expected > 0 || acc.count > 0) {
    if (pooled.length === 0) pooled.push(acc);
    else {
      pooled[pooled.length - 1]!.expected += acc.expected;
      pooled[pooled.length - 1]!.count += acc.count;
    }
  }
  const statistic = pooled.reduce((s, b) => s + (b.count - b.expected) ** 2 / b.expected, 0);
  const df = pooled.length - 1;
  return { statistic, df, p: df > 0 ? chiSquareSurvival(statistic, df) : 1, outside, bins: pooled.length };
}
