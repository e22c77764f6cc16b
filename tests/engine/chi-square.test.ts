/** The test's own chi-square p-value against tabulated critical values (scipy.stats.chi2.sf agrees to 4 digits). */
import { chiSquareSurvival, segmentFit } from './chi-square.ts';

describe('chi-square survival function', () => {
  it.each([
    [1, 3.841, 0.05],
    [1, 10.828, 0.001],
    [10, 18.307, 0.05],
    [10, 29.588, 0.001],
    [15, 30.578, 0.01],
    [100, 124.342, 0.05],
    [100, 149.449, 0.001],
    [1000, 1074.679, 0.05],
  ])('df %d at %d is %d', (df, x, p) => {
    expect(chiSquareSurvival(x, df)).toBeCloseTo(p, 4);
  });

  it('rejects draws that ignore the masses and accepts exact expected counts', () => {
    const segments = [[0, 99, 0.9], [100, 199, 0.1]] as const;
    const even = Array.from({ length: 10000 }, (_, i) => i % 200);
    expect(segmentFit(even, segments).p).toBeLessThan(1e-12);
    const exact = Array.from({ length: 10000 }, (_, i) => (i < 9000 ? i % 100 : 100 + (i % 100)));
    const fit = segmentFit(exact, segments);
    expect(fit.statistic).toBeCloseTo(0, 9);
    expect(fit.p).toBeCloseTo(1, 9);
    expect(segmentFit([500], segments).outside).toBe(1);
  });
});
