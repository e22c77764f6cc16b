/**
 * NAT mapping timeouts from probes. A probe waits `delay` seconds and reports whether
 * the mapping still let a packet in, so each probe only says "timeout > delay" or
 * "timeout <= delay": current-status (interval-censored) data. We estimate the timeout
 * distribution F(d) = P(timeout <= d) nonparametrically (isotonic regression) and
 * parametrically (a Normal timeout, i.e. a probit model in the delay), and summarise it
 * as the median with a bracket.
 */
import { logNormalCdf, normalHazardLower } from './special.ts';

// Math functions bound once: in a vm context (jest) each `Math.x` in a hot loop is a
// slow global lookup (20x slower measured), in plain Node it is free either way.
const { log, exp, abs } = Math;

export interface TimeoutProbe {
  /** Seconds between creating (or last using) the mapping and the inbound packet. */
  delay: number;
  /** The packet got in: the mapping was alive at `delay` (timeout > delay). */
  replied: boolean;
}

/** Distinct delays with the number of probes and of silent (not replied) probes. */
interface Pooled {
  delays: number[];
  total: number[];
  silent: number[];
}

function pool(probes: readonly TimeoutProbe[]): Pooled {
  probes.forEach((p, i) => {
    if (!Number.isFinite(p.delay)) throw new RangeError(`timeout probe ${i}: delay is not finite (${p.delay})`);
  });
  const sorted = [...probes].sort((a, b) => a.delay - b.delay);
  const delays: number[] = [];
  const total: number[] = [];
  const silent: number[] = [];
  for (const p of sorted) {
    const k = delays.length - 1;
    if (k >= 0 && delays[k] === p.delay) {
      total[k]! += 1;
      if (!p.replied) silent[k]! += 1;
    } else {
      delays.push(p.delay);
      total.push(1);
      silent.push(p.replied ? 0 : 1);
    }
  }
  return { delays, total, silent };
}

/**
 * Nonparametric MLE of F(d) = P(timeout <= d) from current-status probes, at each
 * distinct delay: the isotonic (non-decreasing) regression of the "no reply" indicator
 * on the delay, with ties pooled, by pool-adjacent-violators. This is the exact NPMLE
 * for current-status data (Groeneboom & Wellner), assumption-free, so it is what the
 * report plots next to the parametric fit.
 *
 * @example npmleTimeout([{delay: 10, replied: true}, {delay: 20, replied: false}])
 *   // { delays: [10, 20], cdf: [0, 1] }
 */
export function npmleTimeout(probes: readonly TimeoutProbe[]): { delays: number[]; cdf: number[] } {
  const { delays, total, silent } = pool(probes);
  // Blocks of adjacent delays sharing one fitted value: [first index, weight, sum].
  const start: number[] = [];
  const weight: number[] = [];
  const sum: number[] = [];
  for (let i = 0; i < delays.length; i++) {
    start.push(i);
    weight.push(total[i]!);
    sum.push(silent[i]!);
    // Merge while the last block's mean is below the previous one's (a violation).
    while (start.length > 1) {
      const k = start.length - 1;
      if (sum[k - 1]! / weight[k - 1]! <= sum[k]! / weight[k]!) break;
      weight[k - 1]! += weight[k]!;
      sum[k - 1]! += sum[k]!;
      start.pop();
      weight.pop();
      sum.pop();
    }
  }
  const cdf = new Array<number>(delays.length);
  for (let k = 0; k < start.length; k++) {
    const end = k + 1 < start.length ? start[k + 1]! : delays.length;
    for (let i = start[k]!; i < end; i++) cdf[i] = sum[k]! / weight[k]!;
  }
  return { delays, cdf };
}

/** A probe pattern as (delay, sign, count) with sign +1 = silent, -1 = replied. */
interface Obs {
  d: Float64Array;
  s: Float64Array;
  w: Float64Array;
}

function observations(p: Pooled): Obs {
  const d: number[] = [];
  const s: number[] = [];
  const w: number[] = [];
  for (let i = 0; i < p.delays.length; i++) {
    const replied = p.total[i]! - p.silent[i]!;
    if (p.silent[i]! > 0) {
      d.push(p.delays[i]!);
      s.push(1);
      w.push(p.silent[i]!);
    }
    if (replied > 0) {
      d.push(p.delays[i]!);
      s.push(-1);
      w.push(replied);
    }
  }
  return { d: Float64Array.from(d), s: Float64Array.from(s), w: Float64Array.from(w) };
}

/**
 * log-likelihood of timeout ~ Normal(mu, 1/kappa) and its derivatives in mu and kappa.
 * P(silent at d) = Phi(kappa (d - mu)), P(reply) = Phi(-kappa (d - mu)).
 */
function normalLik(o: Obs, mu: number, kappa: number) {
  let ll = 0;
  let gMu = 0;
  let hMu = 0;
  let gK = 0;
  let hK = 0;
  let hKMu = 0;
  for (let i = 0; i < o.d.length; i++) {
    const x = o.d[i]! - mu;
    const si = o.s[i]!;
    const eta = si * kappa * x;
    const w = o.w[i]!;
    const lam = normalHazardLower(eta);
    const dlam = -lam * (eta + lam); // d/d eta of lam: <= 0, so log Phi is concave.
    ll += w * logNormalCdf(eta);
    gMu -= w * si * kappa * lam;
    hMu += w * kappa * kappa * dlam;
    gK += w * si * x * lam;
    hK += w * x * x * dlam;
    hKMu -= w * (si * lam + kappa * x * dlam);
  }
  return { ll, gMu, hMu, gK, hK, hKMu };
}

/**
 * Root of a decreasing function on a bracket by safeguarded Newton (bisection whenever
 * Newton leaves the bracket or stalls): every 1-D problem below is the derivative of a
 * concave function, so this always converges.
 */
function decreasingRoot(f: (x: number) => { g: number; h: number }, lo: number, hi: number, tol: number): number {
  let x = 0.5 * (lo + hi);
  for (let it = 0; it < 200; it++) {
    const { g, h } = f(x);
    if (g === 0) return x;
    if (g > 0) lo = x;
    else hi = x;
    let next = h < 0 ? x - g / h : NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (abs(next - x) <= tol || hi - lo <= tol) return next;
    x = next;
  }
  return x;
}

/** The mu maximising the likelihood for a fixed kappa (concave in mu). */
function bestMu(o: Obs, kappa: number, span: { lo: number; hi: number }, tol: number): number {
  let lo = span.lo;
  let hi = span.hi;
  // With both replies and silences the slope is positive far below the data and
  // negative far above, so widening terminates; the caps only guard against NaN.
  let step = span.hi - span.lo + 1;
  for (let i = 0; i < 100 && normalLik(o, lo, kappa).gMu < 0; i++) {
    hi = lo;
    lo -= step;
    step *= 2;
  }
  step = span.hi - span.lo + 1;
  for (let i = 0; i < 100 && normalLik(o, hi, kappa).gMu > 0; i++) {
    lo = hi;
    hi += step;
    step *= 2;
  }
  return decreasingRoot((m) => {
    const r = normalLik(o, m, kappa);
    return { g: r.gMu, h: r.hMu };
  }, lo, hi, tol);
}

/**
 * The kappa maximising the likelihood for a fixed mu (concave in kappa), in [kLo, kHi]:
 * safeguarded Newton in log kappa, since kappa spans ten decades.
 */
function bestKappa(o: Obs, mu: number, kLo: number, kHi: number): number {
  if (normalLik(o, mu, kHi).gK >= 0) return kHi;
  if (normalLik(o, mu, kLo).gK <= 0) return kLo;
  const t = decreasingRoot((t) => {
    const k = exp(t);
    const r = normalLik(o, mu, k);
    // d/dt of k * gK(k) has the sign pattern of gK; its slope is k^2 hK + k gK.
    return { g: k * r.gK, h: k * k * r.hK + k * r.gK };
  }, log(kLo), log(kHi), 1e-12);
  return exp(t);
}

export interface NormalTimeoutFit {
  mu: number;
  sigma: number;
  logLik: number;
  /** sigma sits at its floor: the probes fit one exact threshold (up to a tie). */
  sigmaAtFloor: boolean;
  /** sigma sits at its ceiling: no dependence of replies on the delay. */
  sigmaAtCeiling: boolean;
}

interface FitContext {
  o: Obs;
  span: { lo: number; hi: number };
  kLo: number;
  kHi: number;
  tol: number;
}

function fitContext(probes: readonly TimeoutProbe[]): FitContext {
  const o = observations(pool(probes));
  let lo = Infinity;
  let hi = -Infinity;
  for (const d of o.d) {
    lo = Math.min(lo, d);
    hi = Math.max(hi, d);
  }
  const width = Math.max(hi - lo, 1);
  const scale = Math.max(abs(lo), abs(hi), 1);
  // sigma from ~1e-6 of the delays (an exact threshold, to rounding) to 100x their span.
  return { o, span: { lo, hi }, kLo: 1 / (100 * width), kHi: 1 / (1e-6 * scale), tol: 1e-9 * scale };
}

function fitNormalIn(c: FitContext): NormalTimeoutFit {
  const { o, span, kLo, kHi, tol } = c;
  // The profile over mu is concave in kappa (partial maximisation of a function jointly
  // concave in (-kappa mu, kappa)), so the sign of its derivative brackets the optimum.
  // Its derivative is dl/dkappa at mu*(kappa) (envelope theorem) and its curvature the
  // Schur complement hK - hKMu^2 / hMu; both are taken in t = log kappa.
  const profileSlope = (t: number) => {
    const k = exp(t);
    const r = normalLik(o, bestMu(o, k, span, tol), k);
    return { g: k * r.gK, h: k * k * (r.hK - (r.hKMu * r.hKMu) / r.hMu) + k * r.gK };
  };
  let kappa: number;
  if (profileSlope(log(kHi)).g >= 0) kappa = kHi;
  else if (profileSlope(log(kLo)).g <= 0) kappa = kLo;
  else kappa = exp(decreasingRoot(profileSlope, log(kLo), log(kHi), 1e-12));
  const mu = bestMu(o, kappa, span, tol);
  return { mu, sigma: 1 / kappa, logLik: normalLik(o, mu, kappa).ll, sigmaAtFloor: kappa === kHi, sigmaAtCeiling: kappa === kLo };
}

/**
 * Maximum-likelihood fit of timeout ~ Normal(mu, sigma) to probes: a probit regression
 * of "no reply" on the delay, P(no reply at d) = Phi((d - mu) / sigma). The Normal
 * models a NAT whose timer fires at a nominal value with scheduling jitter; sigma may
 * shrink to ~1e-6 of the delays when the probes are consistent with an exact threshold
 * (the MLE is then at sigma -> 0, where `sigmaAtFloor` says so, and with no probe
 * between the last reply and the first silence any mu in that gap is a maximum). Solved
 * as nested 1-D concave problems (mu for fixed 1/sigma, then 1/sigma), which converge on
 * any data. Throws RangeError unless some probes replied and some did not.
 * Throws RangeError on no probes.
 */
export function fitNormalTimeout(probes: readonly TimeoutProbe[]): NormalTimeoutFit {
  if (!probes.some((p) => p.replied) || !probes.some((p) => !p.replied)) {
    throw new RangeError('fitNormalTimeout: needs both replied and silent probes (otherwise the timeout is censored; see estimateTimeout)');
  }
  return fitNormalIn(fitContext(probes));
}

/** Probes that contradict one exact timeout at `threshold`: a reply at or after it, or silence before it. */
export function countDisagreeing(probes: readonly TimeoutProbe[], threshold: number): number {
  let k = 0;
  for (const p of probes) if (p.replied ? p.delay >= threshold : p.delay < threshold) k++;
  return k;
}

/**
 * The fewest probes that contradict one exact timeout, over every threshold: what no
 * single timeout can explain. 0 for consistent probes.
 */
export function leastDisagreeing(probes: readonly TimeoutProbe[]): number {
  const { delays, total, silent } = pool(probes);
  let replies = 0;
  for (let i = 0; i < delays.length; i++) replies += total[i]! - silent[i]!;
  // Threshold at delays[i]: replies at or after it and silences before it disagree.
  let repliesFrom = replies;
  let silentBefore = 0;
  let best = Infinity;
  for (let i = 0; i < delays.length; i++) {
    best = Math.min(best, repliesFrom + silentBefore);
    repliesFrom -= total[i]! - silent[i]!;
    silentBefore += silent[i]!;
  }
  // Above every delay: only the silences disagree.
  return Math.min(best, silentBefore);
}

/** chi-square(1) 0.95 quantile / 2: the log-likelihood drop of a 95% likelihood-ratio interval. */
const LR_DROP_95 = 3.841458820694124 / 2;
/** Normal 0.975 quantile. */
const Z_975 = 1.959963984540054;

/**
 * One end of the profile-likelihood interval for mu: walk outward by doubling steps
 * until the profile drops below the target, then regula falsi (Illinois variant) on
 * the crossing, which needs a handful of profile evaluations instead of ~40 bisections.
 */
function lrEnd(c: FitContext, mu0: number, target: number, dir: 1 | -1, step0: number): number {
  const excess = (m: number) => normalLik(c.o, m, bestKappa(c.o, m, c.kLo, c.kHi)).ll - target;
  let a = mu0;
  let fa = excess(a);
  let step = step0;
  let b = mu0 + dir * step;
  let fb = excess(b);
  for (let i = 0; i < 60 && fb >= 0; i++) {
    a = b;
    fa = fb;
    step *= 2;
    b = mu0 + dir * step;
    fb = excess(b);
  }
  // Invariant: fa >= 0 (inside), fb < 0 (outside).
  let side = 0;
  for (let i = 0; i < 100 && abs(b - a) > c.tol; i++) {
    const m = (a * fb - b * fa) / (fb - fa);
    const fm = excess(m);
    if (fm >= 0) {
      a = m;
      fa = fm;
      if (side === 1) fb /= 2;
      side = 1;
    } else {
      b = m;
      fb = fm;
      if (side === -1) fa /= 2;
      side = -1;
    }
  }
  return 0.5 * (a + b);
}

export type TimeoutMethod = 'threshold' | 'normal' | 'npmle' | 'right-censored' | 'left-censored';

export interface TimeoutEstimate {
  /** The median timeout in seconds; null when the probes never bracket it (censored). */
  seconds: number | null;
  /** A bracket for the timeout (see `estimateTimeout`); null where unbounded. */
  low: number | null;
  high: number | null;
  /** Number of probes used. */
  probes: number;
  /** Probes contradicting one exact timeout at `seconds` (a reply at or after it, silence before it). */
  disagreeing: number;
  method: TimeoutMethod;
  /** Fitted spread of the timeout (Normal sigma); 0 for an exact threshold; null if not fitted. */
  sigma: number | null;
  /** NPMLE survival S(d) = P(timeout > d) at each distinct delay, for plotting. */
  curve: [number, number][];
}

/**
 * The timeout of a NAT mapping from its probes, as the bias table's
 * `{seconds, low, high, probes}` plus diagnostics.
 *
 * - Consistent probes (every reply at a shorter delay than every silence: what the
 *   seed's sweep plus binary search gives with an exact timer): `method: 'threshold'`,
 *   low = the longest delay that got a reply, high = the shortest that did not, so the
 *   timeout lies in (low, high]; seconds = the midpoint, within (high - low) / 2 of the
 *   truth (<= 1 s for Algorithm 3, whose last two probes are at most 2 s apart).
 * - Disagreeing probes (timer jitter, lost packets): `method: 'normal'`, the probit MLE
 *   of `fitNormalTimeout`; seconds = mu (the median), and [low, high] is the union of
 *   mu +- 1.96 sigma (where 95% of mappings time out; low not below 0) and the 95%
 *   profile-likelihood interval for mu (the uncertainty of the median itself, which dominates when few
 *   probes disagree and sigma is poorly determined). The union is what an engine
 *   needs: a keep-alive before `low` is safe for nearly every mapping and the estimate
 *   of the median is inside it.
 * - If replies do not depend on the delay at all (the fitted sigma runs to its ceiling),
 *   `method: 'npmle'`: seconds = the smallest delay where the NPMLE reaches 1/2, low /
 *   high = the last delay with F < 0.025 and the first with F >= 0.975 (null if none).
 * - Contradictory probes (replies after silences) give no median to publish: a timeout
 *   of 0, a negative one or one outside the delays probed would be an artefact of the fit,
 *   not a measurement. So seconds is null when the probit median is not inside
 *   (0, longest delay] and [shortest delay, longest delay], and when the NPMLE is already
 *   at 1/2 or more at the shortest delay (it never crosses 1/2 inside the data);
 *   `disagreeing` is then the fewest probes any single timeout contradicts
 *   (`leastDisagreeing`), and the caller warns.
 * - All probes replied: `method: 'right-censored'`, seconds = null, low = the longest
 *   delay probed, high = null (the timeout is longer than anything tried).
 * - No probe replied: `method: 'left-censored'`, seconds = null, low = 0, high = the
 *   shortest delay probed.
 *
 * Returns null for no probes; throws RangeError on a non-finite delay.
 *
 * @example estimateTimeout(probes) // Algorithm 2 + 3 against an exact 65 s timer:
 *   // { seconds: 64.5, low: 64, high: 65, probes: 8, disagreeing: 0, method: 'threshold', sigma: 0, curve: [...] }
 */
export function estimateTimeout(probes: readonly TimeoutProbe[]): TimeoutEstimate | null {
  if (probes.length === 0) return null;
  const { delays, cdf } = npmleTimeout(probes);
  const curve = delays.map((d, i): [number, number] => [d, 1 - cdf[i]!]);
  let lastReplied = -Infinity;
  let firstSilent = Infinity;
  for (const p of probes) {
    if (p.replied) lastReplied = Math.max(lastReplied, p.delay);
    else firstSilent = Math.min(firstSilent, p.delay);
  }
  const base = { probes: probes.length, curve };
  if (firstSilent === Infinity) {
    return { ...base, seconds: null, low: lastReplied, high: null, disagreeing: 0, method: 'right-censored', sigma: null };
  }
  if (lastReplied === -Infinity) {
    return { ...base, seconds: null, low: 0, high: firstSilent, disagreeing: 0, method: 'left-censored', sigma: null };
  }
  if (lastReplied < firstSilent) {
    const seconds = (lastReplied + firstSilent) / 2;
    return { ...base, seconds, low: lastReplied, high: firstSilent, disagreeing: countDisagreeing(probes, seconds), method: 'threshold', sigma: 0 };
  }
  const c = fitContext(probes);
  const fit = fitNormalIn(c);
  if (fit.sigmaAtCeiling) {
    // A median only where the NPMLE crosses 1/2 between two probed delays.
    const median = cdf[0]! < 0.5 ? (delays.find((_, i) => cdf[i]! >= 0.5) ?? null) : null;
    let low: number | null = null;
    let high: number | null = null;
    for (let i = 0; i < delays.length; i++) {
      if (cdf[i]! < 0.025) low = delays[i]!;
      if (high === null && cdf[i]! >= 0.975) high = delays[i]!;
    }
    return {
      ...base,
      seconds: median,
      low,
      high,
      disagreeing: median === null ? leastDisagreeing(probes) : countDisagreeing(probes, median),
      method: 'npmle',
      sigma: null,
    };
  }
  const target = fit.logLik - LR_DROP_95;
  const step = Math.max(fit.sigma, 1e-3 * (c.span.hi - c.span.lo + 1));
  const lrLow = lrEnd(c, fit.mu, target, -1, step);
  const lrHigh = lrEnd(c, fit.mu, target, 1, step);
  const sigma = fit.sigmaAtFloor ? 0 : fit.sigma;
  const inside = fit.mu > 0 && fit.mu >= delays[0]! && fit.mu <= delays[delays.length - 1]!;
  return {
    ...base,
    seconds: inside ? fit.mu : null,
    low: Math.max(0, Math.min(lrLow, fit.mu - Z_975 * sigma)),
    high: Math.max(lrHigh, fit.mu + Z_975 * sigma),
    disagreeing: inside ? countDisagreeing(probes, fit.mu) : leastDisagreeing(probes),
    method: 'normal',
    sigma,
  };
}
