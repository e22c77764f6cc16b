/**
 * The discrete uniform on the integers [min, max]: the null model of port allocation
 * ("any port in the pool, equally likely") and the alternative every other family must
 * beat. Its maximum-likelihood support is the observed range, which always understates
 * the pool, so a corrected range is reported alongside for the bias table's readers.
 */
import type { Numbers } from './beta.ts';

// Math functions bound once: in a vm context (jest) each `Math.x` in a hot loop is a
// slow global lookup (20x slower measured), in plain Node it is free either way.
const { log, exp, floor, ceil } = Math;

export interface UniformFit {
  /** MLE: the smallest and largest observation. */
  min: number;
  max: number;
  n: number;
  /** -n log(max - min + 1) at the MLE. */
  logLik: number;
  /** Free parameters (min and max), for AIC. */
  parameters: 2;
  /**
   * The support whose expected sample range equals the observed one, for reporting the
   * pool size (not for the likelihood: observations cannot fall outside the MLE range,
   * so it would only lower it). Real-valued; see `fitUniform`.
   */
  corrected: { min: number; max: number };
}

/**
 * E[max - min] for n draws with replacement from N equally likely consecutive integers:
 * (N - 1) - 2 S with S = sum_{k=1}^{N-1} (k/N)^n. When n/N is not small the terms die
 * off fast (like e^{-jn/N}) and S is summed from the top; otherwise S comes from its
 * Euler-Maclaurin expansion N/(n+1) - 1/2 + n/(12N) - ... (error < 1e-12 there), so a
 * pool of 64k ports costs microseconds. N is a whole number of values.
 */
export function expectedUniformRange(N: number, n: number): number {
  if (N <= 1 || n <= 1) return 0;
  let s: number;
  const r = n / N;
  if (r < 0.05) {
    const f3 = (n * (n - 1) * (n - 2)) / (N * N * N);
    const f5 = (f3 * (n - 3) * (n - 4)) / (N * N);
    s = N / (n + 1) - 0.5 + r / 12 - f3 / 720 + f5 / 30240;
  } else {
    s = 0;
    for (let k = N - 1; k >= 1; k--) {
      const t = exp(n * log(k / N));
      s += t;
      if (t < 1e-17 * s) break;
    }
  }
  return N - 1 - 2 * s;
}

/**
 * Maximum-likelihood fit of a discrete uniform on [min, max] (integers): the sample
 * extremes, the only values that maximise prod 1/(max - min + 1) over supports that
 * contain every observation.
 *
 * The reported `corrected` range is the moment (range-matching) correction for sampling
 * with replacement: the pool size N solving E[max - min | N] = observed range, extended
 * symmetrically. When N >> n it equals the classical German-tank correction (each end
 * moves out by (max - min)/(n - 1) - 1/2); when n >> N, where every port is almost surely
 * seen, it correctly adds nothing (the classical formula would still widen the range).
 * Throws RangeError on empty input or non-integer values.
 *
 * @example fitUniform([3, 7, 5, 9]) // { min: 3, max: 9, logLik: -4 log 7, corrected: { min: ~1.45, max: ~10.55 }, ... }
 */
export function fitUniform(xs: Numbers): UniformFit {
  const n = xs.length;
  if (n === 0) throw new RangeError('fitUniform: no values');
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    if (floor(x) !== x || x - x !== 0) throw new RangeError(`fitUniform: value ${i} is not an integer (${x})`);
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const r = max - min;
  let corrected = { min, max };
  if (n > 1 && r > 0) {
    // E[range | N] rises with N; bracket N between r + 1 (the observed count) and a
    // generous multiple, then bisect.
    // E[range | N] rises with N: find the integers N - 1, N whose expected ranges
    // straddle the observed one (doubling, then bisection), and interpolate between them.
    let lo = r + 1;
    let nHat = lo;
    const eLo = expectedUniformRange(lo, n);
    if (eLo < r) {
      let hi = Math.max(lo + 1, ceil((r * (n + 1)) / (n - 1)) + 1);
      while (expectedUniformRange(hi, n) < r) {
        lo = hi;
        hi *= 2;
      }
      while (hi - lo > 1) {
        const mid = floor((lo + hi) / 2);
        if (expectedUniformRange(mid, n) < r) lo = mid;
        else hi = mid;
      }
      const a = expectedUniformRange(lo, n);
      const b = expectedUniformRange(hi, n);
      nHat = lo + (r - a) / (b - a);
    }
    const gap = Math.max(0, (nHat - 1 - r) / 2);
    corrected = { min: min - gap, max: max + gap };
  }
  // 0 - x: a single repeated value gives logLik +0, not -0.
  return { min, max, n, logLik: 0 - n * log(r + 1), parameters: 2, corrected };
}

/** log P(X = x) for X uniform on the integers [min, max]; -Infinity off the support. */
export function uniformLogPmf(x: number, min: number, max: number): number {
  return Number.isInteger(x) && x >= min && x <= max ? -log(max - min + 1) : -Infinity;
}

/** Log-likelihood of data under the discrete uniform on [min, max]. */
export function uniformLogLik(xs: Numbers, min: number, max: number): number {
  const lp = -log(max - min + 1);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (!(floor(x) === x && x >= min && x <= max)) return -Infinity;
  }
  return xs.length * lp;
}

/**
 * P(X <= x) for X uniform on the integers [min, max]: a step function, so KS against it
 * must use the discrete comparison (`ksTest(..., { discrete: true })`).
 */
export function uniformCdf(x: number, min: number, max: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < min) return 0;
  if (x >= max) return 1;
  return (floor(x) - min + 1) / (max - min + 1);
}
