/**
 * Punch plans for a carrier pair: what each side's engine does, built from what the two
 * fits say about each NAT. A side whose NAT is endpoint-independent keeps one socket and
 * reports its mapping once (STUN-style), so the peer aims straight at it. A side whose
 * NAT is predictable from one observed port (block, sequential) reports a port at the
 * start of every round, and the peer aims where that NAT will allocate next: inside its
 * current block, or at the counter's predicted next ports. Any other NAT is aimed at
 * from its marginal: all of it, or its K likeliest ports.
 *
 * Which plan is published is decided by the referee (price.ts), not here; this module
 * only enumerates candidates (round lengths on a grid) and the closed form of the plans
 * that have one.
 */
import type { Aim, Conditional, MappingBehavior, PortSegment, PunchPlan, SidePlan } from '../bias/types.ts';
import { topPorts } from './analytic.ts';
import type { FittedNat } from './referee/from-fit.ts';

export type Peer = FittedNat;

export interface Candidate {
  plan: PunchPlan;
  /** What distinguishes the candidate in tables (K, round length). */
  params: Record<string, number | string>;
  /** Success with k packets per side in closed form, where the plan has one. */
  closedForm: ClosedForm | null;
}

export interface ClosedForm {
  name: string;
  success: (k: number) => number;
}

/** How a side's NAT can be aimed at. */
export type Reach =
  | { kind: 'learned' } // endpoint-independent: its one mapping, reported once
  | { kind: 'block'; blockSize: number; perBlock: number }
  | { kind: 'predict'; increments: PortSegment[]; range: [number, number] }
  | { kind: 'marginal' };

export function isEasy(b: MappingBehavior): boolean {
  return b === 'endpoint-independent';
}

function range(segs: readonly PortSegment[]): [number, number] {
  return [segs[0]![0], segs[segs.length - 1]![1]];
}

function reachOf(p: Peer): Reach {
  if (isEasy(p.behavior)) return { kind: 'learned' };
  const c: Conditional = p.conditional;
  if (p.model.family === 'block' && c?.kind === 'block') return { kind: 'block', blockSize: c.blockSize, perBlock: c.perBlock };
  if (p.model.family === 'sequential' && c?.kind === 'delta') {
    return { kind: 'predict', increments: c.segments.filter((s) => s[0] >= 1).map((s) => [s[0], s[1], s[2]]), range: range(p.marginal) };
  }
  return { kind: 'marginal' };
}

/** Round lengths (packets per round, the report included) worth trying against a peer's reach. */
export function roundGrid(reach: readonly Reach[]): number[] {
  const blocks = reach.filter((r): r is Extract<Reach, { kind: 'block' }> => r.kind === 'block');
  const out = new Set<number>();
  if (blocks.length > 0) {
    // A round should end before the shortest block visit does; how much shorter is the referee's call.
    const m = Math.min(...blocks.map((b) => Math.min(b.perBlock, b.blockSize)));
    for (const f of [0.12, 0.2, 0.3, 0.45, 0.65, 0.85]) out.add(Math.max(2, Math.round(f * m)));
  }
  if (reach.some((r) => r.kind === 'predict')) for (const r of [2, 3, 4, 6, 8, 12]) out.add(r);
  return [...out].sort((x, y) => x - y);
}

/** Independent targets for a side aiming at a peer it cannot learn: the marginal and a few top-K. */
export interface Target {
  label: string;
  segments: PortSegment[];
}

export function targetsFor(peer: Peer, ks: readonly number[]): Target[] {
  const out: Target[] = [{ label: 'marginal', segments: [...peer.marginal] }];
  // A flat marginal has no likelier ports: top-K would only aim at part of it.
  if (peer.marginal.length > 1) for (const k of ks) out.push({ label: `top-${k}`, segments: topPorts(peer.marginal, k) });
  return out;
}

/** One side's plan: sockets and reports from its own NAT, aim from the peer's reach. */
function sidePlan(self: Reach, peer: Reach, peerTarget: Target, selfReports: boolean, round: number): SidePlan {
  const sockets = self.kind === 'learned' ? 'single' : 'fresh';
  let aim: Aim;
  if (peer.kind === 'learned') aim = { kind: 'peer-port' };
  else if (peer.kind === 'block') aim = { kind: 'peer-block', blockSize: peer.blockSize };
  else if (peer.kind === 'predict') aim = { kind: 'peer-predict', increments: peer.increments, range: peer.range };
  // One socket towards many ports: each destination once is better than repeats.
  else aim = self.kind === 'learned' ? { kind: 'sweep', segments: peerTarget.segments } : { kind: 'segments', segments: peerTarget.segments };
  if (self.kind === 'learned') return { sockets, report: 'once', aim };
  if (!selfReports) return { sockets, report: 'never', aim };
  return { sockets, report: 'rounds', roundPackets: round, aim };
}

function strategyName(a: Reach, b: Reach): string {
  const kinds = [a.kind, b.kind].sort().join('+');
  const names: Record<string, string> = {
    'learned+learned': 'learned-mappings',
    'learned+marginal': 'easy-hard',
    'block+learned': 'easy-block',
    'learned+predict': 'easy-predict',
    'block+block': 'block-rounds',
    'block+marginal': 'block-aim',
    'marginal+predict': 'sequential-aim',
    'predict+predict': 'sequential-predict',
    'block+predict': 'block-predict',
  };
  return names[kinds] ?? 'marginal';
}

/** What the plans of a pair can use: each side's reach and independent targets. */
export interface PairShape {
  a: Peer;
  b: Peer;
  reachA: Reach;
  reachB: Reach;
  /** Some side reports its port (endpoint-independent, block, sequential): structured plans exist. */
  structured: boolean;
  /** Both sides endpoint-dependent (or unknown): independent plans exist. */
  independent: boolean;
  /** Round lengths to try (empty: the structured plan has no rounds). */
  rounds: number[];
}

export function pairShape(a: Peer, b: Peer): PairShape {
  const reachA = reachOf(a);
  const reachB = reachOf(b);
  const learnable = (r: Reach) => r.kind !== 'marginal';
  const rounds = learnable(reachA) && reachA.kind !== 'learned' || learnable(reachB) && reachB.kind !== 'learned' ? roundGrid([reachA, reachB]) : [];
  return { a, b, reachA, reachB, structured: learnable(reachA) || learnable(reachB), independent: !isEasy(a.behavior) && !isEasy(b.behavior), rounds };
}

/**
 * The structured plan: learnable sides report (endpoint-independent ones once, block and
 * sequential ones every `round` packets), the peer aims through the reports; a side that
 * cannot be learned is aimed at with `targetB` (A's aim at B) / `targetA` (B's aim at A).
 */
export function structuredPlan(s: PairShape, round: number, targetB: Target, targetA: Target): Candidate {
  const reports = (r: Reach) => r.kind === 'block' || r.kind === 'predict';
  const plan: PunchPlan = {
    strategy: strategyName(s.reachA, s.reachB),
    a: sidePlan(s.reachA, s.reachB, targetB, reports(s.reachA), round),
    b: sidePlan(s.reachB, s.reachA, targetA, reports(s.reachB), round),
  };
  const params: Record<string, number | string> = {};
  if (reports(s.reachA) || reports(s.reachB)) params.roundPackets = round;
  if (s.reachB.kind === 'marginal') params.targetA = targetB.label;
  if (s.reachA.kind === 'marginal') params.targetB = targetA.label;
  return { plan, params, closedForm: closedFormOf(s.reachA, s.reachB, s.a, s.b, plan) };
}

/** Both sides aim at independent targets on the peer from fresh sockets. */
export function independentPlan(targetB: Target, targetA: Target): Candidate {
  const flat = targetB.label === 'marginal' && targetA.label === 'marginal';
  return {
    plan: {
      strategy: flat ? 'marginal' : 'top-k',
      a: { sockets: 'fresh', report: 'never', aim: { kind: 'segments', segments: targetB.segments } },
      b: { sockets: 'fresh', report: 'never', aim: { kind: 'segments', segments: targetA.segments } },
    },
    params: { targetA: targetB.label, targetB: targetA.label },
    closedForm: null,
  };
}

/** The textbook plan: uniform aims over 1024-65535 from fresh sockets (easy sides: their one socket, reported). */
export function naivePlan(a: Peer, b: Peer): PunchPlan {
  const uniform: PortSegment[] = [[1024, 65535, 1]];
  const side = (self: Peer, peer: Peer): SidePlan => {
    if (isEasy(self.behavior)) return { sockets: 'single', report: 'once', aim: isEasy(peer.behavior) ? { kind: 'peer-port' } : { kind: 'sweep', segments: uniform } };
    return { sockets: 'fresh', report: 'never', aim: isEasy(peer.behavior) ? { kind: 'peer-port' } : { kind: 'segments', segments: uniform } };
  };
  return { strategy: 'naive', a: side(a, b), b: side(b, a) };
}

/**
 * Closed forms that hold for a plan (the referee's tests show where):
 * - two reported endpoint-independent mappings: certain at 2 packets a side (report, punch);
 * - easy vs hard against a flat range of N ports: after the easy side's report, its k - 1
 *   swept ports miss the hard side's k - 1 distinct ports with probability
 *   C(N - k + 1, k - 1) / C(N, k - 1).
 */
function closedFormOf(a: Reach, b: Reach, pa: Peer, pb: Peer, plan: PunchPlan): ClosedForm | null {
  if (a.kind === 'learned' && b.kind === 'learned') return { name: 'two reported mappings: 2 packets a side', success: (k) => (k >= 2 ? 1 : 0) };
  const easyHard = (hard: Peer, sweep: SidePlan): ClosedForm | null => {
    if (hard.marginal.length !== 1 || sweep.aim.kind !== 'sweep') return null;
    const n = hard.marginal[0]![1] - hard.marginal[0]![0] + 1;
    return { name: `easy vs hard, hypergeometric on ${n} ports`, success: (k) => (k < 2 ? 0 : 1 - disjointSweep(n, k)) };
  };
  if (a.kind === 'learned' && b.kind === 'marginal') return easyHard(pb, plan.a);
  if (b.kind === 'learned' && a.kind === 'marginal') return easyHard(pa, plan.b);
  return null;
}

/** P(k - 1 swept ports miss k - 1 distinct allocated ports among n): prod_{i < k-1} (n - k + 1 - i) / (n - i). */
export function disjointSweep(n: number, k: number): number {
  const m = k - 1;
  if (2 * m > n) return 0;
  let logP = 0;
  for (let i = 0; i < m; i++) logP += Math.log((n - m - i) / (n - i));
  return Math.exp(logP);
}

