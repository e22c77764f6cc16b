/**
 * The Monte Carlo side of the evaluate stage: turns a pair's plan into two simulated
 * peers and runs the punch simulator twice per same-carrier pair.
 *
 * - **check**: the conditions the closed forms assume (no timeout, no mapping limit,
 *   netfilter-style tuple exclusivity), so the analytic and simulated curves must agree
 *   within Monte Carlo error; the report draws both.
 * - **realistic**: the carrier's measured wait timeout, a per-subscriber mapping limit
 *   and a send rate, with ports exclusive per mapping (a CGNAT hands each mapping its
 *   own port). This is where a budget stops buying success: the seed's point that the
 *   170,000-packet advice ignores timeouts and table sizes.
 */
import type { PortSegment } from '../bias/types.ts';
import { runMonteCarlo, successCurve, type Side } from './montecarlo.ts';
import { topPorts } from './analytic.ts';
import type { Plan, PeerModel } from './strategies.ts';

export interface SimulatorSettings {
  /** Trials per curve for the analytic check. */
  trials: number;
  /** Trials per curve for the realistic runs. */
  realisticTrials: number;
  /** Packets per second per side in realistic runs. */
  ratePps: number;
  /** Live mappings a carrier NAT keeps per subscriber in realistic runs. */
  mappingLimit: number;
  /** Realistic runs stop at this many packets per side. */
  realisticBudget: number;
  seed: string;
  workers: number;
}

/**
 * Defaults: 200 trials (a curve's standard error is at most 3.5 points); 100 packets/s
 * (twice the capture app's pace; engines send in bursts of this order); 4,096 live
 * mappings per subscriber (RFC 6888 asks CGNATs for a configurable per-subscriber
 * limit; deployments use a few hundred to a few thousand ports).
 */
export const DEFAULT_SIMULATOR: SimulatorSettings = {
  trials: 200,
  realisticTrials: 100,
  ratePps: 100,
  mappingLimit: 4096,
  realisticBudget: 200_000,
  seed: 'natatlas-evaluate',
  workers: 2,
};

const UNIFORM: PortSegment[] = [[1024, 65535, 1]];

/** The two simulated sides of a plan; null when the plan needs a model the simulator lacks. */
export function sidesOf(plan: Plan, a: PeerModel, b: PeerModel): [Side, Side] | null {
  const side = (self: PeerModel, peer: PeerModel): Side | null => {
    const base = { timeoutS: null, mappingLimit: null, reuse: 'tuple' as const };
    switch (plan.strategy) {
      case 'naive':
        return { ...base, allocation: { kind: 'segments', segments: UNIFORM }, targeting: { kind: 'segments', segments: UNIFORM } };
      case 'marginal':
        return { ...base, allocation: { kind: 'segments', segments: [...self.marginal] }, targeting: { kind: 'segments', segments: [...peer.marginal] } };
      case 'top-k': {
        const k = Number(self === a ? plan.params.kA : plan.params.kB);
        return { ...base, allocation: { kind: 'segments', segments: [...self.marginal] }, targeting: { kind: 'segments', segments: topPorts(peer.marginal, k) } };
      }
      case 'block-rounds': {
        if (self.conditional?.kind !== 'block') return null;
        // Whole allocations per block, as the analytic rounds use: a round then starts where a
        // block visit starts. (A real NAT's visits vary; rounds that drift off the visits
        // aim part of their packets at a block the peer has left.)
        const perBlock = Math.max(1, Math.min(self.conditional.blockSize, Math.floor(self.conditional.perBlock)));
        return {
          ...base,
          allocation: { kind: 'block', blockSize: self.conditional.blockSize, perBlock, blockSegments: [...self.marginal] },
          targeting: { kind: 'block-rounds', roundPackets: Number(plan.params.roundPackets) },
        };
      }
    }
  };
  const sa = side(a, b);
  const sb = side(b, a);
  return sa && sb ? [sa, sb] : null;
}

export interface SimulatedCurves {
  check: number[] | null;
  realistic: number[] | null;
  /** Success within the realistic budget. */
  realisticFinal: number | null;
}

/** Check and realistic curves for one plan on the packet grid. */
export async function simulatePlan(
  plan: Plan, a: PeerModel, b: PeerModel, timeouts: [number | null, number | null], grid: number[], s: SimulatorSettings, label: string,
): Promise<SimulatedCurves> {
  const sides = sidesOf(plan, a, b);
  if (!sides) return { check: null, realistic: null, realisticFinal: null };
  const p999 = plan.costs.p999 ?? grid[grid.length - 1]!;
  const checkBudget = Math.min(grid[grid.length - 1]!, Math.ceil(p999 * 1.2));
  const check = await runMonteCarlo({ a: sides[0], b: sides[1], budget: checkBudget, ratePps: s.ratePps, trials: s.trials, seed: `${s.seed}/${label}/check`, workers: s.workers });
  const realSide = (side: Side, timeoutS: number | null): Side => ({ ...side, timeoutS, mappingLimit: s.mappingLimit, reuse: 'port' });
  const realistic = await runMonteCarlo({
    a: realSide(sides[0], timeouts[0]), b: realSide(sides[1], timeouts[1]), budget: s.realisticBudget, ratePps: s.ratePps,
    trials: s.realisticTrials, seed: `${s.seed}/${label}/realistic`, workers: s.workers,
  });
  return {
    check: successCurve(check, grid),
    realistic: successCurve(realistic, grid),
    realisticFinal: realistic.successes / realistic.trials,
  };
}
