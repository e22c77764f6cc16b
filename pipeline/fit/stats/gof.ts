/**
 * Goodness of fit and model comparison for the port-allocation families: the
 * Kolmogorov-Smirnov distance (done right for integer-valued ports), its asymptotic
 * p-value, AIC, and the empirical histogram model that every parametric family is
 * compared with.
 */
import type { Numbers } from './beta.ts';
import { distinctSorted } from './distinct.ts';

// Math functions bound once: in a vm context (jest) each `Math.x` in a hot loop is a
// slow global lookup (20x slower measured), in plain Node it is free either way.
const { log, exp, sqrt, abs, floor, ceil } = Math;

export interface KsResult {
  /** sup |ECDF - F| = max(dPlus, dMinus). */
  d: number;
  /** sup (ECDF - F): the data sit to the left of the model. */
  dPlus: number;
  /** sup (F - ECDF): the data sit to the right of the model. */
  dMinus: number;
  n: number;
  /** Asymptotic p-value, P(K > sqrt(n) d); see `kolmogorovPValue` for its caveats. */
  pValue: number;
}

export interface KsOptions {
  /**
   * The model lives on the integers (a step CDF), so its left limit at v is F(v - 1).
   * Leave false for a continuous model, whose left limit is F(v) itself.
   */
  discrete?: boolean;
}

/**
 * Kolmogorov-Smirnov statistic of a sample against a model CDF, with its asymptotic
 * p-value: the distance the fit stage reports for every candidate family.
 *
 * Why it looks at distinct values: with integer ports many observations tie, and the
 * textbook formula max(i/n - F(x_i), F(x_i) - (i-1)/n) over sorted points then compares
 * the model with ECDF values that exist only between ties, overstating D. Both the ECDF
 * and (for `discrete`) the model are step functions, so the supremum of |ECDF - F| is
 * reached at a distinct data value v or just below it: we compare ECDF(v) with F(v) and
 * ECDF(v-) with F(v-) (F(v - 1) for a model on the integers, F(v) for a continuous one).
 * The CDF is evaluated once per distinct value, so 1e6 ports over 64k values cost 64k
 * calls. Throws RangeError on empty input or NaN.
 *
 * @example ksTest(ports, (x) => uniformCdf(x, 1024, 65535), { discrete: true }).d
 */
export function ksTest(xs: Numbers, cdf: (x: number) => number, options: KsOptions = {}): KsResult {
  const n = xs.length;
  if (n === 0) throw new RangeError('ksTest: no values');
  const { values, counts } = distinctSorted(xs);
  if (Number.isNaN(values[values.length - 1]!)) throw new RangeError('ksTest: NaN in the data');
  const discrete = options.discrete ?? false;
  let dPlus = 0;
  let dMinus = 0;
  // i: values below v; j: values up to v (counts are integers, so exact).
  let i = 0;
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    const j = i + counts[k]!;
    const fv = cdf(v);
    const fBelow = discrete ? cdf(v - 1) : fv;
    const below = i / n;
    const at = j / n;
    if (at - fv > dPlus) dPlus = at - fv;
    if (fBelow - below > dMinus) dMinus = fBelow - below;
    i = j;
  }
  const d = Math.max(dPlus, dMinus);
  return { d, dPlus, dMinus, n, pValue: kolmogorovPValue(d, n) };
}

/**
 * Asymptotic KS p-value P(K > sqrt(n) d), K the Kolmogorov distribution:
 * 2 sum (-1)^{k-1} e^{-2 k^2 t^2} for t >= 1, and the Jacobi-theta form
 * 1 - sqrt(2 pi)/t sum e^{-(2k-1)^2 pi^2 / (8 t^2)} below, each converging in a few terms
 * where the other would not. Caveats the caller should know: it is exact only as
 * n -> infinity for a continuous model fixed in advance. With parameters fitted to the
 * same data, or a discrete model, the true p-value is smaller (the test is
 * conservative), so use it to flag gross misfit and compare families by D and AIC.
 */
export function kolmogorovPValue(d: number, n: number): number {
  if (!(d >= 0) || !(n > 0)) return NaN;
  const t = sqrt(n) * d;
  if (t <= 0) return 1;
  if (t < 1) {
    const c = (Math.PI * Math.PI) / (8 * t * t);
    let sum = 0;
    for (let k = 1; k < 100; k++) {
      const term = exp(-(2 * k - 1) * (2 * k - 1) * c);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return Math.min(1, Math.max(0, 1 - (sqrt(2 * Math.PI) / t) * sum));
  }
  let sum = 0;
  for (let k = 1; k < 100; k++) {
    const term = exp(-2 * k * k * t * t);
    sum += k % 2 === 1 ? term : -term;
    if (term < 1e-17 * abs(sum)) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/**
 * Akaike's information criterion 2k - 2 logLik: the fit stage ranks families by it
 * because it charges the histogram's hundreds of masses against the Beta's four
 * parameters on the same likelihood scale. Lower is better.
 */
export function aic(logLik: number, k: number): number {
  return 2 * k - 2 * logLik;
}

export interface HistogramBin {
  /** First and last port of the bin, inclusive. */
  from: number;
  to: number;
  count: number;
  /** (count + pseudoCount) / (n + pseudoCount * bins); the masses sum to 1. */
  mass: number;
}

export interface Histogram {
  min: number;
  max: number;
  binWidth: number;
  /** Observations inside [min, max] (the ones in the bins). */
  n: number;
  /** Observations outside [min, max]: the model gives them probability 0. */
  outside: number;
  pseudoCount: number;
  bins: HistogramBin[];
  /** log-likelihood of the fitted data; -Infinity if any fell outside [min, max]. */
  logLik: number;
  /** Free parameters for AIC: bins - 1 masses, plus 2 for a range read off the data. */
  parameters: number;
}

export interface HistogramOptions {
  /** Added to every bin's count; default 0.5 (see `fitHistogram`). */
  pseudoCount?: number;
  /** Whether min and max were taken from the data (they then count as 2 parameters); default true. */
  rangeFromData?: boolean;
}

/**
 * The empirical model of port allocation: a histogram of integer ports on [min, max] in
 * bins of `binWidth` ports (the last bin may be narrower), uniform within each bin, so
 * a port in bin j has probability mass_j / width_j. It is the "no family fits" fallback
 * and the yardstick the parametric families must beat on AIC.
 *
 * Why the pseudo-count: the raw frequencies give an unseen bin mass 0, so one new port
 * there would make the likelihood (and any attack plan built on the table) -Infinity /
 * impossible. Adding 0.5 to every bin is the Krichevsky-Trofimov / Jeffreys estimate,
 * the standard choice that keeps every bin possible while shrinking the observed
 * frequencies by at most bins / (2n). Throws RangeError on a non-integer range or width.
 *
 * @example fitHistogram(ports, 256, 1024, 65535).bins[0] // { from: 1024, to: 1279, count, mass }
 */
export function fitHistogram(xs: Numbers, binWidth: number, min: number, max: number, options: HistogramOptions = {}): Histogram {
  if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) throw new RangeError(`fitHistogram: bad range [${min}, ${max}]`);
  if (!Number.isInteger(binWidth) || binWidth < 1) throw new RangeError(`fitHistogram: binWidth must be a positive integer, got ${binWidth}`);
  const pseudoCount = options.pseudoCount ?? 0.5;
  if (!(pseudoCount >= 0)) throw new RangeError(`fitHistogram: pseudoCount must be >= 0, got ${pseudoCount}`);
  const B = ceil((max - min + 1) / binWidth);
  const counts = new Float64Array(B);
  let n = 0;
  let outside = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (!(x >= min && x <= max)) {
      outside++;
      continue;
    }
    counts[floor((x - min) / binWidth)]! += 1;
    n++;
  }
  const total = n + pseudoCount * B;
  const bins: HistogramBin[] = new Array(B);
  let logLik = outside > 0 ? -Infinity : 0;
  for (let j = 0; j < B; j++) {
    const from = min + j * binWidth;
    const to = Math.min(max, from + binWidth - 1);
    const mass = total > 0 ? (counts[j]! + pseudoCount) / total : 1 / B;
    bins[j] = { from, to, count: counts[j]!, mass };
    if (counts[j]! > 0) logLik += counts[j]! * log(mass / (to - from + 1));
  }
  const parameters = B - 1 + ((options.rangeFromData ?? true) ? 2 : 0);
  return { min, max, binWidth, n, outside, pseudoCount, bins, logLik, parameters };
}

/**
 * Log-likelihood of any data (for example a held-out run) under a fitted histogram:
 * sum of log(mass / width) of each value's bin; -Infinity if a value is outside
 * [min, max], where the model has no mass.
 */
export function histogramLogLik(h: Histogram, xs: Numbers): number {
  const logDensity = h.bins.map((b) => log(b.mass / (b.to - b.from + 1)));
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (!(x >= h.min && x <= h.max)) return -Infinity;
    s += logDensity[floor((x - h.min) / h.binWidth)]!;
  }
  return s;
}

/**
 * The histogram's CDF as a function (prefix sums computed once), for `ksTest` with
 * `{ discrete: true }`: P(X <= x) with mass spread evenly over the ports of each bin.
 */
export function histogramCdf(h: Histogram): (x: number) => number {
  const before = new Float64Array(h.bins.length);
  let acc = 0;
  for (let j = 0; j < h.bins.length; j++) {
    before[j] = acc;
    acc += h.bins[j]!.mass;
  }
  return (x: number) => {
    if (Number.isNaN(x)) return NaN;
    if (x < h.min) return 0;
    if (x >= h.max) return 1;
    const j = floor((floor(x) - h.min) / h.binWidth);
    const b = h.bins[j]!;
    return before[j]! + (b.mass * (floor(x) - b.from + 1)) / (b.to - b.from + 1);
  };
}
