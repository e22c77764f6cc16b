import { Rng, logGamma, uuidFromWords } from '../pipeline/random.ts';

const N = 100_000;

interface Moments {
  mean: number;
  variance: number;
  /** Standard error of the sample variance, from the sample's fourth central moment. */
  varianceSe: number;
}

function moments(xs: Float64Array): Moments {
  const n = xs.length;
  let mean = 0;
  for (const x of xs) mean += x;
  mean /= n;
  let m2 = 0;
  let m4 = 0;
  for (const x of xs) {
    const d = (x - mean) ** 2;
    m2 += d;
    m4 += d * d;
  }
  m2 /= n;
  m4 /= n;
  return { mean, variance: (m2 * n) / (n - 1), varianceSe: Math.sqrt(Math.max(m4 - m2 * m2, 0) / n) };
}

function sample(n: number, draw: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = draw();
  return out;
}

/** Sample mean within 5 standard errors of mu, and sample variance within 5 of its standard errors of v. */
function expectMoments(xs: Float64Array, mu: number, v: number): void {
  const m = moments(xs);
  const seMean = Math.sqrt(v / xs.length);
  expect(Math.abs(m.mean - mu)).toBeLessThan(5 * seMean);
  expect(Math.abs(m.variance - v)).toBeLessThan(5 * m.varianceSe);
}

describe('Rng', () => {
  it('gives the same stream for the same seed, and a pinned one on every machine', () => {
    const a = new Rng('natatlas');
    const b = new Rng('natatlas');
    const xs = Array.from({ length: 1000 }, () => a.u32());
    expect(Array.from({ length: 1000 }, () => b.u32())).toEqual(xs);
    // Pinned: any change to the generator, the hash or the seeding changes these.
    expect(xs.slice(0, 4)).toEqual(PINNED_U32);
    expect(new Rng(7).u32()).toBe(new Rng('7').u32());
    expect(new Rng('natatlas2').u32()).not.toBe(xs[0]);
  });

  it('draws next() in [0, 1) and int(lo, hi) uniformly over both ends', () => {
    const rng = new Rng(1);
    expect(sample(10_000, () => rng.next()).every((u) => u >= 0 && u < 1)).toBe(true);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) {
      const k = rng.int(1, 6);
      if (!(Number.isInteger(k) && k >= 1 && k <= 6)) throw new Error(`int(1, 6) gave ${k}`);
      counts[k - 1] += 1;
    }
    const se = Math.sqrt(60_000 * (1 / 6) * (5 / 6));
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(5 * se);
    expect(rng.int(5, 5)).toBe(5);
    expect(() => rng.int(2, 1)).toThrow(RangeError);
    expectMoments(sample(N, () => rng.next()), 0.5, 1 / 12);
  });

  it('bernoulli(p) has mean p and the edge cases are exact', () => {
    const rng = new Rng(2);
    expectMoments(sample(N, () => (rng.bernoulli(0.3) ? 1 : 0)), 0.3, 0.21);
    expect(rng.bernoulli(0)).toBe(false);
    expect(rng.bernoulli(1)).toBe(true);
  });

  it('normal(mu, sigma) has mean mu and variance sigma^2', () => {
    const rng = new Rng(3);
    expectMoments(sample(N, () => rng.normal(10, 3)), 10, 9);
    expectMoments(sample(N, () => rng.normal()), 0, 1);
  });

  it('exponential(rate) has mean 1/rate and variance 1/rate^2', () => {
    const rng = new Rng(4);
    expectMoments(sample(N, () => rng.exponential(2)), 0.5, 0.25);
  });

  it.each([0.3, 1, 4.5, 50])('gamma(%p) has mean and variance equal to the shape', (k) => {
    const rng = new Rng(`gamma-${k}`);
    const xs = sample(N, () => rng.gamma(k));
    expect(xs.every((x) => x >= 0)).toBe(true);
    expectMoments(xs, k, k);
  });

  it('gamma(shape, scale) scales', () => {
    const rng = new Rng(5);
    expectMoments(sample(N, () => rng.gamma(2, 3)), 6, 18);
  });

  it.each([
    [2.241976448936059, 5.0077200261695065],
    [0.5, 0.5],
    [1, 1],
    [20, 3],
  ])('beta(%p, %p) matches the closed-form mean and variance', (a, b) => {
    const rng = new Rng(`beta-${a}-${b}`);
    const xs = sample(N, () => rng.beta(a, b));
    expect(xs.every((x) => x >= 0 && x <= 1)).toBe(true);
    expectMoments(xs, a / (a + b), (a * b) / ((a + b) ** 2 * (a + b + 1)));
  });

  it.each([0.5, 3, 25, 29.9, 30, 100, 1500, 1e6])('poisson(%p) has mean and variance lambda (Knuth below 30, PTRS above)', (lambda) => {
    const rng = new Rng(`poisson-${lambda}`);
    const xs = sample(N, () => rng.poisson(lambda));
    expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    expectMoments(xs, lambda, lambda);
  });

  it('poisson(30) gives the exact probability mass at its mode (PTRS is exact, not an approximation)', () => {
    const rng = new Rng('poisson-pmf');
    const lambda = 40;
    let hits = 0;
    for (let i = 0; i < N; i++) if (rng.poisson(lambda) === 40) hits += 1;
    // scipy.stats.poisson.pmf(40, 40)
    const p = 0.06294703942359213;
    expect(Math.abs(hits / N - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
    expect(rng.poisson(0)).toBe(0);
    expect(() => rng.poisson(-1)).toThrow(RangeError);
  });

  it.each([0.5, 4, 99])('geometric(mean %p) counts failures with that mean and variance mean(1+mean)', (m) => {
    const rng = new Rng(`geometric-${m}`);
    const xs = sample(N, () => rng.geometric(m));
    expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    expectMoments(xs, m, m * (1 + m));
  });

  it('geometric(0) is always 0', () => {
    const rng = new Rng(6);
    for (let i = 0; i < 100; i++) expect(rng.geometric(0)).toBe(0);
  });

  it('uuid() is RFC 4122 version 4 text, lowercase, unique, and reproducible', () => {
    const rng = new Rng(7);
    const re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const seen = new Set<string>();
    let bad = 0;
    for (let i = 0; i < 20_000; i++) {
      const u = rng.uuid();
      if (!re.test(u)) bad += 1;
      seen.add(u);
    }
    expect(bad).toBe(0);
    expect(seen.size).toBe(20_000);
    expect(new Rng(8).uuid()).toBe(new Rng(8).uuid());
    const words = new Rng(9);
    expect(new Rng(9).uuid()).toBe(uuidFromWords(words.u32(), words.u32(), words.u32(), words.u32()));
    expect(uuidFromWords(0, 0, 0, 0)).toBe('00000000-0000-4000-8000-000000000000');
    expect(uuidFromWords(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
  });

  it('pick() returns members and shuffle() permutes in place', () => {
    const rng = new Rng(10);
    const items = ['a', 'b', 'c'];
    for (let i = 0; i < 100; i++) expect(items).toContain(rng.pick(items));
    expect(() => rng.pick([])).toThrow(RangeError);
    const arr = Array.from({ length: 100 }, (_, i) => i);
    const same = rng.shuffle(arr);
    expect(same).toBe(arr);
    expect([...arr].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(arr).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('fork(label) streams differ from each other and the parent, and do not depend on draws made before', () => {
    const root = new Rng('campaign');
    const a1 = root.fork('KPN');
    for (let i = 0; i < 1000; i++) root.u32();
    const a2 = root.fork('KPN');
    const b = root.fork('Odido');
    const xa1 = Array.from({ length: 50 }, () => a1.u32());
    expect(Array.from({ length: 50 }, () => a2.u32())).toEqual(xa1);
    expect(Array.from({ length: 50 }, () => b.u32())).not.toEqual(xa1);
    expect(Array.from({ length: 50 }, () => new Rng('campaign').u32())).not.toEqual(xa1);
    expect(root.fork('KPN').fork('run/1').key).toBe('campaign/KPN/run/1');
    // Forks are not correlated: the sample correlation of two sibling streams is ~0.
    const x = root.fork('x');
    const y = root.fork('y');
    let sxy = 0;
    for (let i = 0; i < N; i++) sxy += (x.next() - 0.5) * (y.next() - 0.5);
    expect(Math.abs(sxy / N / (1 / 12))).toBeLessThan(5 / Math.sqrt(N));
  });
});

describe('logGamma', () => {
  it('matches known values', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(2)).toBeCloseTo(0, 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 10);
    let lnFact170 = 0;
    for (let k = 2; k <= 170; k++) lnFact170 += Math.log(k);
    expect(logGamma(171)).toBeCloseTo(lnFact170, 8);
  });
});

const PINNED_U32 = [1308472427, 1894764494, 2072809769, 425140180];
