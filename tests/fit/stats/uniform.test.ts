import { describe, expect, it } from '@jest/globals';
import { expectedUniformRange, fitUniform, uniformCdf, uniformLogLik, uniformLogPmf } from '../../../pipeline/fit/stats/uniform.ts';
import { draws } from './samples.ts';

describe('uniform', () => {
  it('fits the sample extremes and their log-likelihood', () => {
    const f = fitUniform([3, 7, 5, 9]);
    expect(f).toMatchObject({ min: 3, max: 9, n: 4, parameters: 2 });
    expect(f.logLik).toBeCloseTo(-4 * Math.log(7), 14);
    expect(uniformLogLik([3, 7, 5, 9], 3, 9)).toBe(f.logLik);
    // Any wider support is less likely; a narrower one impossible.
    expect(uniformLogLik([3, 7, 5, 9], 2, 9)).toBeLessThan(f.logLik);
    expect(uniformLogLik([3, 7, 5, 9], 4, 9)).toBe(-Infinity);
  });

  it('expectedUniformRange matches brute force, in both the summed and the series regime', () => {
    const brute = (N: number, n: number) => {
      let s = 0;
      for (let k = 1; k < N; k++) s += (k / N) ** n;
      return N - 1 - 2 * s;
    };
    for (const [N, n] of [[7, 4], [100, 30], [1000, 49], [1000, 51], [64000, 100], [64511, 1000000]]) {
      expect(Math.abs(expectedUniformRange(N!, n!) - brute(N!, n!))).toBeLessThan(1e-8 * N!);
    }
  });

  it('corrects the range so that it is unbiased over repetitions (pool much larger than the sample)', () => {
    // 400 samples of n = 20 from 1024..65535: sd of one corrected width ~3000, of the mean ~150.
    let sum = 0;
    for (let r = 0; r < 400; r++) {
      const f = fitUniform(draws(20, `uni/${r}`, (g) => g.int(1024, 65535)));
      sum += f.corrected.max - f.corrected.min + 1;
    }
    const meanWidth = sum / 400;
    expect(Math.abs(meanWidth - 64512)).toBeLessThan(600);
    // The classical correction for one sample: each end moves out by ~range/(n - 1) - 1/2.
    const f = fitUniform([1000, 3000, 2000, 5000, 4000]);
    expect(f.corrected.min).toBeCloseTo(1000 - 4000 / 4 + 0.5, 0);
    expect(f.corrected.max).toBeCloseTo(5000 + 4000 / 4 - 0.5, 0);
  });

  it('adds nothing once every value of the pool has almost surely been seen', () => {
    const f = fitUniform(draws(10000, 'uni-small-pool', (g) => g.int(2048, 2147)));
    expect(f.min).toBe(2048);
    expect(f.max).toBe(2147);
    expect(f.corrected.min).toBeCloseTo(2048, 6);
    expect(f.corrected.max).toBeCloseTo(2147, 6);
  });

  it('has a step CDF on the integers and a flat pmf', () => {
    expect(uniformCdf(9, 10, 19)).toBe(0);
    expect(uniformCdf(10, 10, 19)).toBeCloseTo(0.1, 15);
    expect(uniformCdf(10.9, 10, 19)).toBeCloseTo(0.1, 15);
    expect(uniformCdf(14, 10, 19)).toBeCloseTo(0.5, 15);
    expect(uniformCdf(19, 10, 19)).toBe(1);
    expect(uniformLogPmf(12, 10, 19)).toBeCloseTo(-Math.log(10), 15);
    expect(uniformLogPmf(12.5, 10, 19)).toBe(-Infinity);
    expect(uniformLogPmf(20, 10, 19)).toBe(-Infinity);
  });

  it('handles one value and rejects empty or non-integer input', () => {
    expect(fitUniform([42])).toMatchObject({ min: 42, max: 42, logLik: 0, corrected: { min: 42, max: 42 } });
    expect(() => fitUniform([])).toThrow(RangeError);
    expect(() => fitUniform([1, 2.5])).toThrow(/not an integer/);
    expect(() => fitUniform([1, Infinity])).toThrow(/not an integer/);
  });
});
