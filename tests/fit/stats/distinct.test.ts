import { describe, expect, it } from '@jest/globals';
import { distinctSorted } from '../../../pipeline/fit/stats/distinct.ts';
import { fitBeta4 } from '../../../pipeline/fit/stats/beta.ts';
import { ksTest } from '../../../pipeline/fit/stats/gof.ts';
import { uniformCdf } from '../../../pipeline/fit/stats/uniform.ts';

/** 16-bit ports from a fixed linear congruential sequence, clustered like a Beta-shaped NAT's. */
function ports(n: number): Uint16Array {
  const out = new Uint16Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const u = (x >>> 8) / 2 ** 24;
    out[i] = 20000 + Math.floor(30000 * u * u);
  }
  return out;
}

describe('distinct values with counts', () => {
  it('counts a hand-made sample of ports, in ascending order', () => {
    const d = distinctSorted(Uint16Array.from([7, 65535, 0, 7, 300, 0, 7]));
    expect(Array.from(d.values)).toEqual([0, 7, 300, 65535]);
    expect(Array.from(d.counts)).toEqual([2, 3, 1, 1]);
  });

  it('gives ports (counted) the same values and counts as the same numbers sorted', () => {
    const p = ports(50_000);
    const counted = distinctSorted(p);
    const sorted = distinctSorted(Array.from(p));
    expect(counted.values).toEqual(sorted.values);
    expect(counted.counts).toEqual(sorted.counts);
    const total = counted.counts.reduce((s, c) => s + c, 0);
    expect(total).toBe(p.length);
  });

  it('leaves the KS distance and the Beta fit of ports exactly as for plain numbers', () => {
    const p = ports(20_000);
    const cdf = (x: number) => uniformCdf(x, 20000, 49999);
    expect(ksTest(p, cdf, { discrete: true })).toEqual(ksTest(Array.from(p), cdf, { discrete: true }));
    expect(fitBeta4(p)).toEqual(fitBeta4(Array.from(p)));
  });
});
