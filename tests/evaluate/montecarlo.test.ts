/**
 * The hole-punch Monte Carlo against answers known independently of it: closed forms
 * derived below (each stated next to its test), checked within 4 binomial standard errors.
 */
import { NatatlasError } from '../../pipeline/errors.ts';
import { FOREVER, SideSim, UNLIMITED } from '../../pipeline/evaluate/mc/kernel.ts';
import { Rng } from '../../pipeline/random.ts';
import {
  binomialStdErr,
  naiveSide,
  packetsForSuccess,
  runMonteCarlo,
  runMonteCarloSync,
  successCurve,
  uniformPorts,
  zScores,
  type MonteCarloOptions,
  type MonteCarloResult,
  type Side,
} from '../../pipeline/evaluate/montecarlo.ts';

const { exp, expm1, log1p, abs } = Math;
const NAIVE_N = 64511;

// ---------------------------------------------------------------------------------------
// Closed forms.

/**
 * Hard vs hard with distinct pairs: A holds a distinct (x, y) pairs, B draws b distinct
 * pairs out of N^2; P(no overlap) = C(N^2 - a, b) / C(N^2, b) = prod_{i<b} (N^2 - a - i)/(N^2 - i).
 */
function hardHard(a: number, b: number, n: number): number {
  const space = n * n;
  let logNo = 0;
  for (let i = 0; i < b; i++) logNo += log1p(-a / (space - i));
  return -expm1(logNo);
}

/**
 * Distinct external ports, i.i.d. uniform destinations, both over N ports: A opens n
 * mappings with distinct x and uniform y, B opens m with distinct u and uniform v. Given
 * A's y-counts c_u, B's packet from u matches with probability c_u / N (x distinct), so
 * P(no match) = E prod_{u in U} (1 - c_u/N), U B's m ports; with c multinomial(n, 1/N) the
 * generating function e^{Nz} (1 - z/N)^m gives
 *   P(no match) = sum_k (-1)^k C(m, k) (n)_k / N^{2k}     ((n)_k falling factorial).
 * This is exact for 'port' NATs on N ports without timeouts, and for one round of two
 * block NATs (N = blockSize, n = m = roundPackets = perBlock).
 */
function distinctPortsNoMatch(n: number, m: number, N: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k <= Math.min(n, m); k++) {
    term *= ((m - k + 1) / k) * ((n - k + 1) / (N * N));
    sum += k % 2 === 1 ? -term : term;
    if (term < 1e-18) break;
  }
  return sum;
}

/** Within `z` binomial standard errors of `exact` (floor 1/trials), reporting all numbers on failure. */
function expectAgreement(r: MonteCarloResult, levels: number[], exact: (n: number) => number, z = 4): void {
  const zs = zScores(r, levels, exact);
  const mc = successCurve(r, levels);
  const rows = levels.map((l, i) => `n=${l}: mc ${mc[i]!.toFixed(4)} exact ${exact(l).toFixed(4)} z ${zs[i]!.toFixed(2)}`);
  for (const v of zs) if (!(abs(v) <= z)) throw new Error(`MC disagrees with the closed form:\n${rows.join('\n')}`);
}

const segs = (lo: number, hi: number): Side['allocation'] => ({ kind: 'segments', segments: uniformPorts(lo, hi) });
const aim = (lo: number, hi: number): Side['targeting'] => ({ kind: 'segments', segments: uniformPorts(lo, hi) });

// ---------------------------------------------------------------------------------------

describe('montecarlo: naive uniform vs uniform (N = 64,511)', () => {
  it('tuple-exclusive NATs follow the exact hard-vs-hard curve at 20k, 54k, 100k packets per side', () => {
    const side = naiveSide({ reuse: 'tuple' });
    const r = runMonteCarloSync({ a: side, b: side, budget: 100_000, ratePps: 1000, trials: 300, seed: 'naive-tuple' });
    expectAgreement(r, [20_000, 54_000, 100_000], (n) => hardHard(n, n, NAIVE_N));
    expect(r.drops).toEqual({ a: 0, b: 0 });
    // DESIGN.md's ~54,000 for 50%: the empirical median is near it.
    expect(abs(packetsForSuccess(r, 0.5)! - 54_000)).toBeLessThan(8_000);
  });

  it('port-exclusive NATs (the default) follow it too while ports last', () => {
    const r = runMonteCarloSync({ a: naiveSide(), b: naiveSide(), budget: 54_000, ratePps: 1000, trials: 300, seed: 'naive-port' });
    expectAgreement(r, [20_000, 40_000, 54_000], (n) => hardHard(n, n, NAIVE_N));
    expect(r.drops).toEqual({ a: 0, b: 0 });
  });
});

describe('montecarlo: biased on a 1000-port model', () => {
  const N = 1000;
  const small = (reuse: 'port' | 'tuple'): Side => ({ allocation: segs(20_000, 20_999), targeting: aim(20_000, 20_999), timeoutS: null, mappingLimit: null, reuse });

  it('tuple NATs: exact hypergeometric form, ~ 1 - exp(-ab/N^2)', () => {
    const r = runMonteCarloSync({ a: small('tuple'), b: small('tuple'), budget: 1500, ratePps: 100, trials: 2000, seed: 'small-tuple' });
    const levels = [300, 600, 1000, 1500];
    expectAgreement(r, levels, (n) => hardHard(n, n, N));
    for (const n of levels) expect(abs(hardHard(n, n, N) - -expm1(-(n * n) / (N * N)))).toBeLessThan(0.005);
  });

  it('port NATs: sum_k (-1)^k C(n,k)(n)_k/N^2k, also ~ 1 - exp(-ab/N^2)', () => {
    const r = runMonteCarloSync({ a: small('port'), b: small('port'), budget: 800, ratePps: 100, trials: 2000, seed: 'small-port' });
    const levels = [200, 500, 800];
    expectAgreement(r, levels, (n) => 1 - distinctPortsNoMatch(n, n, N));
    for (const n of levels) expect(abs(1 - distinctPortsNoMatch(n, n, N) - -expm1(-(n * n) / (N * N)))).toBeLessThan(0.005);
  });

  it('port NATs without timeouts run out of ports: success caps at 1 - sum_k (-1)^k C(N,k)(N)_k/N^2k ~ 1 - 1/e', () => {
    const r = runMonteCarloSync({ a: small('port'), b: small('port'), budget: 3000, ratePps: 100, trials: 2000, seed: 'small-dry' });
    const cap = 1 - distinctPortsNoMatch(N, N, N);
    expect(abs(cap - (1 - exp(-1)))).toBeLessThan(0.002);
    expectAgreement(r, [3000], () => cap);
    expect(r.drops.a).toBeGreaterThan(0);
  });

  /*
   * Concentrated targeting. B's NAT allocates its hot port 5000 with probability q and
   * otherwise uniformly on R = 999 ports 5001..5999; A sits behind a NAT that only has
   * port 7000 (a fully predictable peer) and aims at 5000; B aims at 7000. A's first
   * packet opens (7000 -> 5000) for good (A's later sends find no free port and drop), so
   * B succeeds at its first allocation of 5000. With i - 1 non-hot ports live (port
   * exclusivity), the i-th allocation is the hot port with probability
   * q_i = q / (q + (1 - q)(R - i + 1)/R), hence
   *   P(success within n) = 1 - prod_{i=1..n} (1 - q_i)  ~ 1 - (1 - q)^n ~ 1 - exp(-n q)
   * while n << R: the curve is linear in the packets of one side, not quadratic in N.
   */
  it.each([
    [999, [10, 35, 100, 300]],
    // R = 99: the rest fills up, so redraws go through the exact free-port sampler; q_100 = 1.
    [99, [10, 35, 60, 90, 100]],
  ])('one side aiming at a port the peer allocates with probability q: 1 - prod(1 - q_i) ~ 1 - exp(-nq) (R = %i)', (R, levels) => {
    const q = 0.02;
    const exact = (n: number): number => {
      let no = 1;
      for (let i = 1; i <= Math.min(n, R + 1); i++) no *= 1 - q / (q + ((1 - q) * (R - i + 1)) / R);
      return 1 - no;
    };
    const a: Side = { allocation: segs(7000, 7000), targeting: aim(5000, 5000), timeoutS: null, mappingLimit: null };
    const b: Side = {
      allocation: { kind: 'segments', segments: [[5000, 5000, q], [5001, 5000 + R, 1 - q]] },
      targeting: aim(7000, 7000),
      timeoutS: null,
      mappingLimit: null,
    };
    const r = runMonteCarloSync({ a, b, budget: levels.at(-1)!, ratePps: 100, trials: 3000, seed: `hot-one-${R}` });
    expectAgreement(r, levels, exact);
    if (R === 999) expect(abs(exact(35) - -expm1(-35 * q))).toBeLessThan(0.01);
    else expect(r.successes).toBe(r.trials);
  });

  it('both sides aiming at each other\'s hot port: (1 - prod(1 - q_i))^2', () => {
    const q = 0.05;
    const R = 999;
    const one = (n: number): number => {
      let no = 1;
      for (let i = 1; i <= n; i++) no *= 1 - q / (q + ((1 - q) * (R - i + 1)) / R);
      return 1 - no;
    };
    const hot = (p: number, peer: number): Side => ({
      allocation: { kind: 'segments', segments: [[p, p, q], [p + 1, p + R, 1 - q]] },
      targeting: aim(peer, peer),
      timeoutS: null,
      mappingLimit: null,
    });
    const r = runMonteCarloSync({ a: hot(5000, 9000), b: hot(9000, 5000), budget: 200, ratePps: 100, trials: 3000, seed: 'hot-two' });
    expectAgreement(r, [10, 30, 80, 200], (n) => one(n) ** 2);
  });
});

describe('montecarlo: block NATs with rendezvous rounds', () => {
  const blockSide = (perBlock: number, roundPackets: number): Side => ({
    allocation: { kind: 'block', blockSize: 256, perBlock, blockSegments: uniformPorts(1024, 65535) },
    targeting: { kind: 'block-rounds', roundPackets },
    timeoutS: null,
    mappingLimit: null,
  });

  /*
   * One round: each NAT hands out roundPackets = perBlock distinct offsets of a fresh
   * block, each side aims at uniform offsets of the peer's block, so the distinct-ports
   * form applies with N = 256. Blocks with live mappings are never reused, so rounds are
   * independent: P(within r rounds) = 1 - S^r, S = P(no match in a round). A round costs
   * roundPackets + 1 packets (the rendezvous one).
   */
  it('256-blocks, perBlock 256, rounds of 256: S = sum_k (-1)^k C(256,k)(256)_k/256^2k ~ (1 - 1/256)^256', () => {
    const S = distinctPortsNoMatch(256, 256, 256);
    expect(abs(S - (1 - 1 / 256) ** 256)).toBeLessThan(0.005);
    const r = runMonteCarloSync({ a: blockSide(256, 256), b: blockSide(256, 256), budget: 3 * 257, ratePps: 100, trials: 3000, seed: 'blocks-256' });
    expectAgreement(r, [257, 2 * 257, 3 * 257], (n) => 1 - S ** (n / 257));
    // Nothing succeeds on a rendezvous step: the first round's successes need >= 2 packets.
    expect(r.packets[0]).toBeGreaterThanOrEqual(2);
    expect(r.drops).toEqual({ a: 0, b: 0 });
  });

  it('perBlock 200, rounds of 200: per-round success 1 - sum_k (-1)^k C(200,k)(200)_k/256^2k ~ 1 - exp(-200^2/256^2)', () => {
    const S = distinctPortsNoMatch(200, 200, 256);
    expect(abs(1 - S - -expm1(-(200 * 200) / (256 * 256)))).toBeLessThan(0.01);
    const r = runMonteCarloSync({ a: blockSide(200, 200), b: blockSide(200, 200), budget: 3 * 201, ratePps: 100, trials: 3000, seed: 'blocks-200' });
    expectAgreement(r, [201, 2 * 201, 3 * 201], (n) => 1 - S ** (n / 201));
  });

  it('rounds longer than a block visit waste the packets sent after the peer moved on', () => {
    // perBlock 128 but rounds of 256: half of each round aims at a block the peer has left.
    const r = runMonteCarloSync({ a: blockSide(128, 256), b: blockSide(128, 256), budget: 257, ratePps: 100, trials: 2000, seed: 'blocks-stale' });
    const S = distinctPortsNoMatch(128, 128, 256); // only the first 128 of each side can meet
    expectAgreement(r, [257], () => 1 - S);
  });
});

describe('montecarlo: timeouts and mapping limits', () => {
  /*
   * Mapping lifetime L steps (alive while (k - c)/rate < timeout). A pair (A's i-th, B's
   * j-th packet) can match only if |i - j| < L, and each such pair coincides with
   * probability 1/N^2, so P ~ 1 - exp(-M/N^2), M = n^2 - (n - L)(n - L + 1) for n >= L.
   */
  const pairsWithin = (n: number, L: number): number => (n <= L ? n * n : n * n - (n - L) * (n - L + 1));

  it('a 5 s timeout at 1000 pps caps naive success well below the no-timeout curve', () => {
    const side = naiveSide({ timeoutS: 5 });
    const r = runMonteCarloSync({ a: side, b: side, budget: 54_000, ratePps: 1000, trials: 400, seed: 'timeout-5s' });
    const levels = [5_000, 20_000, 54_000];
    expectAgreement(r, levels, (n) => -expm1(-pairsWithin(n, 5_000) / (NAIVE_N * NAIVE_N)));
    // ~0.12 where the punch without timeouts has ~0.50.
    expect(successCurve(r, [54_000])[0]!).toBeLessThan(hardHard(54_000, 54_000, NAIVE_N) - 0.25);
  });

  it('the timeout boundary is exclusive: timeout = 1/rate means a mapping only lives in its own step', () => {
    // L = 1: only A's and B's packets of the same step can meet: P = 1 - (1 - 1/N^2)^n.
    // (Were it inclusive, L = 2 would give ~ 1 - exp(-(3n - 2)/N^2): 0.59 instead of 0.26 here.)
    const N = 50;
    const side: Side = { allocation: segs(30_000, 30_000 + N - 1), targeting: aim(30_000, 30_000 + N - 1), timeoutS: 1 / 1000, mappingLimit: null };
    const r = runMonteCarloSync({ a: side, b: side, budget: 750, ratePps: 1000, trials: 2000, seed: 'timeout-edge' });
    expectAgreement(r, [250, 750], (n) => 1 - (1 - 1 / (N * N)) ** n);
  });

  it('timeout 0: no mapping is ever alive, even when the ports surely coincide', () => {
    const a: Side = { allocation: segs(7000, 7000), targeting: aim(5000, 5000), timeoutS: 0, mappingLimit: null };
    const b: Side = { allocation: segs(5000, 5000), targeting: aim(7000, 7000), timeoutS: 0, mappingLimit: null };
    expect(runMonteCarloSync({ a, b, budget: 50, ratePps: 10, trials: 5, seed: 0 }).successes).toBe(0);
    const forever = runMonteCarloSync({ a: { ...a, timeoutS: null }, b: { ...b, timeoutS: null }, budget: 50, ratePps: 10, trials: 5, seed: 0 });
    expect(Array.from(forever.packets)).toEqual([1, 1, 1, 1, 1]);
  });

  /*
   * Limit L, no timeout: each NAT opens its first L mappings and drops every later send,
   * so success is capped at the hard-vs-hard value for L packets per side:
   * 1 - exp(-L^2/N^2) = 6.2% for L = 16,384 and 0.1% for L = 2,048, against ~50% at 54k.
   */
  it('a mapping limit caps success at the hard-vs-hard value of the limit', () => {
    const limit = 16_384;
    const side = naiveSide({ mappingLimit: limit });
    const r = runMonteCarloSync({ a: side, b: side, budget: 30_000, ratePps: 1000, trials: 400, seed: 'limit-16k' });
    const cap = hardHard(limit, limit, NAIVE_N);
    expectAgreement(r, [limit, 30_000], (n) => hardHard(Math.min(n, limit), Math.min(n, limit), NAIVE_N));
    expect(successCurve(r, [limit])).toEqual(successCurve(r, [30_000])); // flat after the limit
    expect(cap).toBeLessThan(0.07);
    // Every send past the limit was dropped by the NAT (failed trials ran the whole budget).
    const failed = r.trials - r.successes;
    expect(r.drops.a).toBeGreaterThanOrEqual(failed * (30_000 - limit));
  });

  it('limit 2048 (naive needs ~54k): essentially never succeeds', () => {
    const side = naiveSide({ mappingLimit: 2048 });
    const r = runMonteCarloSync({ a: side, b: side, budget: 20_000, ratePps: 1000, trials: 200, seed: 'limit-2k' });
    // Expected successes 200 * 0.001 = 0.2; P(Poisson(0.2) > 3) < 1e-4.
    expect(r.successes).toBeLessThanOrEqual(3);
    for (const p of r.packets) if (p !== Infinity) expect(p).toBeLessThanOrEqual(2048);
  });
});

describe('montecarlo: running out of ports and blocks', () => {
  const never: Side['targeting'] = { kind: 'segments', segments: [[1, 1, 1]] }; // nobody allocates port 1

  it('a port NAT hands out every port of its support, heavy or light, then drops', () => {
    const skewed: Side = { allocation: { kind: 'segments', segments: [[100, 109, 0.999], [200, 209, 0.001]] }, targeting: never, timeoutS: null, mappingLimit: null };
    const r = runMonteCarloSync({ a: skewed, b: skewed, budget: 50, ratePps: 10, trials: 20, seed: 'dry-ports' });
    expect(r.successes).toBe(0);
    expect(r.drops).toEqual({ a: 20 * 30, b: 20 * 30 });
  });

  it('a block NAT moves through every free block, light ones included, then drops', () => {
    const blocks: Side = {
      allocation: { kind: 'block', blockSize: 256, perBlock: 256, blockSegments: [[4096, 4351, 0.997], [4352, 5119, 0.003]] },
      targeting: never,
      timeoutS: null,
      mappingLimit: null,
    };
    const r = runMonteCarloSync({ a: blocks, b: blocks, budget: 2000, ratePps: 10, trials: 10, seed: 'dry-blocks' });
    expect(r.drops).toEqual({ a: 10 * (2000 - 4 * 256), b: 10 * (2000 - 4 * 256) });
    // With a timeout the blocks come back: 4 blocks of 256 at 10 pps last 102.4 s.
    const t = runMonteCarloSync({ a: { ...blocks, timeoutS: 60 }, b: { ...blocks, timeoutS: 60 }, budget: 2000, ratePps: 10, trials: 10, seed: 'dry-blocks' });
    expect(t.drops).toEqual({ a: 0, b: 0 });
    // One 65536-port block: 10 ports, then nothing until they expire (after 1 s = 10 steps).
    const whole: Side = { ...blocks, allocation: { kind: 'block', blockSize: 65536, perBlock: 10, blockSegments: [[0, 65535, 1]] } };
    expect(runMonteCarloSync({ a: whole, b: whole, budget: 20, ratePps: 10, trials: 3, seed: 1 }).drops).toEqual({ a: 30, b: 30 });
    const back = runMonteCarloSync({ a: { ...whole, timeoutS: 1 }, b: { ...whole, timeoutS: 1 }, budget: 25, ratePps: 10, trials: 3, seed: 1 });
    // Life 10 steps: the mapping of step 9 is alive through step 18, so steps 10..18 drop.
    expect(back.drops).toEqual({ a: 3 * 9, b: 3 * 9 });
  });
});

describe('montecarlo kernel: the mapping table', () => {
  it('deletes with backward shift and keeps every other key findable', () => {
    const spec = { alloc: { kind: 'segments' as const, segments: uniformPorts() }, target: { kind: 'segments' as const, segments: uniformPorts() }, life: FOREVER, limit: UNLIMITED, tupleReuse: false };
    const t = new SideSim(spec, 100); // 256 slots: long probe runs at this load
    const rng = new Rng('table');
    const keys = new Set<number>();
    while (keys.size < 100) keys.add((rng.int(0, 65535) << 16) | rng.int(0, 65535));
    const all = [...keys];
    all.forEach((k, i) => t.insert(k, i));
    const gone = new Set(rng.shuffle([...all]).slice(0, 60));
    for (const k of gone) t.remove(k);
    for (const k of all) expect(t.aliveAt(k, 1000)).toBe(!gone.has(k));
    for (const k of all) if (!gone.has(k)) t.remove(k);
    expect(t.tab.filter((_, i) => i % 2 === 1 && t.tab[i] !== 0).length).toBe(0);
  });
});

describe('montecarlo: determinism', () => {
  const opts: MonteCarloOptions = {
    a: naiveSide({ reuse: 'tuple' }),
    b: { ...naiveSide(), timeoutS: 30 },
    budget: 100_000,
    ratePps: 1000,
    trials: 24,
    seed: 'det',
  };

  it('same seed, same result; another seed, another result', () => {
    const r1 = runMonteCarloSync(opts);
    const r2 = runMonteCarloSync(opts);
    expect(Array.from(r2.byTrial)).toEqual(Array.from(r1.byTrial));
    expect(r2.drops).toEqual(r1.drops);
    const r3 = runMonteCarloSync({ ...opts, seed: 'other' });
    expect(Array.from(r3.byTrial)).not.toEqual(Array.from(r1.byTrial));
  });

  it('a trial does not depend on the trials before it or on the worker count', async () => {
    const all = runMonteCarloSync(opts);
    const threaded = await runMonteCarlo({ ...opts, workers: 3 });
    expect(Array.from(threaded.byTrial)).toEqual(Array.from(all.byTrial));
    expect(Array.from(threaded.packets)).toEqual(Array.from(all.packets));
    expect(threaded.drops).toEqual(all.drops);
    expect(threaded.successes).toBe(all.successes);
  });
});

describe('montecarlo: reading results and building sides', () => {
  const fake = (xs: number[]): Pick<MonteCarloResult, 'packets' | 'trials'> => ({ packets: Float64Array.from(xs).sort(), trials: xs.length });

  it('successCurve counts trials within each level; packetsForSuccess is the ceil(p n)-th fastest', () => {
    const r = fake([5, 1, Infinity, 3, 3, 10, Infinity, 7, 2, 4]);
    expect(successCurve(r, [0, 1, 3, 9, 1e9])).toEqual([0, 0.1, 0.4, 0.7, 0.8]);
    expect(packetsForSuccess(r, 0.1)).toBe(1);
    expect(packetsForSuccess(r, 0.3)).toBe(3);
    expect(packetsForSuccess(r, 0.35)).toBe(3);
    expect(packetsForSuccess(r, 0.8)).toBe(10);
    expect(packetsForSuccess(r, 0.81)).toBeNull();
    expect(packetsForSuccess(r, 0)).toBe(0);
    expect(packetsForSuccess(fake([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ...Array(90).fill(11)]), 0.07)).toBe(7);
    expect(binomialStdErr(0.5, 100)).toBeCloseTo(0.05, 12);
  });

  it('rejects bad options with a message naming the field', () => {
    const base = { a: naiveSide(), b: naiveSide(), budget: 10, ratePps: 10, trials: 1, seed: 1 };
    const bad = (o: unknown): (() => void) => () => runMonteCarloSync(o as MonteCarloOptions);
    expect(bad({ ...base, budget: 0 })).toThrow(NatatlasError);
    expect(bad({ ...base, a: naiveSide({ allocation: { kind: 'segments', segments: [[2000, 3000, 0.5], [2500, 4000, 0.5]] } }) })).toThrow(/a\.allocation\.segments\[1\]: segments must be sorted and disjoint/);
    expect(bad({ ...base, b: naiveSide({ targeting: { kind: 'segments', segments: [[2000, 3000, 0.5]] } }) })).toThrow(/b\.targeting\.segments: masses sum to 0\.5/);
    expect(bad({ ...base, a: naiveSide({ targeting: { kind: 'block-rounds', roundPackets: 10 } }) })).toThrow(/a\.targeting: 'block-rounds' needs a peer/);
    expect(bad({ ...base, b: naiveSide({ allocation: { kind: 'block', blockSize: 100, perBlock: 10, blockSegments: uniformPorts() } }) })).toThrow(/b\.allocation\.blockSize/);
    expect(bad({ ...base, a: naiveSide({ mappingLimit: -1 }) })).toThrow(/a\.mappingLimit/);
  });
});
