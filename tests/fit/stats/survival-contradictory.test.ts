/**
 * Timeout probes that contradict each other (replies after longer delays than silences)
 * must never publish a timeout of 0, a negative one, or one outside the delays probed.
 */
import { describe, expect, it } from '@jest/globals';
import { Rng } from '../../../pipeline/random.ts';
import { estimateTimeout, leastDisagreeing, type TimeoutProbe } from '../../../pipeline/fit/stats/survival.ts';

const r = (delay: number): TimeoutProbe => ({ delay, replied: true });
const s = (delay: number): TimeoutProbe => ({ delay, replied: false });

describe('survival: contradictory probes', () => {
  it('publishes no timeout when silence at 0 s comes before a reply at 60 s (was 0)', () => {
    // NPMLE: no-reply rates 1 at 0 s and 0 at 60 s violate monotonicity and pool to 1/2 at
    // both: F never crosses 1/2 inside the data, so there is no median to report.
    const e = estimateTimeout([s(0), r(60)])!;
    expect(e).toMatchObject({ seconds: null, low: null, high: null, method: 'npmle' });
    // Any threshold is contradicted by one of the two probes.
    expect(e.disagreeing).toBe(1);
  });

  it('publishes no timeout when a reply and a silence tie at 0 s (was 0)', () => {
    const e = estimateTimeout([r(0), s(0)])!;
    expect(e.seconds).toBeNull();
    expect(e.disagreeing).toBe(1);
  });

  it('publishes no negative timeout when the probit median falls below every delay (was -1.2 s)', () => {
    const e = estimateTimeout([s(0), s(1), r(1), s(2), s(3)])!;
    expect(e.method).toBe('normal');
    expect(e.seconds).toBeNull();
    expect(e.low).toBe(0);
    expect(e.high!).toBeGreaterThan(3);
  });

  it('publishes no timeout for replies that only come after silences (was the shortest delay)', () => {
    for (const probes of [[s(10), r(30)], [s(5), s(10), r(20), r(40), r(80)], [s(1), s(2), s(3), s(4), r(100), s(100), s(100)]]) {
      expect(estimateTimeout(probes)!.seconds).toBeNull();
    }
  });

  it('still estimates a timeout with its interval when jitter makes a few probes disagree', () => {
    // Replies at 20, 24, 28; silences at 27, 30, 40: the crossing lies between 24 and 30.
    const e = estimateTimeout([r(20), s(40), s(30), r(24), s(27), r(28)])!;
    expect(e.method).toBe('normal');
    expect(e.seconds!).toBeGreaterThan(24);
    expect(e.seconds!).toBeLessThan(30);
    expect(e.low!).toBeLessThan(e.seconds!);
    expect(e.high!).toBeGreaterThan(e.seconds!);
  });

  it('counts the fewest probes any single timeout contradicts', () => {
    // Thresholds 10, 20, 30, 40 and above all: 2, 1, 2, 1, 2 probes disagree.
    expect(leastDisagreeing([r(10), s(20), r(30), s(40)])).toBe(1);
    expect(leastDisagreeing([r(10), r(20), s(30), s(40)])).toBe(0);
    expect(leastDisagreeing([s(10), s(20), r(30), r(40)])).toBe(2);
    expect(leastDisagreeing([r(5), s(5), r(5), s(5)])).toBe(2);
  });

  it('never gives a timeout at or below 0 or outside the probed delays, on 150 random probe sets', () => {
    const rng = new Rng('contradictory-probes');
    let published = 0;
    for (let t = 0; t < 150; t++) {
      const n = rng.int(2, 12);
      const probes: TimeoutProbe[] = [];
      // Delays on a coarse grid (ties are common) from 0 s; replies at random, so most sets contradict themselves.
      for (let i = 0; i < n; i++) probes.push({ delay: rng.int(0, 8) * 5, replied: rng.bernoulli(0.5) });
      const e = estimateTimeout(probes)!;
      if (e.seconds === null) continue;
      published += 1;
      const delays = probes.map((p) => p.delay);
      expect(e.seconds).toBeGreaterThan(0);
      expect(e.seconds).toBeGreaterThanOrEqual(Math.min(...delays));
      expect(e.seconds).toBeLessThanOrEqual(Math.max(...delays));
    }
    // The rule must not silence everything: consistent or nearly consistent sets still get a timeout.
    expect(published).toBeGreaterThan(25);
  });
});
