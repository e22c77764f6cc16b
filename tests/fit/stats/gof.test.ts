import { describe, expect, it } from '@jest/globals';
import { betaCdf } from '../../../pipeline/fit/stats/beta.ts';
import { aic, fitHistogram, histogramCdf, histogramLogLik, kolmogorovPValue, ksTest } from '../../../pipeline/fit/stats/gof.ts';
import { fitUniform, uniformCdf } from '../../../pipeline/fit/stats/uniform.ts';
import { draws } from './samples.ts';

describe('gof: Kolmogorov-Smirnov', () => {
  it('matches scipy.stats.kstest for a continuous model and untied data', () => {
    const xs = Array.from({ length: 40 }, (_, i) => ((((i + 1) * 0.6180339887498949) % 1) ** 1.7));
    const r = ksTest(xs, (x) => betaCdf(x, 2, 5));
    // scipy: statistic 0.23982647967390514, statistic_sign -1 (the model CDF is above the ECDF).
    expect(r.d).toBeCloseTo(0.23982647967390514, 13);
    expect(r.dMinus).toBe(r.d);
    expect(r.dPlus).toBeLessThan(r.d);
    expect(r.n).toBe(40);
    // scipy.special.kolmogorov(sqrt(40) * D)
    expect(r.pValue).toBeCloseTo(0.02007674579644726, 12);
  });

  it('compares a discrete model at each distinct value and just below it', () => {
    const each = Array.from({ length: 10 }, (_, i) => i + 1);
    const cdf = (x: number) => uniformCdf(x, 1, 10);
    // The data are exactly the model: D = 0. The continuous formula would report 0.1,
    // the height of one step.
    expect(ksTest(each, cdf, { discrete: true }).d).toBe(0);
    expect(ksTest(each, cdf).d).toBeCloseTo(0.1, 15);
    // Heavy ties change nothing.
    const tied = each.flatMap((v) => Array<number>(100).fill(v));
    expect(ksTest(tied, cdf, { discrete: true }).d).toBe(0);
    // A real misfit: data on 1..10 against a model on 1..20.
    const wide = ksTest(tied, (x) => uniformCdf(x, 1, 20), { discrete: true });
    expect(wide.d).toBeCloseTo(0.5, 15);
    expect(wide.dPlus).toBeCloseTo(0.5, 15);
    // Data shifted up by one: the largest gap is just below the first value.
    const shifted = ksTest(each.map((v) => v + 1), cdf, { discrete: true });
    expect(shifted.dMinus).toBeCloseTo(0.1, 15);
  });

  it('gives calibrated p-values under the null (continuous model fixed in advance)', () => {
    let small = 0;
    for (let r = 0; r < 300; r++) {
      const xs = draws(500, `ks-null/${r}`, (g) => g.next());
      if (ksTest(xs, (x) => Math.min(1, Math.max(0, x))).pValue < 0.05) small++;
    }
    // Binomial(300, 0.05): mean 15, sd 3.8.
    expect(small).toBeGreaterThan(3);
    expect(small).toBeLessThan(30);
  });

  it('kolmogorovPValue matches scipy.special.kolmogorov on both sides of its series switch', () => {
    const table: [number, number][] = [
      [0.2, 0.999999999999495], [0.3, 0.9999906941986655], [0.5, 0.9639452436648751], [0.8, 0.5441424115741981],
      [0.99, 0.2808738392255489], [1.0, 0.26999967167735456], [1.01, 0.25943416909359746], [1.2, 0.11224966667072497],
      [1.5, 0.022217962616525127], [2.0, 0.0006709252557796953], [3.0, 3.045995948942526e-8],
    ];
    for (const [t, want] of table) expect(Math.abs(kolmogorovPValue(t, 1) - want)).toBeLessThan(1e-13 + 1e-10 * want);
    expect(kolmogorovPValue(0.1, 100)).toBeCloseTo(0.26999967167735456, 12);
    expect(kolmogorovPValue(0, 10)).toBe(1);
  });

  it('rejects empty input and NaN', () => {
    expect(() => ksTest([], (x) => x)).toThrow(RangeError);
    expect(() => ksTest([1, NaN], (x) => x)).toThrow(/NaN/);
  });
});

describe('gof: aic', () => {
  it('is 2k - 2 logLik', () => {
    expect(aic(-100, 4)).toBe(208);
    expect(aic(0, 0)).toBe(0);
  });
});

describe('gof: empirical histogram', () => {
  const xs = [1024, 1025, 1100, 1300, 1301, 1302, 1535];

  it('bins integer ports, last bin narrower, masses with the 1/2 pseudo-count summing to 1', () => {
    const h = fitHistogram(xs, 256, 1024, 1535 + 100);
    expect(h.bins.map((b) => [b.from, b.to, b.count])).toEqual([
      [1024, 1279, 3],
      [1280, 1535, 4],
      [1536, 1635, 0],
    ]);
    const total = 7 + 0.5 * 3;
    expect(h.bins.map((b) => b.mass)).toEqual([3.5 / total, 4.5 / total, 0.5 / total]);
    expect(h.n).toBe(7);
    expect(h.outside).toBe(0);
    expect(h.parameters).toBe(2 + 2);
    expect(fitHistogram(xs, 256, 1024, 1635, { rangeFromData: false }).parameters).toBe(2);
  });

  it('has a log-likelihood of mass / width per port, finite for unseen bins', () => {
    const h = fitHistogram(xs, 256, 1024, 1635);
    const [a, b, c] = h.bins.map((bin) => Math.log(bin.mass / (bin.to - bin.from + 1)));
    expect(h.logLik).toBeCloseTo(3 * a! + 4 * b!, 12);
    expect(histogramLogLik(h, xs)).toBeCloseTo(h.logLik, 12);
    expect(histogramLogLik(h, [1600])).toBeCloseTo(c!, 12);
    expect(Number.isFinite(c)).toBe(true);
    expect(histogramLogLik(h, [5000])).toBe(-Infinity);
    const outside = fitHistogram([...xs, 9999], 256, 1024, 1635);
    expect(outside.outside).toBe(1);
    expect(outside.logLik).toBe(-Infinity);
    // Without a pseudo-count an unseen bin is impossible.
    expect(histogramLogLik(fitHistogram(xs, 256, 1024, 1635, { pseudoCount: 0 }), [1600])).toBe(-Infinity);
  });

  it('has a CDF spreading each bin evenly over its ports', () => {
    const h = fitHistogram(xs, 256, 1024, 1635);
    const F = histogramCdf(h);
    const m = h.bins.map((b) => b.mass);
    expect(F(1023)).toBe(0);
    expect(F(1024)).toBeCloseTo(m[0]! / 256, 15);
    expect(F(1279)).toBeCloseTo(m[0]!, 15);
    expect(F(1279.5)).toBeCloseTo(m[0]!, 15);
    expect(F(1280 + 127)).toBeCloseTo(m[0]! + m[1]! / 2, 15);
    expect(F(1635)).toBe(1);
  });

  it('loses to the uniform on uniform data and beats it on clustered data (AIC)', () => {
    const uniformPorts = draws(5000, 'hist-uni', (g) => g.int(1024, 65535));
    const clustered = draws(5000, 'hist-cl', (g) => (g.next() < 0.8 ? g.int(1024, 9215) : g.int(1024, 65535)));
    for (const [ports, uniformWins] of [[uniformPorts, true], [clustered, false]] as const) {
      const u = fitUniform(ports);
      const h = fitHistogram(ports, 1024, u.min, u.max);
      expect(aic(u.logLik, u.parameters) < aic(h.logLik, h.parameters)).toBe(uniformWins);
      expect(ksTest(ports, histogramCdf(h), { discrete: true }).d).toBeLessThan(0.03);
    }
  });

  it('rejects a bad range or width', () => {
    expect(() => fitHistogram(xs, 0, 1, 10)).toThrow(RangeError);
    expect(() => fitHistogram(xs, 2.5, 1, 10)).toThrow(RangeError);
    expect(() => fitHistogram(xs, 10, 10, 1)).toThrow(RangeError);
  });
});
