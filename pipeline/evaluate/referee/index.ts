/**
 * The referee: a generative simulator of a UDP hole punch between two NATed peers, the
 * one judge of every cost natatlas publishes. Each NAT runs the allocation process its
 * fit describes (nat.ts); each engine executes the plan a bias table publishes
 * (engine.ts); trials are seeded per index (trial.ts) and may run on worker threads with
 * the same result.
 *
 * @example
 *   const side = { nat: { allocator: { kind: 'ports', segments: [[1024, 65535, 1]] }, mapping: 'endpoint-dependent', timeoutS: null, mappingLimit: null },
 *                  plan: { sockets: 'fresh', report: 'never', aim: { kind: 'segments', segments: [[1024, 65535, 1]] } } };
 *   const r = await referee({ a: side, b: side, ratePps: 100, budget: 200_000, trials: 200, seed: 's', workers: 2 });
 *   successAt(r, 53_709); // ~0.5
 */
import type { Aim, PortSegment, SidePlan } from '../../bias/types.ts';
import { NatatlasError } from '../../errors.ts';
import { poolFor, splitRange, threadsFor } from '../../threads.ts';
import type { Allocator, NatSpec } from './nat.ts';
import { runTrials, type RefereeSide, type RefereeSpec, type TrialBatch } from './trial.ts';

export type { NatSpec, Allocator } from './nat.ts';
export type { RefereeSide, RefereeSpec } from './trial.ts';

export interface RefereeOptions {
  a: RefereeSide;
  b: RefereeSide;
  /** Packets per second per side. */
  ratePps: number;
  /** Packets per side before a trial fails. */
  budget: number;
  trials: number;
  seed: string;
  /** Worker threads (default 1: this thread); results do not depend on it. */
  workers?: number;
  /** Estimated milliseconds of work above which the trials go to the workers (default 1500). */
  parallelAfterMs?: number;
}

export interface RefereeResult {
  trials: number;
  successes: number;
  /** Packets per side each trial needed, ascending; Infinity for failures. */
  sorted: Float64Array;
  budget: number;
  drops: { a: number; b: number };
}

function fail(field: string, message: string): never {
  throw new NatatlasError(`referee: ${field}: ${message}`);
}

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

function checkSegments(segs: unknown, field: string, lo = 0, hi = 65535): PortSegment[] {
  if (!Array.isArray(segs) || segs.length === 0) fail(field, 'expected a non-empty array of [from, to, mass]');
  let prev = -Infinity;
  let total = 0;
  segs.forEach((s: unknown, i) => {
    const [from, to, mass] = (Array.isArray(s) ? s : []) as unknown[];
    if (!isInt(from) || !isInt(to) || from < lo || to > hi || from > to) fail(`${field}[${i}]`, `bad range [${String(from)}, ${String(to)}] (integers in ${lo}..${hi})`);
    if (typeof mass !== 'number' || !(mass >= 0) || !Number.isFinite(mass)) fail(`${field}[${i}]`, `bad mass ${String(mass)}`);
    if (from <= prev) fail(`${field}[${i}]`, 'segments must be sorted and disjoint');
    prev = to;
    total += mass;
  });
  if (!(total > 0)) fail(field, 'no positive mass');
  return segs as PortSegment[];
}

function checkAllocator(a: Allocator, field: string): void {
  switch (a?.kind) {
    case 'ports':
      checkSegments(a.segments, `${field}.segments`);
      return;
    case 'beta':
      for (const k of ['alpha', 'beta', 'scale'] as const) if (!(a[k] > 0)) fail(`${field}.${k}`, `must be > 0, got ${a[k]}`);
      if (!Number.isFinite(a.loc) || a.loc + a.scale < 1 || a.loc > 65535) fail(`${field}.loc`, 'the Beta window must overlap ports 1..65535');
      return;
    case 'block':
      if (!isInt(a.blockSize) || a.blockSize < 1 || a.blockSize > 65536 || (a.blockSize & (a.blockSize - 1)) !== 0) fail(`${field}.blockSize`, `expected a power of two, got ${a.blockSize}`);
      if (!Array.isArray(a.perBlock) || !isInt(a.perBlock[0]) || !isInt(a.perBlock[1]) || a.perBlock[0] < 1 || a.perBlock[1] < a.perBlock[0]) fail(`${field}.perBlock`, `expected [lo, hi] integers, 1 <= lo <= hi, got ${JSON.stringify(a.perBlock)}`);
      checkSegments(a.blocks, `${field}.blocks`);
      return;
    case 'sequential':
      if (!isInt(a.min) || !isInt(a.max) || a.min < 1 || a.max > 65535 || a.min > a.max) fail(`${field}.min/max`, `bad range ${a.min}..${a.max}`);
      checkSegments(a.gaps, `${field}.gaps`, 1, 65535);
      if (!(a.ratePerSecond >= 0) || !Number.isFinite(a.ratePerSecond)) fail(`${field}.ratePerSecond`, `must be >= 0, got ${a.ratePerSecond}`);
      return;
    case 'preserving':
      if (!(a.rate >= 0 && a.rate <= 1)) fail(`${field}.rate`, `must be in [0, 1], got ${a.rate}`);
      checkSegments(a.fallback, `${field}.fallback`);
      return;
    default:
      fail(`${field}.kind`, `unknown allocator ${JSON.stringify((a as { kind?: unknown } | undefined)?.kind)}`);
  }
}

function checkNat(n: NatSpec, field: string): void {
  if (n === null || typeof n !== 'object') fail(field, 'expected a NAT');
  checkAllocator(n.allocator, `${field}.allocator`);
  if (n.mapping !== 'endpoint-independent' && n.mapping !== 'endpoint-dependent') fail(`${field}.mapping`, `expected endpoint-independent or endpoint-dependent, got ${JSON.stringify(n.mapping)}`);
  if (n.timeoutS !== null && !(n.timeoutS > 0 && Number.isFinite(n.timeoutS))) fail(`${field}.timeoutS`, `expected null or seconds > 0, got ${n.timeoutS}`);
  if (n.mappingLimit !== null && !(isInt(n.mappingLimit) && n.mappingLimit >= 1)) fail(`${field}.mappingLimit`, `expected null or an integer >= 1, got ${n.mappingLimit}`);
}

function checkAim(aim: Aim, field: string): void {
  switch (aim?.kind) {
    case 'segments':
    case 'sweep':
      checkSegments(aim.segments, `${field}.segments`);
      return;
    case 'peer-port':
      return;
    case 'peer-block':
      if (!isInt(aim.blockSize) || aim.blockSize < 2 || (aim.blockSize & (aim.blockSize - 1)) !== 0) fail(`${field}.blockSize`, `expected a power of two >= 2, got ${aim.blockSize}`);
      return;
    case 'peer-predict':
      checkSegments(aim.increments, `${field}.increments`, -65535, 65535);
      if (!Array.isArray(aim.range) || !isInt(aim.range[0]) || !isInt(aim.range[1]) || aim.range[0] > aim.range[1]) fail(`${field}.range`, 'expected [lo, hi]');
      return;
    default:
      fail(`${field}.kind`, `unknown aim ${JSON.stringify((aim as { kind?: unknown } | undefined)?.kind)}`);
  }
}

function checkPlan(p: SidePlan, peer: SidePlan, field: string): void {
  if (p === null || typeof p !== 'object') fail(field, 'expected a side plan');
  if (p.sockets !== 'fresh' && p.sockets !== 'single') fail(`${field}.sockets`, `expected fresh or single, got ${JSON.stringify(p.sockets)}`);
  if (p.report !== 'never' && p.report !== 'once' && p.report !== 'rounds') fail(`${field}.report`, `expected never, once or rounds, got ${JSON.stringify(p.report)}`);
  if (p.report === 'rounds' && !(isInt(p.roundPackets) && p.roundPackets >= 2)) fail(`${field}.roundPackets`, `expected an integer >= 2, got ${p.roundPackets}`);
  checkAim(p.aim, `${field}.aim`);
  if (p.aim.kind.startsWith('peer-') && peer?.report === 'never') fail(`${field}.aim`, `'${p.aim.kind}' needs the peer to report its port, but the peer's report is 'never'`);
}

/** Validate options into a plain spec (messages name the field). */
export function refereeSpec(o: RefereeOptions): RefereeSpec {
  checkNat(o.a?.nat, 'a.nat');
  checkNat(o.b?.nat, 'b.nat');
  checkPlan(o.a.plan, o.b.plan, 'a.plan');
  checkPlan(o.b.plan, o.a.plan, 'b.plan');
  if (!(o.ratePps > 0 && Number.isFinite(o.ratePps))) fail('ratePps', `expected > 0, got ${o.ratePps}`);
  if (!isInt(o.budget) || o.budget < 1 || o.budget > 1 << 26) fail('budget', `expected an integer in 1..2^26, got ${o.budget}`);
  if (!isInt(o.trials) || o.trials < 0) fail('trials', `expected an integer >= 0, got ${o.trials}`);
  if (typeof o.seed !== 'string') fail('seed', 'expected a string');
  return { a: o.a, b: o.b, ratePps: o.ratePps, budget: o.budget, seed: o.seed };
}

function assemble(batch: TrialBatch, budget: number): RefereeResult {
  let successes = 0;
  for (const p of batch.packets) if (p !== Infinity) successes++;
  return { trials: batch.packets.length, successes, sorted: Float64Array.from(batch.packets).sort(), budget, drops: batch.drops };
}

/** Run on this thread. */
export function refereeSync(o: RefereeOptions): RefereeResult {
  const spec = refereeSpec(o);
  return assemble(runTrials(spec, 0, o.trials), spec.budget);
}

const WORKER = new URL('./worker.ts', import.meta.url);
/** Below this much estimated work a run stays on this thread (a worker's boot and messages cost more). */
const PARALLEL_MS = 1500;

/**
 * Run, splitting the trials over `workers` pooled threads when the work is long enough
 * to pay for it (judged from the first twentieth of the trials, run here). The result is
 * the same whatever the split.
 */
export async function referee(o: RefereeOptions): Promise<RefereeResult> {
  const spec = refereeSpec(o);
  const threads = threadsFor(o.workers ?? 1);
  const probe = threads > 1 ? Math.min(o.trials, Math.max(1, Math.ceil(o.trials / 20))) : o.trials;
  const t0 = performance.now();
  const first = runTrials(spec, 0, probe);
  const rest = o.trials - probe;
  if (rest === 0) return assemble(first, spec.budget);
  const estimate = ((performance.now() - t0) * rest) / probe;
  const parts: TrialBatch[] = [first];
  if (estimate < (o.parallelAfterMs ?? PARALLEL_MS)) parts.push(runTrials(spec, probe, o.trials));
  else {
    const pool = poolFor(WORKER, threads);
    const ranges = splitRange(rest, threads).map(([from, to]): [number, number] => [probe + from, probe + to]);
    parts.push(...(await Promise.all(ranges.map(([from, to]) => pool.run<TrialBatch>({ spec, from, to })))));
  }
  const packets = new Float64Array(o.trials);
  let at = 0;
  const drops = { a: 0, b: 0 };
  for (const p of parts) {
    packets.set(p.packets, at);
    at += p.packets.length;
    drops.a += p.drops.a;
    drops.b += p.drops.b;
  }
  return assemble({ packets, drops }, spec.budget);
}

// ---------------------------------------------------------------------------------------
// Reading results.

/** Fraction of trials that succeeded within `packets` per side. */
export function successAt(r: Pick<RefereeResult, 'sorted' | 'trials'>, packets: number): number {
  if (r.trials === 0) return 0;
  let lo = 0;
  let hi = r.sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (r.sorted[mid]! <= packets) lo = mid + 1;
    else hi = mid;
  }
  return lo / r.trials;
}

/**
 * Smallest packets per side at which the empirical success reaches p (the
 * ceil(p * trials)-th fastest trial); null when the trials never get there.
 */
export function packetsFor(r: Pick<RefereeResult, 'sorted' | 'trials'>, p: number): number | null {
  if (r.trials === 0) return null;
  const need = Math.max(1, Math.ceil(p * r.trials - 1e-9));
  const v = r.sorted[need - 1]!;
  return v === Infinity ? null : v;
}

/** Binomial standard error of a success fraction p over n trials. */
export function stdErr(p: number, n: number): number {
  return n > 0 ? Math.sqrt(Math.max(0, p * (1 - p)) / n) : Infinity;
}
