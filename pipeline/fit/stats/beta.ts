/**
 * The four-parameter Beta distribution (shapes alpha, beta on [loc, loc + scale]): the
 * seed's model of one carrier's port allocation. The fit maximises the same likelihood
 * as scipy's `beta.fit(data)`, but by profiling the shapes out (they have closed-form
 * score equations for fixed support) and running a bounded Newton search on the two
 * support gaps, so it converges to the maximum instead of wherever a simplex stops.
 */
import { digamma, logBeta, trigamma } from './special.ts';
import { distinctSorted } from './distinct.ts';

export { digamma, logBeta, logGamma, trigamma } from './special.ts';

// Math functions bound once: in a vm context (jest) each `Math.x` in a hot loop is a
// slow global lookup (20x slower measured), in plain Node it is free either way.
const { log, exp, log1p, sqrt, abs, ceil, pow, hypot } = Math;

/** Plain numeric input: a JS array or any typed array. */
export type Numbers = ArrayLike<number>;

/**
 * log density of Beta(alpha, beta) on [loc, loc + scale] at x; -Infinity outside the
 * support. Summing it over the data gives the log-likelihood scipy reports as
 * `beta.logpdf(x, a, b, loc, scale).sum()`.
 *
 * @example betaLogPdf(0.5, 2, 2) // log(1.5)
 */
export function betaLogPdf(x: number, alpha: number, beta: number, loc = 0, scale = 1): number {
  const z = (x - loc) / scale;
  if (!(z >= 0 && z <= 1)) return Number.isNaN(z) ? NaN : -Infinity;
  const norm = -logBeta(alpha, beta) - log(scale);
  // At an endpoint the density is 0, finite or infinite depending on the shape there.
  const left = z === 0 ? (alpha === 1 ? 0 : alpha < 1 ? Infinity : -Infinity) : (alpha - 1) * log(z);
  const right = z === 1 ? (beta === 1 ? 0 : beta < 1 ? Infinity : -Infinity) : (beta - 1) * log1p(-z);
  return left + right + norm;
}

/**
 * Continued fraction for the incomplete beta (Numerical Recipes' betacf, modified
 * Lentz). It converges fast for x < (a + 1) / (a + b + 2); the caller flips the
 * arguments otherwise. The iteration count grows like sqrt(max(a, b)), hence the cap.
 */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 100000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (abs(del - 1) <= 2.3e-16) break;
  }
  return h;
}

/**
 * The regularised incomplete beta function I_x(a, b) = P(Beta(a, b) <= x), to ~1e-15
 * absolute (continued fraction, with the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) used on
 * the side where the fraction converges).
 */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (Number.isNaN(x) || !(a > 0) || !(b > 0)) return NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = a * log(x) + b * log1p(-x) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return (exp(logFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (exp(logFront) * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * P(X <= x) for X ~ Beta(alpha, beta) on [loc, loc + scale]: what the KS statistic of a
 * Beta fit compares the data's ECDF with.
 *
 * @example betaCdf(0.5, 2, 2) // 0.5
 */
export function betaCdf(x: number, alpha: number, beta: number, loc = 0, scale = 1): number {
  return regularizedBeta((x - loc) / scale, alpha, beta);
}

/**
 * The q-quantile (q <= 1/2) of Beta(a, b) on [0, 1], as log z: safeguarded Newton on
 * log F(e^t) = log q, which is nearly linear in t in the lower tail (F ~ z^a / (a B)),
 * so tiny quantiles (1e-30 for a = 0.3) converge in a few steps with full relative
 * precision, where Newton or bisection on z itself stalls at absolute 1e-16.
 */
function lowerQuantileLog(q: number, a: number, b: number): number {
  const lb = logBeta(a, b);
  const logQ = log(q);
  // Start from the tail approximation, kept below the median region.
  let t = Math.min((logQ + log(a) + lb) / a, log(a / (a + b)));
  let lo = -Infinity;
  let hi = 0;
  for (let it = 0; it < 200; it++) {
    const z = exp(t);
    const F = regularizedBeta(z, a, b);
    const h = log(F) - logQ;
    if (h === 0) break;
    if (h < 0) lo = t;
    else hi = t;
    const logPdf = (a - 1) * t + (b - 1) * log1p(-z) - lb;
    let next = t - h / exp(logPdf + t - log(F));
    if (!(next > lo && next < hi)) next = lo === -Infinity ? hi - 1 - abs(t) : 0.5 * (lo + hi);
    if (abs(next - t) <= 1e-15 * Math.max(1, abs(t))) {
      t = next;
      break;
    }
    t = next;
  }
  return t;
}

/**
 * The p-quantile of Beta(alpha, beta) on [loc, loc + scale]. Each half is solved as a
 * lower-tail problem in log space (the upper half through I_z(a, b) = 1 - I_{1-z}(b, a)),
 * which keeps full relative precision in both tails and converges where the density is
 * 0 or infinite at an endpoint. Used to draw marginals and quantile plots.
 *
 * @example betaQuantile(0.5, 2, 2) // 0.5
 */
export function betaQuantile(p: number, alpha: number, beta: number, loc = 0, scale = 1): number {
  if (!(p >= 0 && p <= 1) || !(alpha > 0) || !(beta > 0)) return NaN;
  if (p === 0) return loc;
  if (p === 1) return loc + scale;
  const z = p <= 0.5 ? exp(lowerQuantileLog(p, alpha, beta)) : 1 - exp(lowerQuantileLog(1 - p, beta, alpha));
  return loc + scale * z;
}

/** How a fitted support endpoint relates to the data; see `Beta4Fit.boundary`. */
export type EndpointStatus = 'interior' | 'at-data' | 'far';

export interface Beta4Fit {
  alpha: number;
  beta: number;
  loc: number;
  scale: number;
  /** sum of betaLogPdf over the data at the fitted parameters. */
  logLik: number;
  /** Newton iterations of the outer (support) search that produced the fit (both phases for >20,000 distinct values). */
  iterations: number;
  n: number;
  /** Free parameters (alpha, beta, loc, scale), for AIC. */
  parameters: 4;
  /** The outer search met its convergence test (Newton decrement below 1e-9 nats). */
  converged: boolean;
  /**
   * 'interior': a proper local maximum. 'at-data': the endpoint sits on the `minGap`
   * constraint because the likelihood kept rising as it approached the extreme
   * observation, either without bound (shape < 1 there: no MLE exists) or towards a
   * limit with the endpoint on the extreme observation (shape -> 1, e.g. exponential
   * data); the numbers are the constrained maximum. 'far': the endpoint went to the
   * `maxGapRanges` bound (the shape on that side tends to infinity: gamma- or
   * normal-like data with no limit on that side).
   */
  boundary: { lower: EndpointStatus; upper: EndpointStatus };
  /**
   * Standard errors from the observed information (inverse negative Hessian of the
   * 4-parameter log-likelihood); null at a boundary or if it is not positive definite.
   * Regular asymptotics need alpha, beta > 2; below that treat them as rough.
   */
  stdErr: { alpha: number; beta: number; loc: number; scale: number } | null;
}

export interface Beta4Options {
  /** Smallest allowed distance from the data to either endpoint; default 1e-6 * range. */
  minGap?: number;
  /** Largest allowed distance, as a multiple of the data range; default 1e3. */
  maxGapRanges?: number;
  /** Outer Newton iterations per start; default 200. */
  maxIterations?: number;
}

/** Distinct sorted values with their counts, and offsets to both extremes. */
interface Weighted {
  w: Float64Array;
  /** value - min */
  fromMin: Float64Array;
  /** max - value */
  toMax: Float64Array;
  n: number;
  min: number;
  max: number;
}

function compress(xs: Numbers): Weighted {
  const n = xs.length;
  // Port data repeat heavily (1e5 draws over ~14,000 ports), so every likelihood pass
  // runs over distinct values with weights: the same sums for a fraction of the logs.
  const { values, counts: w } = distinctSorted(xs);
  const k = values.length;
  // Sorting puts -Infinity first and +Infinity, NaN last: two checks cover them all.
  if (n > 0 && !(values[0]! - values[0]! === 0 && values[k - 1]! - values[k - 1]! === 0)) {
    let i = 0;
    while (i < n && xs[i]! - xs[i]! === 0) i++;
    throw new RangeError(`fitBeta4: value ${i} is not finite (${xs[i]})`);
  }
  const min = values[0]!;
  const max = values[k - 1]!;
  const fromMin = new Float64Array(k);
  const toMax = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    fromMin[i] = values[i]! - min;
    toMax[i] = max - values[i]!;
  }
  return { w, fromMin, toMax, n, min, max };
}

/** Above this many distinct values the start search runs on a condensed copy. */
const COARSE_LIMIT = 20000;
const COARSE_EDGE = 1000;

/**
 * A condensed copy for the start search on large continuous samples: the 1000 distinct
 * values at each end are kept exactly (the likelihood is most sensitive there, next to
 * the endpoints) and the middle is merged into blocks at their weighted mean. The
 * log-likelihood of a block then differs from the exact one by ~(block width /
 * distance to the endpoint)^2 / 24 per value: good enough to choose where Newton starts,
 * which then finishes on the exact data.
 */
function coarsen(d: Weighted): Weighted {
  const k = d.w.length;
  const middle = k - 2 * COARSE_EDGE;
  const per = ceil(middle / (COARSE_LIMIT - 2 * COARSE_EDGE));
  const m = 2 * COARSE_EDGE + ceil(middle / per);
  const w = new Float64Array(m);
  const fromMin = new Float64Array(m);
  const toMax = new Float64Array(m);
  let j = 0;
  const keep = (i: number) => {
    w[j] = d.w[i]!;
    fromMin[j] = d.fromMin[i]!;
    toMax[j] = d.toMax[i]!;
    j++;
  };
  for (let i = 0; i < COARSE_EDGE; i++) keep(i);
  const range = d.max - d.min;
  for (let start = COARSE_EDGE; start < k - COARSE_EDGE; start += per) {
    const end = Math.min(start + per, k - COARSE_EDGE);
    let sw = 0;
    let sx = 0;
    for (let i = start; i < end; i++) {
      sw += d.w[i]!;
      sx += d.w[i]! * d.fromMin[i]!;
    }
    w[j] = sw;
    fromMin[j] = sx / sw;
    toMax[j] = range - sx / sw;
    j++;
  }
  for (let i = k - COARSE_EDGE; i < k; i++) keep(i);
  return { w: w.subarray(0, j), fromMin: fromMin.subarray(0, j), toMax: toMax.subarray(0, j), n: d.n, min: d.min, max: d.max };
}

/** The per-observation shape objective (a-1) s1 + (b-1) s2 - log B(a, b). */
function shapeObjective(a: number, b: number, s1: number, s2: number): number {
  return (a - 1) * s1 + (b - 1) * s2 - logBeta(a, b);
}

/**
 * MLE of the shapes for a fixed support, given s1 = mean log z and s2 = mean log(1 - z):
 * solves psi(a) - psi(a + b) = s1, psi(b) - psi(a + b) = s2. The objective is concave in
 * (a, b) (an exponential family in its natural parameters), so damped Newton from any
 * positive start converges.
 */
export function betaShapesFromLogMeans(s1: number, s2: number, start?: { a: number; b: number }): { a: number; b: number; iterations: number } {
  let a: number;
  let b: number;
  if (start && start.a > 0 && start.b > 0) {
    a = start.a;
    b = start.b;
  } else {
    // Geometric-mean approximation psi(x) ~ log(x - 1/2): close for shapes above ~1.
    const gx = exp(s1);
    const gy = exp(s2);
    const den = 2 * (1 - gx - gy);
    a = den > 0 ? 0.5 + gx / den : 1;
    b = den > 0 ? 0.5 + gy / den : 1;
  }
  let h = shapeObjective(a, b, s1, s2);
  let it = 0;
  for (; it < 200; it++) {
    const psiAB = digamma(a + b);
    const ga = s1 - digamma(a) + psiAB;
    const gb = s2 - digamma(b) + psiAB;
    const tAB = trigamma(a + b);
    const haa = tAB - trigamma(a);
    const hbb = tAB - trigamma(b);
    const hab = tAB;
    const det = haa * hbb - hab * hab;
    let da = -(hbb * ga - hab * gb) / det;
    let db = -(-hab * ga + haa * gb) / det;
    // Never shrink a shape by more than 10x in one step: keeps it positive and lets the
    // logs in the objective stay finite.
    let t = 1;
    if (a + da < 0.1 * a) t = Math.min(t, (-0.9 * a) / da);
    if (b + db < 0.1 * b) t = Math.min(t, (-0.9 * b) / db);
    da *= t;
    db *= t;
    let accepted = false;
    for (let k = 0; k < 60; k++) {
      const hNew = shapeObjective(a + da, b + db, s1, s2);
      if (hNew >= h) {
        a += da;
        b += db;
        h = hNew;
        accepted = true;
        break;
      }
      da *= 0.5;
      db *= 0.5;
    }
    if (!accepted || (abs(da) <= 1e-14 * a && abs(db) <= 1e-14 * b)) break;
  }
  return { a, b, iterations: it + 1 };
}

interface ProfilePoint {
  u: number;
  v: number;
  gapL: number;
  gapU: number;
  a: number;
  b: number;
  ll: number;
}

/** Profile log-likelihood at support gaps (min - loc, loc + scale - max). */
function profileAt(d: Weighted, u: number, v: number, range: number, start?: { a: number; b: number }): ProfilePoint {
  const gapL = exp(u) * range;
  const gapU = exp(v) * range;
  const { w, fromMin, toMax, n } = d;
  const D = range + gapL + gapU;
  const invD = 1 / D;
  let t1 = 0;
  let t2 = 0;
  // log of the ratio, not a difference of two large logs: with far endpoints the shapes
  // reach ~1e7 and multiply every rounding error in these means.
  for (let i = 0; i < w.length; i++) {
    t1 += w[i]! * log((fromMin[i]! + gapL) * invD);
    t2 += w[i]! * log((toMax[i]! + gapU) * invD);
  }
  const logD = log(D);
  const s1 = t1 / n;
  const s2 = t2 / n;
  const { a, b } = betaShapesFromLogMeans(s1, s2, start);
  const ll = n * (shapeObjective(a, b, s1, s2) - logD);
  return { u, v, gapL, gapU, a, b, ll };
}

/**
 * Gradient and Hessian of the profile log-likelihood in (u, v) = log gaps, plus the
 * full 4-parameter Hessian in (a, b, L, U) for the standard errors. By the envelope
 * theorem the profile gradient is the partial derivative at the inner optimum, and the
 * profile Hessian is the Schur complement of the shape block.
 */
function profileDerivatives(d: Weighted, p: ProfilePoint, range: number): { g: [number, number]; H: [number, number, number]; full: number[][] } {
  const { w, fromMin, toMax, n } = d;
  let r1 = 0;
  let r2 = 0;
  let q1 = 0;
  let q2 = 0;
  for (let i = 0; i < w.length; i++) {
    const xl = 1 / (fromMin[i]! + p.gapL);
    const ux = 1 / (toMax[i]! + p.gapU);
    r1 += w[i]! * xl;
    r2 += w[i]! * ux;
    q1 += w[i]! * xl * xl;
    q2 += w[i]! * ux * ux;
  }
  const { a, b, gapL, gapU } = p;
  const D = range + gapL + gapU;
  const s = a + b - 1;
  const lL = -(a - 1) * r1 + (n * s) / D;
  const lU = (b - 1) * r2 - (n * s) / D;
  const tAB = trigamma(a + b);
  const Haa = -n * (trigamma(a) - tAB);
  const Hbb = -n * (trigamma(b) - tAB);
  const Hab = n * tAB;
  const HaL = -r1 + n / D;
  const HaU = -n / D;
  const HbL = n / D;
  const HbU = r2 - n / D;
  const HLL = -(a - 1) * q1 + (n * s) / (D * D);
  const HUU = -(b - 1) * q2 + (n * s) / (D * D);
  const HLU = -(n * s) / (D * D);
  // Schur complement: Hp = H_phiphi - H_phitheta H_thetatheta^-1 H_thetaphi.
  const det = Haa * Hbb - Hab * Hab;
  const i11 = Hbb / det;
  const i12 = -Hab / det;
  const i22 = Haa / det;
  const quad = (x1: number, x2: number, y1: number, y2: number) => x1 * (i11 * y1 + i12 * y2) + x2 * (i12 * y1 + i22 * y2);
  const pLL = HLL - quad(HaL, HbL, HaL, HbL);
  const pUU = HUU - quad(HaU, HbU, HaU, HbU);
  const pLU = HLU - quad(HaL, HbL, HaU, HbU);
  // Chain rule to log gaps: L = min - gapL (dL/du = -gapL), U = max + gapU.
  const gu = -lL * gapL;
  const gv = lU * gapU;
  const Huu = pLL * gapL * gapL - lL * gapL;
  const Hvv = pUU * gapU * gapU + lU * gapU;
  const Huv = -pLU * gapL * gapU;
  const full = [
    [Haa, Hab, HaL, HaU],
    [Hab, Hbb, HbL, HbU],
    [HaL, HbL, HLL, HLU],
    [HaU, HbU, HLU, HUU],
  ];
  return { g: [gu, gv], H: [Huu, Huv, Hvv], full };
}

/** Inverse of a symmetric positive definite matrix by Gauss-Jordan; null if not PD. */
function invertSpd(m: number[][]): number[][] | null {
  const k = m.length;
  const a = m.map((row, i) => [...row, ...Array.from({ length: k }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < k; c++) {
    const piv = a[c]![c]!;
    if (!(piv > 0)) return null;
    for (let j = 0; j < 2 * k; j++) a[c]![j]! /= piv;
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = a[r]![c]!;
      for (let j = 0; j < 2 * k; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  return a.map((row) => row.slice(k));
}

/**
 * Moment-matching start (scipy's `_fitstart` idea, in closed form): alpha + beta from
 * skewness and kurtosis, then the shapes and the support from mean and variance.
 * Returns null when the moments admit no Beta.
 */
function momentStart(d: Weighted): { gapL: number; gapU: number } | null {
  const { w, fromMin, n } = d;
  let m1 = 0;
  for (let i = 0; i < w.length; i++) m1 += w[i]! * fromMin[i]!;
  m1 /= n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < w.length; i++) {
    const c = fromMin[i]! - m1;
    const c2 = c * c;
    m2 += w[i]! * c2;
    m3 += w[i]! * c2 * c;
    m4 += w[i]! * c2 * c2;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  if (!(m2 > 0)) return null;
  const g1 = m3 / pow(m2, 1.5);
  const g2 = m4 / (m2 * m2) - 3;
  const den = 1.5 * g1 * g1 - g2;
  if (!(den > 0)) return null;
  const nu = (3 * (g2 - g1 * g1 + 2)) / den;
  if (!(nu > 0)) return null;
  let a: number;
  let b: number;
  if (g1 === 0) {
    a = b = nu / 2;
  } else {
    const r = 1 / sqrt(1 + (16 * (nu + 1)) / ((nu + 2) * (nu + 2) * g1 * g1));
    // Positive skew means the mass sits low: alpha < beta.
    a = (nu / 2) * (1 + (g1 > 0 ? -r : r));
    b = (nu / 2) * (1 + (g1 > 0 ? r : -r));
  }
  if (!(a > 0 && b > 0)) return null;
  const width = (sqrt(m2) * sqrt((nu + 2) * (nu + 2) * g1 * g1 + 16 * (1 + nu))) / 2;
  const lower = m1 - (a / nu) * width; // relative to min
  const gapL = -lower;
  const gapU = lower + width - (d.max - d.min);
  if (!(gapL > 0 && gapU > 0) || !Number.isFinite(width)) return null;
  return { gapL, gapU };
}

interface SearchResult {
  best: ProfilePoint;
  iterations: number;
  converged: boolean;
}

/**
 * Projected Newton ascent on the profile in (u, v) inside a box, with Levenberg
 * damping when the profile Hessian is not negative definite and an Armijo backtracking
 * line search, so every accepted step raises the likelihood.
 */
function newtonSearch(d: Weighted, start: ProfilePoint, range: number, lo: number, hi: number, maxIter: number): SearchResult {
  let p = start;
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIter; iterations++) {
    const { g, H } = profileDerivatives(d, p, range);
    // Coordinates pinned at a bound with the gradient pushing outwards are held fixed.
    const activeU = (p.u <= lo && g[0] < 0) || (p.u >= hi && g[0] > 0);
    const activeV = (p.v <= lo && g[1] < 0) || (p.v >= hi && g[1] > 0);
    const gu = activeU ? 0 : g[0];
    const gv = activeV ? 0 : g[1];
    // Solve (-H + lambda I) step = g on the free coordinates.
    let nuu = activeU ? 1 : -H[0];
    let nvv = activeV ? 1 : -H[2];
    const nuv = activeU || activeV ? 0 : -H[1];
    const detN = nuu * nvv - nuv * nuv;
    if (!(nuu > 0 && nvv > 0 && detN > 1e-12 * Math.max(1, nuu * nvv))) {
      // Shift the spectrum up to just above zero (plus a margin scaled to the gradient).
      const tr = nuu + nvv;
      const disc = sqrt(Math.max(0, ((nuu - nvv) / 2) ** 2 + nuv * nuv));
      const minEig = tr / 2 - disc;
      const shift = -minEig + Math.max(1e-8, hypot(gu, gv));
      nuu += activeU ? 0 : shift;
      nvv += activeV ? 0 : shift;
    }
    const det = nuu * nvv - nuv * nuv;
    let su = (nvv * gu - nuv * gv) / det;
    let sv = (nuu * gv - nuv * gu) / det;
    const decrement = su * gu + sv * gv;
    if (decrement < 1e-9) {
      converged = true;
      break;
    }
    // A log-gap step of 2 changes a gap by 7x: enough to move fast, not to jump basins.
    const big = Math.max(abs(su), abs(sv));
    if (big > 2) {
      su *= 2 / big;
      sv *= 2 / big;
    }
    let t = 1;
    let next: ProfilePoint | null = null;
    for (let k = 0; k < 40; k++) {
      const nu = Math.min(hi, Math.max(lo, p.u + t * su));
      const nv = Math.min(hi, Math.max(lo, p.v + t * sv));
      const cand = profileAt(d, nu, nv, range, { a: p.a, b: p.b });
      const gain = gu * (nu - p.u) + gv * (nv - p.v);
      if (cand.ll >= p.ll + 1e-4 * Math.max(0, gain)) {
        next = cand;
        break;
      }
      t *= 0.5;
    }
    if (next === null) {
      // No ascent even on tiny steps: we are at the maximum up to rounding noise.
      converged = decrement < 1e-5;
      break;
    }
    const gainLl = next.ll - p.ll;
    p = next;
    if (gainLl < 1e-12 && Math.max(abs(t * su), abs(t * sv)) < 1e-10) {
      converged = true;
      break;
    }
  }
  return { best: p, iterations, converged };
}

/**
 * Maximum-likelihood fit of a four-parameter Beta (alpha, beta, loc, scale): the
 * estimator of scipy's `beta.fit(data)` with loc and scale free, used for carriers that
 * allocate ports from a skewed window.
 *
 * Why this method: for a fixed support the shapes have a concave likelihood with
 * closed-form derivatives, so they are profiled out exactly; the remaining two
 * parameters are the gaps between the data's extremes and the endpoints, searched by
 * projected Newton in log-gap coordinates (loc = min - e^u * range, loc + scale =
 * max + e^v * range), which keeps the support around the data by construction and
 * makes the likelihood's flat, far-reaching ridge well conditioned. The profile can have
 * several local maxima (an interior one and ridges toward either endpoint), so Newton
 * runs from the three best local maxima of a 9 x 9 grid of gaps (1e-6 to 1e3 ranges)
 * and from the moment-matching start, keeping the highest.
 *
 * The likelihood is unbounded when a shape is below 1 and its endpoint approaches the
 * data; the gaps are therefore bounded below by `minGap` (and above by `maxGapRanges`)
 * and fits that end on a bound are flagged in `boundary` (see `Beta4Fit`). Data values
 * are used as given: for ports that are floor() of continuous draws the fitted loc sits
 * ~0.5 below the generating one, far inside its standard error. Throws RangeError on
 * fewer than 3 distinct values or non-finite input.
 *
 * Cost: one sort, then ~100-150 passes over the distinct values (ports: at most 64k
 * however large n is); above 20,000 distinct values the start search runs on a
 * condensed copy and only the final Newton steps see every value. Measured on 2 cores:
 * 1e5 ports ~35 ms, 1e6 ports ~150 ms, 1e6 continuous values ~400 ms.
 *
 * @example
 *   const f = fitBeta4(ports); // 1e5 ports of the seed carrier
 *   // { alpha: 2.259, beta: 5.040, loc: 4626.2, scale: 13913.9, logLik: -907751.5,
 *   //   boundary: { lower: 'interior', upper: 'interior' }, stdErr: { alpha: 0.014, ... } }
 */
export function fitBeta4(xs: Numbers, options: Beta4Options = {}): Beta4Fit {
  const d = compress(xs);
  if (d.w.length < 3) throw new RangeError(`fitBeta4: needs at least 3 distinct values, got ${d.w.length}`);
  const range = d.max - d.min;
  const minGap = options.minGap ?? 1e-6 * range;
  if (!(minGap > 0)) throw new RangeError(`fitBeta4: minGap must be > 0, got ${minGap}`);
  const maxGapRanges = options.maxGapRanges ?? 1e3;
  const maxIter = options.maxIterations ?? 200;
  const lo = log(minGap / range);
  const hi = log(maxGapRanges);
  const clamp = (x: number) => Math.min(hi, Math.max(lo, x));

  // Multistart: the profile can have a ridge toward each endpoint (shape < 1) besides
  // the interior maximum, so Newton runs from the best local maxima of a coarse grid in
  // log-gap space (from the data's edge to far away) and from the moment start.
  const c = d.w.length > COARSE_LIMIT ? coarsen(d) : d;
  const axis = [...new Set([lo, log(1 / (d.n + 1)), log(0.01), log(0.1), log(0.5), log(2), log(10), log(50), hi].map(clamp))].sort((x, y) => x - y);
  const grid = axis.map((u) => axis.map((v) => profileAt(c, u, v, range)));
  const peaks: ProfilePoint[] = [];
  for (let i = 0; i < axis.length; i++) {
    for (let j = 0; j < axis.length; j++) {
      const here = grid[i]![j]!.ll;
      let isPeak = true;
      for (let di = -1; di <= 1 && isPeak; di++) {
        for (let dj = -1; dj <= 1; dj++) {
          const other = grid[i + di]?.[j + dj];
          if (other && other.ll > here) {
            isPeak = false;
            break;
          }
        }
      }
      if (isPeak) peaks.push(grid[i]![j]!);
    }
  }
  const starts = peaks.sort((p, q) => q.ll - p.ll).slice(0, 3);
  const mom = momentStart(c);
  if (mom) starts.push(profileAt(c, clamp(log(mom.gapL / range)), clamp(log(mom.gapU / range)), range));

  let result: SearchResult | null = null;
  for (const s of starts) {
    const r = newtonSearch(c, s, range, lo, hi, maxIter);
    if (result === null || r.best.ll > result.best.ll) result = r;
  }
  let iterations = result!.iterations;
  if (c !== d) {
    // Finish on the exact data from the condensed optimum: a few Newton steps.
    const polished = newtonSearch(d, profileAt(d, result!.best.u, result!.best.v, range, result!.best), range, lo, hi, maxIter);
    iterations += polished.iterations;
    result = polished;
  }
  const { best, converged } = result!;
  // An endpoint is on a bound only if it sits there and the likelihood still rises
  // beyond it.
  const { g, full } = profileDerivatives(d, best, range);
  const status = (x: number, slope: number): EndpointStatus => (x <= lo && slope < 0 ? 'at-data' : x >= hi && slope > 0 ? 'far' : 'interior');
  const boundary = { lower: status(best.u, g[0]), upper: status(best.v, g[1]) };

  let stdErr: Beta4Fit['stdErr'] = null;
  if (boundary.lower === 'interior' && boundary.upper === 'interior') {
    const cov = invertSpd(full.map((row) => row.map((x) => -x)));
    if (cov) {
      const vScale = cov[2]![2]! + cov[3]![3]! - 2 * cov[2]![3]!;
      stdErr = { alpha: sqrt(cov[0]![0]!), beta: sqrt(cov[1]![1]!), loc: sqrt(cov[2]![2]!), scale: sqrt(vScale) };
    }
  }
  const loc = d.min - best.gapL;
  return {
    alpha: best.a,
    beta: best.b,
    loc,
    scale: d.max + best.gapU - loc,
    logLik: best.ll,
    iterations,
    n: d.n,
    parameters: 4,
    converged,
    boundary,
    stdErr,
  };
}

/**
 * The log-likelihood sum of betaLogPdf over xs at any (alpha, beta, loc, scale): puts
 * other fits (scipy's, a previous campaign's) on the same scale as `fitBeta4`'s logLik.
 */
export function betaLogLik(xs: Numbers, alpha: number, beta: number, loc = 0, scale = 1): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += betaLogPdf(xs[i]!, alpha, beta, loc, scale);
  return s;
}
