/**
 * Seeded Monte Carlo of a birthday UDP hole punch between two NATed peers A and B: the
 * ground truth the closed forms in `analytic.ts` are checked against, and the only answer
 * where they do not apply (timeouts, mapping limits, block NATs, rendezvous rounds).
 *
 * Semantics (one trial):
 * - Time is in steps. At step k (time k / ratePps) A sends its packet k, then B sends its
 *   packet k. Each packet leaves from a fresh local socket, so the sender's NAT opens a new
 *   mapping: an external port from the NAT's allocation model, towards a destination port
 *   on the peer chosen by the sender's targeting (drawn first: the NAT needs it to open the
 *   mapping). Packets are delivered instantly.
 * - A mapping (external x, destination y) admits a packet from the peer with source y and
 *   destination x (address-and-port-dependent filtering) while it is alive: a mapping made
 *   at step c is alive at step k iff (k - c) / ratePps < timeoutS (timeoutS null: always;
 *   DESIGN.md measured netfilter's timeouts as exact and exclusive like this).
 * - Match: B's packet (u -> v) gets in iff A holds a live mapping (v, u); A's packet
 *   likewise against B's mappings. The first match ends the trial: it "needed" k + 1
 *   packets per side, k the step (when A's packet k matches, B had sent k; the larger
 *   count is recorded). No match within `budget` steps: failure (Infinity).
 * - Mapping limit: a NAT holding `mappingLimit` live mappings drops the send (it costs the
 *   sender a packet of budget, opens nothing, reaches nobody). Expired mappings free slots.
 * - Port exclusivity (`Side.reuse`): 'port' (default) — the NAT never hands out an external
 *   port one of its live mappings uses: it redraws from its model until the port is free
 *   (exactly: the draw is the model conditioned on the free ports) and drops the send only
 *   when every port of its support is live. 'tuple' — only a live (external, destination)
 *   pair is off limits, as in netfilter, where the conntrack reply tuple must be unique
 *   (one external port may serve several destinations); it redraws at most MAX_ATTEMPTS
 *   (128) times, then drops the send (netfilter's search is bounded too). Uniform 'port'
 *   NATs without a timeout run dry after 64,511 packets (success then stays at ~1 - 1/e):
 *   use 'tuple' (or a timeout) to reproduce the textbook hard-vs-hard curve, which is
 *   exact for distinct (x, y) pairs, beyond that.
 * - Allocation models: 'segments' draws i.i.d. ports from a marginal (a segment by mass,
 *   then a uniform port in it; uniform is [[1024, 65535, 1]]). 'block' allocates inside a
 *   blockSize-aligned block: the aligned block containing a port drawn from blockSegments,
 *   redrawn while it still holds a live mapping of this NAT; within a visit it hands out
 *   distinct uniform offsets; after perBlock allocations it moves on at once (so "the
 *   current block" is always where its next port comes from). Block NATs are exclusive
 *   per block, so `reuse` does not apply to them.
 * - Targeting: 'segments' draws i.i.d. destinations (naive: uniform 1024..65535; "aim at
 *   the marginal": the peer's marginal; "top K": equal mass on the K most likely ports, see topPorts in analytic.ts).
 *   'block-rounds' (peer must be a block NAT) runs rounds of 1 + roundPackets steps: the
 *   first step is the rendezvous exchange through which the sender learns the peer NAT's
 *   current block (read from the simulated peer NAT, i.e. perfect knowledge); it costs one
 *   packet of budget and a step of time but opens no NAT mapping (an idealisation: a real
 *   rendezvous packet would use a port of the block). The other roundPackets steps aim at
 *   uniform i.i.d. offsets inside that block. Rounds of both sides run in lock-step from
 *   step 0 (with different roundPackets each side keeps its own schedule).
 *
 * Randomness: trial i draws from `new Rng(`${seed}/montecarlo/trial/${i}`)` alone, so results
 * are identical for any worker count. Cost: O(packets) per trial, typed arrays only (see
 * mc/kernel.ts), memory O(budget) per side.
 *
 * @example
 *   const side = naiveSide({ reuse: 'tuple' });
 *   const r = await runMonteCarlo({ a: side, b: side, budget: 200_000, ratePps: 1000, trials: 1000, seed: 'x', workers: 2 });
 *   packetsForSuccess(r, 0.5); // ~54,000
 *   successCurve(r, [20_000, 54_000, 100_000]); // ~[0.09, 0.50, 0.91]
 */
import type { PortSegment } from '../bias/types.ts';
import { NatatlasError } from '../errors.ts';
import { runInWorker, splitRange, threadsFor } from './threads.ts';
import { FOREVER, UNLIMITED, runTrials, type AllocSpec, type SideSpec, type SimSpec, type TargetSpec, type TrialBatch } from './mc/kernel.ts';

export { MAX_ATTEMPTS } from './mc/kernel.ts';

export type Allocation =
  | { kind: 'segments'; segments: PortSegment[] }
  | {
      kind: 'block';
      /** A power of two, at most 65536; blocks start at multiples of it. */
      blockSize: number;
      /** Allocations per block visit (1..blockSize). */
      perBlock: number;
      /** Where blocks are: the block is the aligned one containing a port drawn from these. */
      blockSegments: PortSegment[];
    };

export type Targeting =
  | { kind: 'segments'; segments: PortSegment[] }
  | {
      kind: 'block-rounds';
      /** Punching packets per round, after the one rendezvous packet. */
      roundPackets: number;
    };

export interface Side {
  allocation: Allocation;
  targeting: Targeting;
  /** Mapping lifetime in seconds (alive while age < timeoutS); null: never expires. */
  timeoutS: number | null;
  /** Most live mappings this NAT keeps for the subscriber; null: no limit. */
  mappingLimit: number | null;
  /** Which live state blocks a new allocation: 'port' (default) or 'tuple'; see the module doc. */
  reuse?: 'port' | 'tuple';
}

export interface MonteCarloOptions {
  a: Side;
  b: Side;
  /** Packets per side before a trial counts as failed. */
  budget: number;
  /** Packets per second per side. */
  ratePps: number;
  trials: number;
  seed: string | number;
  /** Worker threads (default 1: this thread). Results do not depend on it. */
  workers?: number;
}

export interface MonteCarloResult {
  trials: number;
  successes: number;
  /** Packets per side each trial needed, sorted ascending; Infinity for failures. */
  packets: Float64Array;
  /** The same, in trial order (trial i used the stream `${seed}/montecarlo/trial/${i}`). */
  byTrial: Float64Array;
  budget: number;
  ratePps: number;
  seed: string;
  /** Sends the NAT dropped (mapping limit, no free port), summed over trials, per side. */
  drops: { a: number; b: number };
  /** Packets simulated: 2 x the sum over trials of min(packets, budget). */
  simulatedPackets: number;
}

// ---------------------------------------------------------------------------------------
// Options -> validated plain-data spec (messages name the field).

function fail(field: string, message: string): never {
  throw new NatatlasError(`montecarlo: ${field}: ${message}`);
}

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x);
}

function normalizeSegments(segs: unknown, field: string): PortSegment[] {
  if (!Array.isArray(segs) || segs.length === 0) fail(field, 'expected a non-empty array of [fromPort, toPort, mass]');
  let total = 0;
  let prevTo = -1;
  segs.forEach((s: unknown, i) => {
    if (!Array.isArray(s) || s.length !== 3) fail(`${field}[${i}]`, 'expected [fromPort, toPort, mass]');
    const [from, to, mass] = s as unknown[];
    if (!isInt(from) || !isInt(to) || from < 0 || to > 65535 || from > to) fail(`${field}[${i}]`, `bad port range [${String(from)}, ${String(to)}] (integers, 0 <= from <= to <= 65535)`);
    if (typeof mass !== 'number' || !Number.isFinite(mass) || mass < 0) fail(`${field}[${i}]`, `bad mass ${String(mass)}`);
    if (from <= prevTo) fail(`${field}[${i}]`, 'segments must be sorted and disjoint');
    prevTo = to;
    total += mass;
  });
  if (!(Math.abs(total - 1) <= 1e-6)) fail(field, `masses sum to ${total}, expected 1`);
  return (segs as PortSegment[]).filter((s) => s[2] > 0).map(([from, to, mass]) => [from, to, mass / total]);
}

/** Steps a mapping stays alive: the smallest d with d / ratePps >= timeoutS. */
function lifeSteps(timeoutS: number | null, ratePps: number, field: string): number {
  if (timeoutS === null) return FOREVER;
  if (typeof timeoutS !== 'number' || !(timeoutS >= 0) || !Number.isFinite(timeoutS)) fail(field, `expected null or seconds >= 0, got ${String(timeoutS)}`);
  const guess = timeoutS * ratePps;
  if (guess >= FOREVER - 2) return FOREVER;
  let d = Math.max(0, Math.ceil(guess));
  while (d > 0 && (d - 1) / ratePps >= timeoutS) d--;
  while (d / ratePps < timeoutS) d++;
  return d;
}

function normalizeSide(side: Side, peer: Side, name: 'a' | 'b', ratePps: number): SideSpec {
  if (side === null || typeof side !== 'object') fail(name, 'expected a side object');
  const al = side.allocation;
  let alloc: AllocSpec;
  if (al?.kind === 'segments') {
    alloc = { kind: 'segments', segments: normalizeSegments(al.segments, `${name}.allocation.segments`) };
  } else if (al?.kind === 'block') {
    const { blockSize, perBlock } = al;
    if (!isInt(blockSize) || blockSize < 1 || blockSize > 65536 || (blockSize & (blockSize - 1)) !== 0) fail(`${name}.allocation.blockSize`, `expected a power of two in 1..65536, got ${String(blockSize)}`);
    if (!isInt(perBlock) || perBlock < 1 || perBlock > blockSize) fail(`${name}.allocation.perBlock`, `expected an integer in 1..blockSize (${blockSize}), got ${String(perBlock)}`);
    alloc = { kind: 'block', blockSize, perBlock, blockSegments: normalizeSegments(al.blockSegments, `${name}.allocation.blockSegments`) };
  } else {
    fail(`${name}.allocation.kind`, `expected 'segments' or 'block', got ${String((al as { kind?: unknown } | undefined)?.kind)}`);
  }
  const tg = side.targeting;
  let target: TargetSpec;
  if (tg?.kind === 'segments') {
    target = { kind: 'segments', segments: normalizeSegments(tg.segments, `${name}.targeting.segments`) };
  } else if (tg?.kind === 'block-rounds') {
    if (!isInt(tg.roundPackets) || tg.roundPackets < 1) fail(`${name}.targeting.roundPackets`, `expected an integer >= 1, got ${String(tg.roundPackets)}`);
    if (peer?.allocation?.kind !== 'block') fail(`${name}.targeting`, "'block-rounds' needs a peer whose allocation is 'block'");
    target = { kind: 'block-rounds', roundPackets: tg.roundPackets };
  } else {
    fail(`${name}.targeting.kind`, `expected 'segments' or 'block-rounds', got ${String((tg as { kind?: unknown } | undefined)?.kind)}`);
  }
  const life = lifeSteps(side.timeoutS, ratePps, `${name}.timeoutS`);
  const ml = side.mappingLimit;
  if (ml !== null && (!isInt(ml) || ml < 0)) fail(`${name}.mappingLimit`, `expected null or an integer >= 0, got ${String(ml)}`);
  const reuse = side.reuse ?? 'port';
  if (reuse !== 'port' && reuse !== 'tuple') fail(`${name}.reuse`, `expected 'port' or 'tuple', got ${String(reuse)}`);
  return { alloc, target, life, limit: ml === null ? UNLIMITED : Math.min(ml, UNLIMITED), tupleReuse: reuse === 'tuple' };
}

function normalize(o: MonteCarloOptions): { spec: SimSpec; trials: number; workers: number; ratePps: number } {
  if (o === null || typeof o !== 'object') fail('options', 'expected an object');
  const { budget, ratePps, trials } = o;
  if (!isInt(budget) || budget < 1 || budget > 1 << 26) fail('budget', `expected an integer in 1..2^26 (memory is O(budget)), got ${String(budget)}`);
  if (typeof ratePps !== 'number' || !(ratePps > 0) || !Number.isFinite(ratePps)) fail('ratePps', `expected a positive number, got ${String(ratePps)}`);
  if (!isInt(trials) || trials < 0) fail('trials', `expected an integer >= 0, got ${String(trials)}`);
  if (typeof o.seed !== 'string' && typeof o.seed !== 'number') fail('seed', 'expected a string or a number');
  const workers = o.workers ?? 1;
  if (!isInt(workers) || workers < 1) fail('workers', `expected an integer >= 1, got ${String(workers)}`);
  const spec: SimSpec = {
    a: normalizeSide(o.a, o.b, 'a', ratePps),
    b: normalizeSide(o.b, o.a, 'b', ratePps),
    budget,
    seed: String(o.seed),
  };
  return { spec, trials, workers, ratePps };
}

// ---------------------------------------------------------------------------------------
// Running.

function assemble(batch: TrialBatch, spec: SimSpec, ratePps: number): MonteCarloResult {
  const byTrial = batch.packets;
  let successes = 0;
  let simulated = 0;
  for (let i = 0; i < byTrial.length; i++) {
    const p = byTrial[i]!;
    if (p !== Infinity) successes++;
    simulated += 2 * Math.min(p, spec.budget);
  }
  return {
    trials: byTrial.length,
    successes,
    packets: Float64Array.from(byTrial).sort(),
    byTrial,
    budget: spec.budget,
    ratePps,
    seed: spec.seed,
    drops: { a: batch.dropsA, b: batch.dropsB },
    simulatedPackets: simulated,
  };
}

/** Synchronous, on this thread (ignores `workers`). */
export function runMonteCarloSync(options: MonteCarloOptions): MonteCarloResult {
  const { spec, trials, ratePps } = normalize(options);
  return assemble(runTrials(spec, 0, trials), spec, ratePps);
}

const WORKER_URL = new URL('./mc/worker.ts', import.meta.url);

function runInWorkerThread(spec: SimSpec, from: number, to: number): Promise<TrialBatch> {
  return runInWorker<TrialBatch>(WORKER_URL, { spec, from, to });
}

/**
 * Run the simulation; with `workers > 1` the trials are split into contiguous ranges
 * over worker threads (same result as one thread, byte for byte).
 */
export async function runMonteCarlo(options: MonteCarloOptions): Promise<MonteCarloResult> {
  const { spec, trials, workers, ratePps } = normalize(options);
  const w = threadsFor(workers, trials);
  if (w <= 1) return assemble(runTrials(spec, 0, trials), spec, ratePps);
  const ranges = splitRange(trials, w);
  const bounds = ranges.map((r) => r[0]);
  const parts = await Promise.all(ranges.map(([from, to]) => runInWorkerThread(spec, from, to)));
  const packets = new Float64Array(trials);
  let dropsA = 0;
  let dropsB = 0;
  parts.forEach((p, i) => {
    packets.set(p.packets, bounds[i]!);
    dropsA += p.dropsA;
    dropsB += p.dropsB;
  });
  return assemble({ packets, dropsA, dropsB }, spec, ratePps);
}

// ---------------------------------------------------------------------------------------
// Reading results.

type Curve = Pick<MonteCarloResult, 'packets' | 'trials'>;

/** Trials that succeeded within `level` packets per side (packets is sorted). */
function countWithin(packets: Float64Array, level: number): number {
  let lo = 0;
  let hi = packets.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (packets[mid]! <= level) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Fraction of trials that succeeded within each packet count (per side).
 * @example successCurve(r, [20_000, 54_000, 100_000]) // ~[0.09, 0.50, 0.91] for naive
 */
export function successCurve(result: Curve, levels: readonly number[]): number[] {
  return levels.map((l) => (result.trials === 0 ? 0 : countWithin(result.packets, l) / result.trials));
}

/**
 * Smallest packet count per side at which the empirical success fraction reaches p
 * (the ceil(p * trials)-th fastest trial); null when that never happens within budget.
 * @example packetsForSuccess(r, 0.5)
 */
export function packetsForSuccess(result: Curve, p: number): number | null {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`packetsForSuccess: p must be in [0, 1], got ${p}`);
  if (p === 0) return 0;
  if (result.trials === 0) return null;
  // The tolerance keeps e.g. 0.07 * 100 = 7.000000000000001 at 7.
  const need = Math.max(1, Math.ceil(p * result.trials - 1e-9));
  const v = result.packets[need - 1]!;
  return v === Infinity ? null : v;
}

/** Binomial standard error of a success fraction p estimated from n trials: sqrt(p (1 - p) / n). */
export function binomialStdErr(p: number, n: number): number {
  return n > 0 ? Math.sqrt(Math.max(0, p * (1 - p)) / n) : Infinity;
}

/**
 * Is an empirical curve consistent with an analytic one? For each level, |mc - exact| in
 * binomial standard errors of the exact value (with a floor of 1/trials for p near 0 or 1).
 */
export function zScores(result: Curve, levels: readonly number[], exact: (packets: number) => number): number[] {
  const mc = successCurve(result, levels);
  return levels.map((l, i) => {
    const p = exact(l);
    const se = Math.max(binomialStdErr(p, result.trials), 1 / Math.max(1, result.trials));
    return (mc[i]! - p) / se;
  });
}

// ---------------------------------------------------------------------------------------
// Building sides.

/** Uniform over lo..hi (default the naive 1024..65535). */
export function uniformPorts(lo = 1024, hi = 65535): PortSegment[] {
  return [[lo, hi, 1]];
}

/** The naive side: uniform allocation over 1024..65535, uniform targeting, no timeout, no limit. */
export function naiveSide(overrides: Partial<Side> = {}): Side {
  return {
    allocation: { kind: 'segments', segments: uniformPorts() },
    targeting: { kind: 'segments', segments: uniformPorts() },
    timeoutS: null,
    mappingLimit: null,
    ...overrides,
  };
}
