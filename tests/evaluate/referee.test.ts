/**
 * The referee against answers known without it: brute-force enumeration of tiny punches,
 * hypergeometric and geometric closed forms derived next to each test, and cases whose
 * outcome follows from the NAT's rules alone. Simulated fractions must lie within 4.5
 * binomial standard errors (floor: one trial) of the exact value.
 */
import { NatatlasError } from '../../pipeline/errors.ts';
import type { PortSegment, SidePlan } from '../../pipeline/bias/types.ts';
import { Rng } from '../../pipeline/random.ts';
import { referee, refereeSync, successAt, packetsFor, stdErr, type NatSpec, type RefereeOptions } from '../../pipeline/evaluate/referee/index.ts';
import { NatSim, FRESH, lifeSteps } from '../../pipeline/evaluate/referee/nat.ts';
import { AliasTable, Sweep } from '../../pipeline/evaluate/referee/sampling.ts';
import { closePools } from '../../pipeline/threads.ts';

const range = (lo: number, hi: number): PortSegment[] => [[lo, hi, 1]];

function nat(allocator: NatSpec['allocator'], over: Partial<NatSpec> = {}): NatSpec {
  return { allocator, mapping: 'endpoint-dependent', timeoutS: null, mappingLimit: null, ...over };
}

const spray = (segments: PortSegment[]): SidePlan => ({ sockets: 'fresh', report: 'never', aim: { kind: 'segments', segments } });

function expectNear(r: { trials: number; sorted: Float64Array }, packets: number, exact: number, z = 4.5): void {
  const got = successAt(r, packets);
  const tol = z * Math.max(stdErr(exact, r.trials), 1 / r.trials);
  if (!(Math.abs(got - exact) <= tol)) throw new Error(`at ${packets} packets: simulated ${got.toFixed(4)}, exact ${exact.toFixed(4)} (tolerance ${tol.toFixed(4)})`);
}

/**
 * Exact P(no match within k packets per side) for two endpoint-dependent NATs on the
 * same N ports (distinct uniform ports per mapping, no timeout), both aiming uniformly
 * at the peer's N ports, by enumeration. A's ports are a random injection, independent of
 * the aims, and relabelling A's ports relabels B's aims alike: so A's ports are 0..k-1
 * without loss of generality, and likewise B's. A match is i, j with B's aim j = i and
 * A's aim i = j; count the aim vectors (N^k each side) with none.
 */
function bruteNoMatch(N: number, k: number): number {
  const total = N ** k;
  let none = 0;
  const aimsA = new Int32Array(k);
  for (let a = 0; a < total; a++) {
    for (let i = 0, x = a; i < k; i++, x = Math.floor(x / N)) aimsA[i] = x % N;
    for (let b = 0; b < total; b++) {
      let hit = false;
      for (let j = 0, x = b; j < k && !hit; j++, x = Math.floor(x / N)) {
        const tb = x % N;
        // B's packet j from port j to A's port tb; A's packet tb (if sent) must aim at j.
        if (tb < k && aimsA[tb] === j) hit = true;
      }
      if (!hit) none++;
    }
  }
  return none / (total * total);
}

describe('referee: hard vs hard (uniform, endpoint-dependent, no timeout)', () => {
  it('matches the enumerated success probability on 5 ports', () => {
    const N = 5;
    const ports = range(2000, 2000 + N - 1);
    const side = { nat: nat({ kind: 'ports', segments: ports }), plan: spray(ports) };
    const r = refereeSync({ a: side, b: side, ratePps: 100, budget: 4, trials: 20_000, seed: 'brute-5' });
    for (let k = 1; k <= 4; k++) expectNear(r, k, 1 - bruteNoMatch(N, k));
  });

  it('follows the inclusion-exclusion closed form on 400 ports', () => {
    // With A's n ports distinct and B's aims uniform, B's packet from u matches with
    // probability c_u / N, c_u the number of A's packets aimed at u; averaging over the
    // multinomial c gives P(no match) = sum_j (-1)^j C(m, j) (n)_j / N^{2j}.
    const noMatch = (n: number, m: number, N: number) => {
      let term = 1;
      let sum = 1;
      for (let j = 1; j <= Math.min(n, m); j++) {
        term *= ((m - j + 1) / j) * ((n - j + 1) / (N * N));
        sum += j % 2 === 1 ? -term : term;
      }
      return sum;
    };
    const N = 400;
    const ports = range(30000, 30000 + N - 1);
    const side = { nat: nat({ kind: 'ports', segments: ports }), plan: spray(ports) };
    const r = refereeSync({ a: side, b: side, ratePps: 100, budget: 400, trials: 3000, seed: 'ie-400' });
    for (const k of [200, 400]) expectNear(r, k, 1 - noMatch(k, k, N));
  });
});

describe('referee: endpoint-independent peers', () => {
  const learned: SidePlan = { sockets: 'single', report: 'once', aim: { kind: 'peer-port' } };

  it('two EIM peers that report their mapping once need exactly 2 packets each', () => {
    const eim = nat({ kind: 'ports', segments: range(30000, 30255) }, { mapping: 'endpoint-independent', timeoutS: 3, mappingLimit: 4096 });
    const preserving = nat({ kind: 'preserving', rate: 1, fallback: range(1024, 65535) }, { mapping: 'endpoint-independent', timeoutS: 5 });
    const r = refereeSync({ a: { nat: eim, plan: learned }, b: { nat: preserving, plan: learned }, ratePps: 100, budget: 50, trials: 300, seed: 'eim' });
    expect(r.successes).toBe(300);
    expect(r.sorted[0]).toBe(2);
    expect(r.sorted[299]).toBe(2);
  });

  it('the same plan never works when the NATs are really endpoint-dependent', () => {
    // The reported port is the mapping towards the rendezvous; towards the peer an EDM NAT opens another.
    const edm = nat({ kind: 'ports', segments: range(1024, 65535) });
    const r = refereeSync({ a: { nat: edm, plan: learned }, b: { nat: edm, plan: learned }, ratePps: 100, budget: 500, trials: 50, seed: 'edm' });
    expect(r.successes).toBe(0);
  });

  it('easy vs hard with a sweep follows the hypergeometric law', () => {
    // A (EIM) reports with packet 1, then sweeps k - 1 distinct ports of B's N; B (EDM)
    // learns A's port in time for its packet 2 and sends k - 1 packets to it from distinct
    // uniform ports. No match iff the two sets are disjoint: C(N - k + 1, k - 1) / C(N, k - 1).
    const N = 1000;
    const portsB = range(20000, 20000 + N - 1);
    const disjoint = (k: number) => {
      let p = 1;
      for (let i = 0; i < k - 1; i++) p *= (N - (k - 1) - i) / (N - i);
      return p;
    };
    const a = { nat: nat({ kind: 'ports', segments: range(1024, 65535) }, { mapping: 'endpoint-independent' }), plan: { sockets: 'single', report: 'once', aim: { kind: 'sweep', segments: portsB } } as SidePlan };
    const b = { nat: nat({ kind: 'ports', segments: portsB }), plan: { sockets: 'fresh', report: 'never', aim: { kind: 'peer-port' } } as SidePlan };
    const r = refereeSync({ a, b, ratePps: 100, budget: 200, trials: 4000, seed: 'easy-hard' });
    for (const k of [10, 30, 68]) expectNear(r, k, 1 - disjoint(k));
    // The figure, "about 68 packets a side for 99% against 1,000 ports": 67 here,
    // the report and a packet slot waiting for it included.
    expect(1 - disjoint(67)).toBeGreaterThan(0.99);
    expect(1 - disjoint(66)).toBeLessThan(0.99);
  });
});

describe('referee: timeouts and mapping limits', () => {
  it('a mapping that lives one packet interval only matches within its own step', () => {
    // life = 1 step: at step k only the two packets of step k are alive, so a step succeeds
    // iff B aims at A's port and A aims at B's: (1/N)^2, independently each step (all ports
    // are free again): P(success within k) = 1 - (1 - 1/N^2)^k.
    expect(lifeSteps(0.1, 10)).toBe(1);
    const N = 6;
    const ports = range(4000, 4000 + N - 1);
    const side = { nat: nat({ kind: 'ports', segments: ports }, { timeoutS: 0.1 }), plan: spray(ports) };
    const r = refereeSync({ a: side, b: side, ratePps: 10, budget: 60, trials: 6000, seed: 'life-1' });
    for (const k of [5, 20, 60]) expectNear(r, k, 1 - (1 - 1 / (N * N)) ** k);
  });

  it('a NAT at its mapping limit drops every further send: success stops growing', () => {
    const ports = range(5000, 5099);
    const side = { nat: nat({ kind: 'ports', segments: ports }, { mappingLimit: 3 }), plan: spray(ports) };
    const r = refereeSync({ a: side, b: side, ratePps: 10, budget: 200, trials: 3000, seed: 'limit' });
    expect(successAt(r, 200)).toBe(successAt(r, 3));
    expect(r.drops.a).toBeGreaterThan(0);
    // Three mappings a side: the 5-port enumeration's logic on 100 ports, k = 3.
    const noMatch = (() => {
      // 1 - P(match) with 3 distinct ports and 3 uniform aims each side over 100 ports (inclusion-exclusion as above).
      let term = 1;
      let sum = 1;
      for (let j = 1; j <= 3; j++) {
        term *= ((3 - j + 1) / j) * ((3 - j + 1) / 10000);
        sum += j % 2 === 1 ? -term : term;
      }
      return sum;
    })();
    expectNear(r, 3, 1 - noMatch);
  });

  it('never hands out a port a live mapping holds, and frees it when the mapping expires', () => {
    // 4 ports, mappings live 3 steps: steps 0-3 use all four ports, step 4 reuses the one from step 0.
    const sim = new NatSim(nat({ kind: 'ports', segments: range(100, 103) }, { timeoutS: 3 }), 1, 100);
    const rng = new Rng('exclusive');
    sim.begin(rng);
    const got = [0, 1, 2].map((k) => sim.send(FRESH, 7, k, 0, rng));
    expect(new Set(got).size).toBe(3);
    const fourth = sim.send(FRESH, 7, 2, 0, rng);
    expect(got).not.toContain(fourth);
    expect(sim.send(FRESH, 7, 2, 0, rng)).toBe(-1); // all four live at step 2
    expect(sim.send(FRESH, 7, 3, 0, rng)).toBe(got[0]); // step 0's mapping expired at step 3
  });
});

describe('referee: block NATs', () => {
  it('a round is lost when the block visit boundary falls inside it (random phase)', () => {
    // Blocks of 2 ports, 2 allocations per visit, rounds of 2 packets (report + 1 punch at
    // the other offset of the peer's reported block). A side whose engine arrives at the
    // start of a visit (probability 1/2: the phase skips 0 or 1 offsets) stays aligned
    // forever; one that arrives mid-visit punches from a fresh block every round. A match
    // needs both aligned, and then happens in the first round: P = 1/4 at 2 packets and
    // no later (blocks are drawn from 16,384, so revisits are negligible).
    const block = nat({ kind: 'block', blockSize: 2, perBlock: [2, 2], blocks: range(32768, 65535) });
    const plan: SidePlan = { sockets: 'fresh', report: 'rounds', roundPackets: 2, aim: { kind: 'peer-block', blockSize: 2 } };
    const r = refereeSync({ a: { nat: block, plan }, b: { nat: block, plan }, ratePps: 100, budget: 40, trials: 8000, seed: 'phase' });
    expectNear(r, 2, 0.25);
    expect(Math.abs(successAt(r, 40) - successAt(r, 2))).toBeLessThan(0.005);
  });

  it('hands out distinct offsets, perBlock per visit on average, the first visit cut uniformly', () => {
    const m: [number, number] = [58, 62];
    const sim = new NatSim(nat({ kind: 'block', blockSize: 256, perBlock: m, blocks: range(1024, 65535) }), 100, 5000);
    const rng = new Rng('visits');
    const firstVisits: number[] = [];
    const visits: number[] = [];
    for (let t = 0; t < 400; t++) {
      sim.begin(rng);
      const ports = Array.from({ length: 1000 }, (_, k) => sim.send(FRESH, 9, k, 0, rng));
      const runs: number[][] = [];
      for (const p of ports) {
        const last = runs[runs.length - 1];
        if (last && Math.floor(last[0]! / 256) === Math.floor(p / 256)) last.push(p);
        else runs.push([p]);
      }
      for (const run of runs) expect(new Set(run).size).toBe(run.length);
      firstVisits.push(runs[0]!.length);
      visits.push(...runs.slice(1, -1).map((x) => x.length));
    }
    const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
    // Visits: uniform on 58..62, mean 60, variance 2. First visit: uniform remainder 1..L.
    expect(Math.abs(mean(visits) - 60)).toBeLessThan(4.5 * Math.sqrt(2 / visits.length));
    expect(Math.min(...visits)).toBe(58);
    expect(Math.max(...visits)).toBe(62);
    // E[remainder] = E[(L + 1) / 2] = 30.5; its variance is about 60^2 / 12.
    expect(Math.abs(mean(firstVisits) - 30.5)).toBeLessThan(4.5 * Math.sqrt(300 / firstVisits.length));
  });
});

describe('referee: sequential NATs', () => {
  it('prediction from a reported port hits at once when the counter only moves by one', () => {
    const seq = nat({ kind: 'sequential', min: 1024, max: 65535, gaps: [[1, 1, 1]], ratePerSecond: 0 });
    const plan: SidePlan = { sockets: 'fresh', report: 'rounds', roundPackets: 4, aim: { kind: 'peer-predict', increments: [[1, 1, 1]], range: [1024, 65535] } };
    const r = refereeSync({ a: { nat: seq, plan }, b: { nat: seq, plan }, ratePps: 100, budget: 20, trials: 200, seed: 'seq' });
    expect(r.successes).toBe(200);
    expect(packetsFor(r, 1)).toBe(2);
  });

  it('other subscribers moving the counter spoil the first guess with probability 1 - e^{-2 rate/pps}', () => {
    // Each side's port at packet 2 is its report + 1 + Poisson(rate x 1/pps); the peer aims at
    // report + 1. Both must be undisturbed: e^{-2 lambda}, lambda = 20 / 100.
    const seq = nat({ kind: 'sequential', min: 1024, max: 65535, gaps: [[1, 1, 1]], ratePerSecond: 20 });
    const plan: SidePlan = { sockets: 'fresh', report: 'rounds', roundPackets: 2, aim: { kind: 'peer-predict', increments: [[1, 1, 1]], range: [1024, 65535] } };
    const r = refereeSync({ a: { nat: seq, plan }, b: { nat: seq, plan }, ratePps: 100, budget: 2, trials: 6000, seed: 'seq-rate' });
    expectNear(r, 2, Math.exp(-2 * 0.2));
  });
});

describe('referee: allocation laws and machinery', () => {
  it('draws a Beta NAT as floor(loc + scale X)', () => {
    const p = { alpha: 2.24, beta: 5.01, loc: 4630.7, scale: 13937.4 };
    const sim = new NatSim(nat({ kind: 'beta', ...p }), 100, 10);
    const rng = new Rng('beta-nat');
    const ref = new Rng('beta-ref');
    const n = 20_000;
    let simMean = 0;
    let refMean = 0;
    for (let i = 0; i < n; i++) {
      sim.begin(rng);
      simMean += sim.send(FRESH, 1, 0, 0, rng) / n;
      refMean += Math.floor(p.loc + p.scale * ref.beta(p.alpha, p.beta)) / n;
    }
    // Mean of floor(loc + scale X) = loc + scale a/(a+b) - ~0.5; sd of one draw ~ scale x 0.16.
    const sd = p.scale * Math.sqrt((p.alpha * p.beta) / ((p.alpha + p.beta) ** 2 * (p.alpha + p.beta + 1)));
    const truth = p.loc + (p.scale * p.alpha) / (p.alpha + p.beta) - 0.5;
    expect(Math.abs(simMean - truth)).toBeLessThan(4.5 * sd / Math.sqrt(n));
    expect(Math.abs(refMean - truth)).toBeLessThan(4.5 * sd / Math.sqrt(n));
  });

  it('alias tables draw their weights and sweeps visit every value once per pass, groups in order', () => {
    const t = new AliasTable(10, [1, 0, 3, 0, 6]);
    const rng = new Rng('alias');
    const counts = new Map<number, number>();
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const v = t.draw(rng);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([10, 12, 14]);
    for (const [v, p] of [[10, 0.1], [12, 0.3], [14, 0.6]] as const) expect(Math.abs(counts.get(v)! / n - p)).toBeLessThan(4.5 * stdErr(p, n));
    const s = new Sweep([[5, 6, 7], [1, 2]]);
    const pass = Array.from({ length: 5 }, () => s.next(rng));
    expect(pass.slice(0, 3).sort()).toEqual([5, 6, 7]);
    expect(pass.slice(3).sort()).toEqual([1, 2]);
    s.reset();
    expect(Array.from({ length: 5 }, () => s.next(rng)).sort()).toEqual([1, 2, 5, 6, 7]);
  });

  it('gives the same trials on worker threads as on one thread, and different ones for another seed', async () => {
    const ports = range(10000, 10199);
    const side = { nat: nat({ kind: 'ports', segments: ports }, { timeoutS: 2 }), plan: spray(ports) };
    const o: RefereeOptions = { a: side, b: side, ratePps: 100, budget: 3000, trials: 60, seed: 'threads' };
    const one = refereeSync(o);
    const two = await referee({ ...o, workers: 2, parallelAfterMs: 0 });
    await closePools();
    expect(Array.from(two.sorted)).toEqual(Array.from(one.sorted));
    expect(Array.from(refereeSync({ ...o, seed: 'other' }).sorted)).not.toEqual(Array.from(one.sorted));
  });

  it('names the field of a bad spec', () => {
    const ports = range(10000, 10199);
    const side = { nat: nat({ kind: 'ports', segments: ports }), plan: spray(ports) };
    expect(() => refereeSync({ a: side, b: { ...side, nat: { ...side.nat, timeoutS: -1 } }, ratePps: 100, budget: 10, trials: 1, seed: 's' })).toThrow(/referee: b.nat.timeoutS: expected null or seconds > 0, got -1/);
    expect(() => refereeSync({ a: { ...side, plan: { sockets: 'fresh', report: 'never', aim: { kind: 'peer-port' } } }, b: side, ratePps: 100, budget: 10, trials: 1, seed: 's' })).toThrow(NatatlasError);
    expect(() => refereeSync({ a: side, b: { ...side, nat: nat({ kind: 'block', blockSize: 200, perBlock: [1, 2], blocks: ports }) }, ratePps: 100, budget: 10, trials: 1, seed: 's' })).toThrow(/b.nat.allocator.blockSize: expected a power of two, got 200/);
  });
});
