/**
 * What a birthday punch costs, in packets per side, from closed forms.
 *
 * Naive (both NATs endpoint-dependent, uniform over N = 64,511 ports): each side's
 * packets are (source port, destination port) pairs; a match is an A pair equal to a B
 * pair reversed, so with a and b packets P = 1 - prod_{i<b} (N^2 - a - i)/(N^2 - i)
 * (docs/design.md), exact for distinct pairs. Easy vs hard: the easy side's port is known,
 * so the space is N, not N^2.
 *
 * Biased: side A aims at ports drawn from a targeting distribution t_A over B's external
 * ports while B's NAT allocates from q_B (and the other way round). Treating packets as
 * Poisson, the cell (x, y) holds Poisson(a q_A(x) t_A(y)) A packets and
 * Poisson(b q_B(y) t_B(x)) B packets, independently, so
 *   P(no match) = prod_{x,y} [1 - (1 - e^{-a q_A(x) t_A(y)}) (1 - e^{-b q_B(y) t_B(x)})],
 * which is 1 - exp(-a b c_A c_B) (c_A = sum_y t_A q_B) while cells are sparse, and
 * saturates when a side piles packets on ports the peer rarely allocates. This is an
 * approximation (Poissonisation, i.i.d. allocation); the Monte Carlo simulator checks it.
 */
import type { PortSegment } from '../bias/types.ts';

// Bound once: under jest's module sandbox every Math.* lookup in a hot loop costs ~20x.
const { log, log1p, expm1, pow, sqrt, max, floor, min } = Math;

export const NAIVE_PORTS = 64511;
export const LEVELS = [0.5, 0.9, 0.99, 0.999] as const;
export type Level = (typeof LEVELS)[number];
export const LEVEL_KEYS = ['p50', 'p90', 'p99', 'p999'] as const;
export type LevelKey = (typeof LEVEL_KEYS)[number];
export type Costs = Record<LevelKey, number>;
export type MaybeCosts = Record<LevelKey, number | null>;

/**
 * Below this log-probability of failure, success is exactly 1 in doubles: -expm1(x) rounds
 * to 1 once e^x < 2^-54 (x < -37.4), and V8's fdlibm expm1 returns exactly -1 below -56 ln 2.
 */
const SATURATED_LOG_FAIL = -40;

/**
 * Exact hard-vs-hard birthday success with a and b packets per side. The work is bounded
 * whatever a and b are (a trial's budget comes from a file): the product is symmetric in
 * a and b (C(S-a, b) / C(S, b) = C(S-b, a) / C(S, a), S = n^2), so it runs over the
 * smaller side, and it stops once the failure probability has underflowed success to
 * exactly 1, after at most ~sqrt(40 S) (~410,000) terms for a = b.
 */
export function hardHardProbability(a: number, b: number, n = NAIVE_PORTS): number {
  const space = n * n;
  // One factor of the product is then 0: every pair is taken.
  if (a + b > space) return 1;
  const big = max(a, b);
  const small = min(a, b);
  let logFail = 0;
  for (let i = 0; i < small; i++) {
    logFail += log1p(-big / (space - i));
    if (logFail < SATURATED_LOG_FAIL) return 1;
  }
  return -expm1(logFail);
}

/** Easy (endpoint-independent, known port) vs hard: the hard side's a open ports against b probes. */
export function easyHardProbability(a: number, b: number, n = NAIVE_PORTS): number {
  if (a + b > n) return 1;
  let logFail = 0;
  for (let i = 0; i < b; i++) logFail += log1p(-a / (n - i));
  return -expm1(logFail);
}

/**
 * Smallest k (packets per side) with success(k) >= p, for a success function that grows
 * with k; null when even `limit` packets do not reach p.
 */
export function packetsFor(success: (k: number) => number, p: number, limit = 10_000_000): number | null {
  if (success(limit) < p) return null;
  let lo = 0;
  let hi = 1;
  while (success(hi) < p) {
    lo = hi;
    hi = min(limit, hi * 2);
  }
  while (hi - lo > 1) {
    const mid = floor((lo + hi) / 2);
    if (success(mid) >= p) hi = mid;
    else lo = mid;
  }
  return hi;
}

export function costsAt(success: (k: number) => number, limit?: number): MaybeCosts {
  // The four searches probe the same k's (the limit, the powers of two): each is computed once.
  const seen = new Map<number, number>();
  const once = (k: number) => {
    let v = seen.get(k);
    if (v === undefined) seen.set(k, (v = success(k)));
    return v;
  };
  const out = {} as MaybeCosts;
  LEVELS.forEach((p, i) => (out[LEVEL_KEYS[i]!] = packetsFor(once, p, limit)));
  return out;
}

export function naiveCosts(): { hardHard: Costs; easyHard: Costs } {
  return {
    hardHard: costsAt((k) => hardHardProbability(k, k)) as Costs,
    easyHard: costsAt((k) => easyHardProbability(k, k), NAIVE_PORTS) as Costs,
  };
}

/** A distribution over ports as atoms: runs of ports with equal per-port probability. */
export interface Atoms {
  from: Int32Array;
  width: Float64Array;
  /** Probability of each single port in the atom. */
  perPort: Float64Array;
}

/** Segments to per-port atoms, cut at every boundary in `cuts` so two distributions align. */
export function atomsOf(segs: readonly PortSegment[], cuts: readonly number[]): Atoms {
  const edges = new Set<number>();
  for (const [from, to] of segs) {
    edges.add(from);
    edges.add(to + 1);
  }
  for (const c of cuts) edges.add(c);
  const sorted = [...edges].sort((x, y) => x - y);
  const from: number[] = [];
  const width: number[] = [];
  const perPort: number[] = [];
  let s = 0;
  for (let i = 0; i + 1 < sorted.length; i++) {
    const lo = sorted[i]!;
    const hi = sorted[i + 1]! - 1;
    while (s < segs.length && segs[s]![1] < lo) s++;
    const seg = segs[s];
    const p = seg && seg[0] <= lo && seg[1] >= hi ? seg[2] / (seg[1] - seg[0] + 1) : 0;
    from.push(lo);
    width.push(hi - lo + 1);
    perPort.push(p);
  }
  return { from: Int32Array.from(from), width: Float64Array.from(width), perPort: Float64Array.from(perPort) };
}

function boundaries(segs: readonly PortSegment[]): number[] {
  return segs.flatMap(([from, to]) => [from, to + 1]);
}

/** One direction of the punch: who aims where. */
export interface Direction {
  /** Where the peer's NAT allocates (its marginal). */
  allocation: readonly PortSegment[];
  /** Where this side aims its packets. */
  targeting: readonly PortSegment[];
}

/**
 * Success probability with k packets per side under the Poisson cell model, A aiming
 * at B (`ab`: B's allocation, A's targeting) and B at A (`ba`).
 */
export function biasedProbability(ab: Direction, ba: Direction, k: number): number {
  return biasedSuccess(ab, ba)(k);
}

/** Ports of one side as atoms where both of its distributions are positive (the only cells that can match). */
function liveAtoms(t: Atoms, q: Atoms): { width: Float64Array; t: Float64Array; q: Float64Array } {
  const keep: number[] = [];
  for (let i = 0; i < t.from.length; i++) if (t.perPort[i] !== 0 && q.perPort[i] !== 0) keep.push(i);
  const pick = (a: Float64Array) => Float64Array.from(keep, (i) => a[i]!);
  return { width: pick(t.width), t: pick(t.perPort), q: pick(q.perPort) };
}

/**
 * biasedProbability as a function of k: the atoms do not depend on k, so a search over k
 * (costsAt) cuts the ports into atoms once instead of at every probe.
 */
export function biasedSuccess(ab: Direction, ba: Direction): (k: number) => number {
  // Ports y (B's external ports): t_A(y) and q_B(y); ports x (A's): t_B(x) and q_A(x).
  const cutsY = [...boundaries(ab.allocation), ...boundaries(ab.targeting)];
  const cutsX = [...boundaries(ba.allocation), ...boundaries(ba.targeting)];
  const y = liveAtoms(atomsOf(ab.targeting, cutsY), atomsOf(ab.allocation, cutsY));
  const x = liveAtoms(atomsOf(ba.targeting, cutsX), atomsOf(ba.allocation, cutsX));
  return (k) => {
    let logFail = 0;
    for (let i = 0; i < x.q.length; i++) {
      const qa = x.q[i]!;
      const tb = x.t[i]!;
      for (let j = 0; j < y.t.length; j++) {
        const ta = y.t[j]!;
        const qb = y.q[j]!;
        const pa = -expm1(-k * qa * ta);
        const pb = -expm1(-k * qb * tb);
        logFail += x.width[i]! * y.width[j]! * log1p(-pa * pb);
      }
    }
    return -expm1(logFail);
  };
}

/** The largest single-port probability of a distribution. */
export function maxPerPort(segs: readonly PortSegment[]): number {
  return segs.reduce((m, [from, to, mass]) => max(m, mass / (to - from + 1)), 0);
}

/**
 * Lower bound on packets per side: a side's packet reaches an allocated port with
 * probability at most max q of the peer, so a b max q_A max q_B >= ln(1/(1-p)).
 */
export function packetsBound(qA: readonly PortSegment[], qB: readonly PortSegment[], p: number): number {
  return sqrt(log(1 / (1 - p)) / (maxPerPort(qA) * maxPerPort(qB)));
}

/** The K most likely ports of a distribution, as equal-mass one-density segments (ties: lower port first). */
export function topPorts(segs: readonly PortSegment[], k: number): PortSegment[] {
  const byDensity = [...segs].map((s) => ({ s, d: s[2] / (s[1] - s[0] + 1) })).sort((x, y) => y.d - x.d || x.s[0] - y.s[0]);
  const chosen: [number, number][] = [];
  let left = k;
  for (const { s } of byDensity) {
    if (left <= 0) break;
    const width = s[1] - s[0] + 1;
    const take = min(width, left);
    chosen.push([s[0], s[0] + take - 1]);
    left -= take;
  }
  chosen.sort((x, y) => x[0] - y[0]);
  const total = chosen.reduce((t, [a, b]) => t + (b - a + 1), 0);
  return chosen.map(([a, b]) => [a, b, (b - a + 1) / total]);
}

export const UNIFORM_TARGET: readonly PortSegment[] = [[1024, 65535, 1]];

/**
 * Rounds against a NAT that stays in a window of W ports for at most m allocations
 * (a block NAT: W = block size, m = allocations per block). Each round both sides learn
 * the other's current window through the rendezvous (one packet each), then send j <= m
 * packets to uniform offsets in it. With the peer's j external ports distinct inside
 * the window, one round fails with probability (1 - j/W^2)^j.
 */
export function roundFailure(j: number, window: number): number {
  return pow(1 - j / (window * window), j);
}

/** Packets per side for success p with rounds of m packets (+1 to re-learn) in a window of W ports. */
export function roundsPackets(m: number, window: number, p: number): { packets: number; rounds: number; roundSuccess: number } {
  const perRound = roundFailure(m, window);
  let fail = 1;
  let packets = 0;
  let rounds = 0;
  while (fail * perRound > 1 - p) {
    fail *= perRound;
    packets += m + 1;
    rounds += 1;
    if (rounds > 1e6) break;
  }
  // The last round stops as soon as its own packets reach p.
  let lo = 0;
  let hi = m;
  while (hi - lo > 1) {
    const mid = floor((lo + hi) / 2);
    if (fail * roundFailure(mid, window) <= 1 - p) hi = mid;
    else lo = mid;
  }
  return { packets: packets + hi + 1, rounds: rounds + hi / m, roundSuccess: 1 - perRound };
}
