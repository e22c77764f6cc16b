/** Two-sample tests for comparing campaigns. */
import { kolmogorovPValue } from '../fit/stats/gof.ts';
import { normalCdf } from '../fit/stats/special.ts';

export interface TwoSample {
  /** sup |F_a - F_b| over all values. */
  d: number;
  /** The smallest value where the supremum is reached (NaN for an empty sample). */
  at: number;
  n: [number, number];
  /** Asymptotic p-value at the effective size n_a n_b / (n_a + n_b); ties (discrete ports) make it conservative. */
  p: number;
}

/**
 * Two-sample Kolmogorov–Smirnov test.
 *
 * @example ksTwoSample([1, 2, 3], [1, 2, 3]).d // 0
 */
export function ksTwoSample(a: readonly number[], b: readonly number[]): TwoSample {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  const [n, m] = [x.length, y.length];
  if (n === 0 || m === 0) return { d: NaN, at: NaN, n: [n, m], p: NaN };
  let i = 0;
  let j = 0;
  let d = 0;
  let at = Math.min(x[0]!, y[0]!);
  while (i < n && j < m) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
    const gap = Math.abs(i / n - j / m);
    if (gap > d) [d, at] = [gap, v];
  }
  return { d, at, n: [n, m], p: kolmogorovPValue(d, (n * m) / (n + m)) };
}

/** Two-sided p-value of (a - b) / sqrt(se_a² + se_b²) under a standard normal. */
export function zPValue(a: number, seA: number, b: number, seB: number): { z: number; p: number } {
  const z = (a - b) / Math.sqrt(seA * seA + seB * seB);
  return { z, p: 2 * normalCdf(-Math.abs(z)) };
}
