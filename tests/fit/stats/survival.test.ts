import { describe, expect, it } from '@jest/globals';
import * as ss from 'simple-statistics';
import { Rng } from '../../../pipeline/random.ts';
import { normalCdf, normalPdf } from '../../../pipeline/fit/stats/special.ts';
import { countDisagreeing, estimateTimeout, fitNormalTimeout, npmleTimeout, type TimeoutProbe } from '../../../pipeline/fit/stats/survival.ts';

/**
 * The seed's Algorithm 2 (20 s sweep while replies get in) then Algorithm 3 (binary
 * search: d = floor((l + r) / 2); replied ? l = d + 1 : r = d - 1), against a NAT whose
 * mapping lives T + e seconds, e ~ Normal(0, jitter) per probe: a reply after d seconds
 * gets in iff d < T + e.
 */
function searchTimeout(T: number, jitter: number, rng: Rng, out: TimeoutProbe[]): void {
  const probe = (delay: number): boolean => {
    const replied = delay < T + (jitter > 0 ? rng.normal(0, jitter) : 0);
    out.push({ delay, replied });
    return replied;
  };
  let delay = 0;
  let replied: boolean;
  do {
    delay += 20;
    replied = probe(delay);
  } while (replied && delay < 3600);
  if (replied) return;
  let l = delay - 20;
  let r = delay;
  while (l < r) {
    const d = Math.floor((l + r) / 2);
    if (probe(d)) l = d + 1;
    else r = d - 1;
  }
}

/**
 * Standard error of the MLE of mu at the true (T, sigma) for the delays actually probed:
 * the inverse expected Fisher information of the probit model in (mu, sigma), using
 * dP/dmu = -phi(z)/sigma, dP/dsigma = -z phi(z)/sigma per probe, z = (d - T)/sigma.
 */
function muStdErr(probes: TimeoutProbe[], T: number, sigma: number): number {
  let imm = 0;
  let ims = 0;
  let iss = 0;
  for (const p of probes) {
    const z = (p.delay - T) / sigma;
    const P = normalCdf(z);
    if (!(P > 0 && P < 1)) continue;
    const k = normalPdf(z) ** 2 / (sigma * sigma * P * (1 - P));
    imm += k;
    ims += k * z;
    iss += k * z * z;
  }
  return Math.sqrt(iss / (imm * iss - ims * ims));
}

const r = (delay: number): TimeoutProbe => ({ delay, replied: true });
const s = (delay: number): TimeoutProbe => ({ delay, replied: false });

describe('survival: NPMLE of the timeout distribution', () => {
  it('is the pool-adjacent-violators fit of the no-reply rate, ties pooled', () => {
    const { delays, cdf } = npmleTimeout([r(10), s(20), r(30), s(40), r(40), s(50)]);
    expect(delays).toEqual([10, 20, 30, 40, 50]);
    // Raw rates 0, 1, 0, 1/2, 1: the violation at 20-30 pools to 1/2.
    expect(cdf).toEqual([0, 0.5, 0.5, 0.5, 1]);
    expect(estimateTimeout([r(10), s(20), r(30), s(40), r(40), s(50)])!.curve).toEqual([[10, 1], [20, 0.5], [30, 0.5], [40, 0.5], [50, 0]]);
  });

  it('is non-decreasing on noisy probes', () => {
    const rng = new Rng('npmle');
    const probes: TimeoutProbe[] = [];
    for (let i = 0; i < 30; i++) searchTimeout(90, 8, rng, probes);
    const { cdf } = npmleTimeout(probes);
    for (let i = 1; i < cdf.length; i++) expect(cdf[i]!).toBeGreaterThanOrEqual(cdf[i - 1]!);
    expect(cdf[0]).toBe(0);
    expect(cdf[cdf.length - 1]).toBe(1);
  });
});

describe('survival: estimateTimeout', () => {
  it('brackets an exact timeout between the last reply and the first silence, within 1 s', () => {
    const rng = new Rng('exact');
    const Ts = [1.5, 19.99, 20, 37.3, 38, 64, 65, 65.5, 119.01, 300, 3599];
    for (let i = 0; i < 100; i++) Ts.push(1 + rng.next() * 500);
    for (const T of Ts) {
      const probes: TimeoutProbe[] = [];
      searchTimeout(T, 0, rng, probes);
      const e = estimateTimeout(probes)!;
      expect(e.method).toBe('threshold');
      expect(e.low!).toBeLessThan(T);
      expect(e.high!).toBeGreaterThanOrEqual(T);
      expect(e.high! - e.low!).toBeLessThanOrEqual(2);
      expect(Math.abs(e.seconds! - T)).toBeLessThanOrEqual(1);
      expect(e.disagreeing).toBe(0);
      expect(e.sigma).toBe(0);
      expect(e.probes).toBe(probes.length);
    }
  });

  it('matches a hand-worked search (T = 65 s)', () => {
    const probes: TimeoutProbe[] = [];
    searchTimeout(65, 0, new Rng('x'), probes);
    // Sweep 20, 40, 60 replied, 80 silent; then 70 silent, 64 replied, 67 silent, 65 silent.
    expect(probes).toEqual([r(20), r(40), r(60), s(80), s(70), r(64), s(67), s(65)]);
    expect(estimateTimeout(probes)).toMatchObject({ seconds: 64.5, low: 64, high: 65, probes: 8, disagreeing: 0, method: 'threshold' });
  });

  it('recovers a jittered timeout (sigma 2 s, 10 searches) within 4 standard errors, bracket covering it', () => {
    // Tolerance per repetition: 4 x the Fisher standard error of mu for the delays
    // probed (typically 0.4-0.6 s here, with ~80 probes of which ~20 fall within 2 sigma).
    const sigma = 2;
    const z: number[] = [];
    const sigmas: number[] = [];
    let covered = 0;
    const reps = 30;
    for (let rep = 0; rep < reps; rep++) {
      const rng = new Rng(`jitter/${rep}`);
      const T = 30 + 200 * rng.next();
      const probes: TimeoutProbe[] = [];
      for (let k = 0; k < 10; k++) searchTimeout(T, sigma, rng, probes);
      const e = estimateTimeout(probes)!;
      expect(e.method).toBe('normal');
      const se = muStdErr(probes, T, sigma);
      expect(Math.abs(e.seconds! - T)).toBeLessThan(4 * se);
      expect(e.disagreeing).toBe(countDisagreeing(probes, e.seconds!));
      expect(e.low!).toBeLessThan(e.seconds!);
      expect(e.high!).toBeGreaterThan(e.seconds!);
      if (e.low! <= T && T <= e.high!) covered++;
      z.push((e.seconds! - T) / se);
      sigmas.push(e.sigma!);
    }
    // The errors scale like the standard error says (sd of z near 1, measured 0.99 over 300 runs).
    expect(ss.sampleStandardDeviation(z)).toBeGreaterThan(0.6);
    expect(ss.sampleStandardDeviation(z)).toBeLessThan(1.5);
    // A 95%-or-wider bracket: measured 98.5% over 200 runs.
    expect(covered).toBeGreaterThanOrEqual(27);
    // sigma is estimated (the probit MLE runs ~10% low with this few disagreements).
    expect(ss.median(sigmas)).toBeGreaterThan(0.6 * sigma);
    expect(ss.median(sigmas)).toBeLessThan(1.4 * sigma);
  });

  it('counts probes that contradict one threshold at the median', () => {
    // Mirror-symmetric about 40 (replies <-> silences), so the fitted median is 40; one
    // reply above it (42) and one silence below it (38) disagree.
    const probes = [r(10), r(20), r(30), r(38), s(38), r(42), s(42), s(50), s(60), s(70)];
    const e = estimateTimeout(probes)!;
    expect(e.method).toBe('normal');
    expect(e.seconds!).toBeCloseTo(40, 6);
    expect(e.disagreeing).toBe(2);
    expect(e.low!).toBeLessThan(38);
    expect(e.high!).toBeGreaterThan(42);
    // At the threshold itself a reply disagrees (timeout > d is false), a silence does not.
    expect(countDisagreeing([r(40), s(40)], 40)).toBe(1);
    expect(countDisagreeing([r(39), s(41)], 40)).toBe(0);
    expect(countDisagreeing([r(41), s(39)], 40)).toBe(2);
  });

  it('lets sigma go to ~0 when probes disagree only at one tied delay', () => {
    const e = estimateTimeout([r(10), r(20), r(30), r(35), s(35), s(40), s(60)])!;
    expect(e.method).toBe('normal');
    expect(e.sigma).toBe(0);
    expect(e.seconds!).toBeCloseTo(35, 4);
    expect(e.low!).toBeLessThanOrEqual(35);
    expect(e.high!).toBeGreaterThanOrEqual(35);
    expect(fitNormalTimeout([r(10), r(30), r(35), s(35), s(40)]).sigmaAtFloor).toBe(true);
    // Censored probes have no Normal MLE: the direct fit refuses them.
    expect(() => fitNormalTimeout([r(10), r(20)])).toThrow(RangeError);
  });

  it('falls back to the NPMLE when replies do not fall off with the delay', () => {
    const e = estimateTimeout([s(10), s(20), s(30), r(40), r(50), r(60)])!;
    expect(e.method).toBe('npmle');
    expect(e.sigma).toBeNull();
    expect(e.curve.every(([, S]) => S === 0.5)).toBe(true);
  });

  it('reports one-sided bounds when the probes never bracket the timeout', () => {
    const all: TimeoutProbe[] = [];
    searchTimeout(5000, 0, new Rng('long'), all);
    expect(estimateTimeout(all)).toMatchObject({ seconds: null, low: 3600, high: null, method: 'right-censored', disagreeing: 0 });
    expect(estimateTimeout([s(20), s(40)])).toMatchObject({ seconds: null, low: 0, high: 20, method: 'left-censored', probes: 2 });
    expect(estimateTimeout([])).toBeNull();
    expect(() => estimateTimeout([{ delay: NaN, replied: true }])).toThrow(RangeError);
  });
});
