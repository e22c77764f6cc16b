/**
 * The best way for two peers to aim their packets, given what the fit learned about
 * each side's NAT, and what it costs at each success level. Candidates:
 *
 * - `marginal`: aim at ports drawn from the peer's marginal (what the seed author's
 *   engine does);
 * - `top-k`: spread packets evenly over the peer's K most likely ports, K searched on a
 *   grid (concentrating raises the chance per packet, but piling packets on ports the
 *   peer may never allocate saturates: the Poisson cell model accounts for both);
 * - `block-rounds`: both peers on block NATs learn each other's current block through
 *   the rendezvous, aim inside it for at most the allocations a block lasts, re-learn,
 *   repeat (the per-block limit caps what one round can do).
 *
 * The strategy with the fewest packets at 99% is the plan; a plan that saves less than
 * MIN_GAIN over naive is not claimed (a uniform carrier gains nothing real).
 */
import type { Conditional, MappingBehavior, PortSegment } from '../bias/types.ts';
import {
  LEVELS, LEVEL_KEYS, biasedSuccess, easyHardProbability, hardHardProbability, costsAt, naiveCosts, packetsBound, roundFailure, roundsPackets, topPorts,
  type Costs, type LevelKey, type MaybeCosts,
} from './analytic.ts';

/** Below this saving over naive at 99%, no gain is claimed. */
export const MIN_GAIN = 1.05;

export interface PeerModel {
  carrier: string;
  behavior: MappingBehavior;
  marginal: readonly PortSegment[];
  conditional: Conditional;
}

export interface Plan {
  strategy: 'naive' | 'marginal' | 'top-k' | 'block-rounds';
  params: Record<string, number | string>;
  costs: MaybeCosts;
  /** Success probability with k packets per side. */
  success: (k: number) => number;
}

export interface PairEvaluation {
  a: string;
  b: string;
  naive: Costs;
  naiveKind: 'hard-hard' | 'easy-hard';
  biased: Plan;
  candidates: { strategy: string; params: Record<string, number | string>; costs: MaybeCosts }[];
  bound: Costs;
  gain: MaybeCosts;
  naiveSuccess: (k: number) => number;
}

let naiveMemo: ReturnType<typeof naiveCosts> | undefined;
/** Computed on first use, not at import: it is ~10^7 logarithms. */
export function naive(): ReturnType<typeof naiveCosts> {
  naiveMemo ??= naiveCosts();
  return naiveMemo;
}

function topKGrid(segs: readonly PortSegment[]): number[] {
  const support = segs.reduce((s, [from, to]) => s + (to - from + 1), 0);
  const grid: number[] = [];
  for (let k = 16; k < support; k = Math.ceil(k * 1.5)) grid.push(k);
  return grid;
}

function plan(strategy: Plan['strategy'], params: Plan['params'], success: (k: number) => number): Plan {
  return { strategy, params, success, costs: costsAt(success) };
}

function blockRounds(a: PeerModel, b: PeerModel): Plan | null {
  if (a.conditional?.kind !== 'block' || b.conditional?.kind !== 'block') return null;
  // Each side's j packets in a round land in its own current block; both aim inside the other's.
  const m = Math.max(1, Math.floor(Math.min(a.conditional.perBlock, b.conditional.perBlock, a.conditional.blockSize, b.conditional.blockSize)));
  const window = Math.sqrt(a.conditional.blockSize * b.conditional.blockSize);
  const costs = {} as MaybeCosts;
  let roundSuccess = 0;
  LEVELS.forEach((p, i) => {
    const r = roundsPackets(m, window, p);
    costs[LEVEL_KEYS[i]!] = r.packets;
    roundSuccess = r.roundSuccess;
  });
  const success = (k: number) => {
    const full = Math.floor(k / (m + 1));
    const rest = Math.max(0, k - full * (m + 1) - 1);
    return 1 - Math.pow(roundFailure(m, window), full) * roundFailure(Math.min(rest, m), window);
  };
  return { strategy: 'block-rounds', params: { roundPackets: m, blockSize: window, roundSuccess, relearnPacketsPerRound: 1 }, costs, success };
}

function at99(p: Plan): number {
  return p.costs.p99 ?? Infinity;
}

export function evaluatePair(a: PeerModel, b: PeerModel): PairEvaluation {
  const easy = a.behavior === 'endpoint-independent' || b.behavior === 'endpoint-independent';
  const naiveCost = easy ? naive().easyHard : naive().hardHard;
  const candidates: Plan[] = [];
  const aimed = (tA: readonly PortSegment[], tB: readonly PortSegment[]) =>
    biasedSuccess({ allocation: b.marginal, targeting: tA }, { allocation: a.marginal, targeting: tB });
  candidates.push(plan('marginal', {}, aimed(b.marginal, a.marginal)));
  const gridA = topKGrid(b.marginal);
  const gridB = topKGrid(a.marginal);
  for (let i = 0; i < Math.min(gridA.length, gridB.length); i++) {
    const kA = gridA[i]!;
    const kB = gridB[i]!;
    candidates.push(plan('top-k', { kA, kB }, aimed(topPorts(b.marginal, kA), topPorts(a.marginal, kB))));
  }
  const rounds = blockRounds(a, b);
  if (rounds) candidates.push(rounds);
  const best = candidates.reduce((x, y) => (at99(y) < at99(x) ? y : x));
  const naiveSuccess = easy ? (k: number) => easyHardProbability(k, k) : (k: number) => hardHardProbability(k, k);
  const claimed = naiveCost.p99 / at99(best) >= MIN_GAIN;
  const biased: Plan = claimed ? best : { strategy: 'naive', params: { reason: `best plan (${best.strategy}) saves less than ${MIN_GAIN}x` }, costs: { ...naiveCost }, success: naiveSuccess };
  const bound = {} as Costs;
  const gain = {} as MaybeCosts;
  LEVELS.forEach((p, i) => {
    const key = LEVEL_KEYS[i]! as LevelKey;
    bound[key] = Math.ceil(packetsBound(a.marginal, b.marginal, p));
    const c = biased.costs[key];
    gain[key] = c === null ? null : naiveCost[key] / c;
  });
  return {
    a: a.carrier, b: b.carrier, naive: naiveCost, naiveKind: easy ? 'easy-hard' : 'hard-hard', biased, bound, gain, naiveSuccess,
    candidates: candidates.map((c) => ({ strategy: c.strategy, params: c.params, costs: c.costs })),
  };
}
