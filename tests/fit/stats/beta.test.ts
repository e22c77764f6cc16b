import { describe, expect, it } from '@jest/globals';
import * as ss from 'simple-statistics';
import { betaCdf, betaLogLik, betaLogPdf, betaQuantile, betaShapesFromLogMeans, fitBeta4, regularizedBeta, type Beta4Fit } from '../../../pipeline/fit/stats/beta.ts';
import { digamma } from '../../../pipeline/fit/stats/special.ts';
import { CARRIER, carrierPorts, draws } from './samples.ts';

const PARAMS = ['alpha', 'beta', 'loc', 'scale'] as const;

describe('beta: density, CDF and quantile', () => {
  it('betaLogPdf matches scipy.stats.beta.logpdf, with loc/scale and at the support edges', () => {
    const { alpha, beta, loc, scale } = CARRIER;
    expect(betaLogPdf(5000, alpha, beta, loc, scale)).toBeCloseTo(-10.417664965073216, 12);
    expect(betaLogPdf(0.25, 0.5, 0.5)).toBeCloseTo(-0.30774166906356415, 13);
    expect(betaLogPdf(0.3, 2, 5)).toBeCloseTo(0.7705248015812898, 13);
    expect(betaLogPdf(loc - 1, alpha, beta, loc, scale)).toBe(-Infinity);
    expect(betaLogPdf(0, 1, 3)).toBeCloseTo(Math.log(3), 14); // Beta(1, 3) density at 0 is 3
    expect(betaLogPdf(0, 0.5, 3)).toBe(Infinity);
    expect(betaLogPdf(1, 2, 3)).toBe(-Infinity);
  });

  it('regularizedBeta matches mpmath.betainc to 1e-13, including shapes in the thousands', () => {
    const cases: [number, number, number, number][] = [
      [0.3, 2, 3, 0.3483], [0.01, 0.5, 0.5, 0.06376856085851985], [0.99, 0.5, 0.5, 0.9362314391414801],
      [0.5, 200, 300, 0.9999964565197356], [0.4, 200, 300, 0.502428616319932], [0.41, 2000, 3000, 0.9252621262083042],
      [1e-5, 0.1, 5, 0.38685187798145926], [0.7, CARRIER.alpha, CARRIER.beta, 0.9858132878716076], [0.999, 1, 1, 0.999],
    ];
    for (const [x, a, b, want] of cases) expect(Math.abs(regularizedBeta(x, a, b) - want)).toBeLessThan(1e-13);
  });

  it('betaCdf applies loc and scale, is 0 / 1 outside the support and monotone inside', () => {
    const { alpha, beta, loc, scale } = CARRIER;
    expect(betaCdf(loc + 0.7 * scale, alpha, beta, loc, scale)).toBeCloseTo(0.9858132878716076, 12);
    expect(betaCdf(loc - 5, alpha, beta, loc, scale)).toBe(0);
    expect(betaCdf(loc + scale + 5, alpha, beta, loc, scale)).toBe(1);
    let prev = 0;
    for (let x = 4600; x <= 18600; x += 50) {
      const f = betaCdf(x, alpha, beta, loc, scale);
      expect(f).toBeGreaterThanOrEqual(prev);
      prev = f;
    }
  });

  it('betaQuantile inverts betaCdf to 1e-12, also for shapes below 1 and far tails', () => {
    for (const [a, b] of [[CARRIER.alpha, CARRIER.beta], [0.3, 0.7], [50, 2], [1, 1]] as const) {
      for (const p of [1e-9, 0.001, 0.1, 0.5, 0.9, 0.999999]) {
        const z = betaQuantile(p, a, b);
        expect(z).toBeGreaterThanOrEqual(0);
        expect(z).toBeLessThanOrEqual(1);
        expect(Math.abs(betaCdf(z, a, b) - p)).toBeLessThan(1e-12 * Math.max(p, 1e-3));
      }
    }
    // loc and scale map the unit quantile linearly.
    expect(betaQuantile(0.3, 2, 3, 10, 5)).toBeCloseTo(10 + 5 * betaQuantile(0.3, 2, 3), 12);
    expect(betaQuantile(0, 2, 3, 10, 5)).toBe(10);
    expect(betaQuantile(1, 2, 3, 10, 5)).toBe(15);
  });
});

describe('beta: shape MLE for a fixed support', () => {
  it('solves psi(a) - psi(a + b) = mean log z and psi(b) - psi(a + b) = mean log(1 - z)', () => {
    const zs = draws(100000, 'shapes', (r) => r.beta(2, 5));
    let s1 = 0;
    let s2 = 0;
    for (const z of zs) {
      s1 += Math.log(z);
      s2 += Math.log1p(-z);
    }
    s1 /= zs.length;
    s2 /= zs.length;
    const { a, b } = betaShapesFromLogMeans(s1, s2);
    expect(Math.abs(digamma(a) - digamma(a + b) - s1)).toBeLessThan(1e-12);
    expect(Math.abs(digamma(b) - digamma(a + b) - s2)).toBeLessThan(1e-12);
    // Fisher standard errors at n = 1e5 are ~0.009 (a) and ~0.023 (b).
    expect(Math.abs(a - 2)).toBeLessThan(0.04);
    expect(Math.abs(b - 5)).toBeLessThan(0.1);
  });
});

describe('beta: four-parameter MLE', () => {
  // 40 seeded samples of n = 5000 carrier ports. Measured spread of the estimates
  // (sample sd over the repetitions): alpha 0.09, beta 0.37, loc 38, scale 460; the
  // Fisher standard errors reported by the fit agree to within ~15%.
  const R = 40;
  const fits: Beta4Fit[] = [];
  for (let r = 0; r < R; r++) fits.push(fitBeta4(carrierPorts(5000, `beta-rep/${r}`)));

  it('lands within 4 sampling sd of the seed carrier at n = 5000, with little bias', () => {
    for (const f of fits) {
      expect(f.converged).toBe(true);
      expect(f.boundary).toEqual({ lower: 'interior', upper: 'interior' });
    }
    for (const k of PARAMS) {
      const est = fits.map((f) => f[k]);
      const sd = ss.sampleStandardDeviation(est);
      for (const e of est) expect(Math.abs(e - CARRIER[k])).toBeLessThan(4 * sd);
      // The MLE's O(1/n) bias is a small part of its noise.
      expect(Math.abs(ss.mean(est) - CARRIER[k])).toBeLessThan(0.5 * sd);
    }
  });

  it('reports Fisher standard errors that match the spread over repetitions', () => {
    for (const k of PARAMS) {
      const sd = ss.sampleStandardDeviation(fits.map((f) => f[k]));
      const se = ss.median(fits.map((f) => f.stdErr![k]));
      expect(se / sd).toBeGreaterThan(0.7);
      expect(se / sd).toBeLessThan(1.4);
    }
  });

  // Its speed (~35-50 ms on 2 cores) belongs in a benchmark, not in a timed test.
  it('recovers the carrier within 4 standard errors at n = 1e5', () => {
    const xs = carrierPorts(100000, 'beta-1e5');
    const f = fitBeta4(xs);
    for (const k of PARAMS) expect(Math.abs(f[k] - CARRIER[k])).toBeLessThan(4 * f.stdErr![k]);
    expect(f.n).toBe(100000);
    expect(f.parameters).toBe(4);
  });

  it('reports the log-likelihood of its parameters and is a maximum of it', () => {
    const xs = carrierPorts(3000, 'beta-max');
    const f = fitBeta4(xs);
    expect(f.logLik).toBeCloseTo(betaLogLik(xs, f.alpha, f.beta, f.loc, f.scale), 6);
    // Nudging any parameter by a tenth of its standard error lowers the likelihood.
    for (const k of PARAMS) {
      for (const sign of [-1, 1]) {
        const p = { alpha: f.alpha, beta: f.beta, loc: f.loc, scale: f.scale };
        p[k] += sign * 0.1 * f.stdErr![k];
        expect(betaLogLik(xs, p.alpha, p.beta, p.loc, p.scale)).toBeLessThan(f.logLik);
      }
    }
  });

  it('is equivariant under x -> a x + b (same shapes, transformed support)', () => {
    const xs = carrierPorts(2000, 'beta-equi');
    const ys = xs.map((x) => 0.001 * x - 7);
    const f = fitBeta4(xs);
    const g = fitBeta4(ys);
    expect(g.alpha).toBeCloseTo(f.alpha, 5);
    expect(g.beta).toBeCloseTo(f.beta, 4);
    expect(Math.abs(g.loc - (0.001 * f.loc - 7))).toBeLessThan(1e-4);
    expect(Math.abs(g.scale - 0.001 * f.scale)).toBeLessThan(1e-3);
    expect(g.logLik).toBeCloseTo(f.logLik - 2000 * Math.log(0.001), 5);
  });

  it('takes number[] and typed arrays alike, large continuous samples included', () => {
    const xs = draws(200000, 'beta-cont', (r) => 3 + 4 * r.beta(3, 2));
    const f = fitBeta4(xs);
    const g = fitBeta4(Array.from(xs.subarray(0, 1000)));
    expect(f.boundary).toEqual({ lower: 'interior', upper: 'interior' });
    expect(Math.abs(f.alpha - 3)).toBeLessThan(4 * f.stdErr!.alpha);
    expect(Math.abs(f.loc - 3)).toBeLessThan(4 * f.stdErr!.loc);
    expect(Number.isFinite(g.logLik)).toBe(true);
  });

  it('flags an endpoint collapsing onto the data when a shape is below 1', () => {
    const xs = draws(2000, 'beta-sub1', (r) => 10 + 5 * r.beta(0.5, 3));
    const f = fitBeta4(xs);
    expect(f.boundary.lower).toBe('at-data');
    expect(f.alpha).toBeLessThan(1);
    expect(f.stdErr).toBeNull();
    // The constraint: the endpoint stays minGap (1e-6 of the range) below the minimum.
    const min = Math.min(...xs);
    const range = Math.max(...xs) - min;
    expect(min - f.loc).toBeCloseTo(1e-6 * range, 10);
    // A larger minGap is honoured.
    const g = fitBeta4(xs, { minGap: 0.01 });
    expect(min - g.loc).toBeGreaterThanOrEqual(0.01 - 1e-12);
  });

  it('sends the upper endpoint far beyond data with no upper limit (exponential)', () => {
    const xs = draws(2000, 'beta-exp', (r) => r.exponential(0.1));
    const max = Math.max(...xs);
    const range = max - Math.min(...xs);
    const f = fitBeta4(xs);
    expect(f.loc + f.scale).toBeGreaterThan(max + 10 * range);
    expect(f.beta).toBeGreaterThan(100);
    // With a tight cap the endpoint ends on it and says so.
    const g = fitBeta4(xs, { maxGapRanges: 2 });
    expect(g.boundary.upper).toBe('far');
    expect(g.loc + g.scale).toBeCloseTo(max + 2 * range, 6);
  });

  it('rejects too few distinct values and non-finite input', () => {
    expect(() => fitBeta4([1, 2, 1, 2])).toThrow(RangeError);
    expect(() => fitBeta4([1, 2, 3, NaN])).toThrow(/not finite/);
  });
});
