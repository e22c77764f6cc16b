/**
 * Trials of one punch: both engines send packet k at step k (time k / ratePps), A first.
 * A punching packet from external port x to the peer's port y gets in iff the peer's NAT
 * holds a live mapping from y to x at that step; the first one that does ends the trial,
 * which needed k + 1 packets per side (reports included; a packet slot with nothing to
 * aim at yet, waiting for the peer's report, counts as a packet). A trial that reaches
 * the budget fails (Infinity). A report made at step k is known to the peer from step k + 1.
 *
 * Randomness: trial i draws only from `${seed}/referee/trial/${i}`, so results do not
 * depend on how trials are split over workers.
 */
import { Rng } from '../../random.ts';
import type { SidePlan } from '../../bias/types.ts';
import { Engine } from './engine.ts';
import { NatSim, type NatSpec } from './nat.ts';

export interface RefereeSide {
  nat: NatSpec;
  plan: SidePlan;
}

/** A validated run: plain data, so it crosses into worker threads. */
export interface RefereeSpec {
  a: RefereeSide;
  b: RefereeSide;
  ratePps: number;
  /** Packets per side before a trial fails. */
  budget: number;
  seed: string;
}

export interface TrialBatch {
  /** Packets per side each trial needed, in trial order; Infinity for failures. */
  packets: Float64Array;
  drops: { a: number; b: number };
}

export function trialRng(seed: string, i: number): Rng {
  return new Rng(`${seed}/referee/trial/${i}`);
}

/** One trial between two engines (their NATs already built). */
export function runTrial(A: Engine, B: Engine, rng: Rng, budget: number): number {
  A.nat.begin(rng);
  B.nat.begin(rng);
  A.begin();
  B.begin();
  const out = { port: 0, dest: 0 };
  for (let k = 0; k < budget; k++) {
    if (A.send(k, rng, out) && B.nat.admits(out.dest, out.port, k)) return k + 1;
    if (B.send(k, rng, out) && A.nat.admits(out.dest, out.port, k)) return k + 1;
    // A report reaches the peer through the rendezvous in time for its next packet.
    if (A.mine) B.peer = A.mine;
    if (B.mine) A.peer = B.mine;
  }
  return Infinity;
}

/** Trials [from, to) of a spec. */
export function runTrials(spec: RefereeSpec, from: number, to: number): TrialBatch {
  const natA = new NatSim(spec.a.nat, spec.ratePps, spec.budget);
  const natB = new NatSim(spec.b.nat, spec.ratePps, spec.budget);
  const A = new Engine(spec.a.plan, natA);
  const B = new Engine(spec.b.plan, natB);
  const packets = new Float64Array(Math.max(0, to - from));
  for (let t = from; t < to; t++) packets[t - from] = runTrial(A, B, trialRng(spec.seed, t), spec.budget);
  return { packets, drops: { a: natA.drops, b: natB.drops } };
}
