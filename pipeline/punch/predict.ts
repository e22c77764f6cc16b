/**
 * What the referee predicts for a lab punch: the pair's plan against the two NATs as the
 * lab campaign's fits describe them, under the lab's settings rather than evaluate's
 * defaults: the punch's own rate and budget, each fitted wait timeout, and no mapping
 * limit (netfilter keeps as many mappings as conntrack holds). Comparing it with what
 * `punch` measures closes the loop between the simulator and real NATs.
 */
import type { PunchPlan } from '../bias/types.ts';
import type { CarrierFit } from '../contracts/fit.ts';
import { natOf } from '../evaluate/referee/from-fit.ts';
import { referee, type RefereeResult } from '../evaluate/referee/index.ts';
import { peerOf } from '../stages/evaluate.ts';

export interface LabPunchSettings {
  /** Packets per second per side (punch's --rate). */
  ratePps: number;
  /** Packets per side (punch's --budget). */
  budget: number;
  trials: number;
  seed: string;
  workers?: number;
}

/** The referee's trials of `plan` (A's side in `plan.a`) between the NATs of fitA and fitB. */
export function predictPunch(fitA: CarrierFit, fitB: CarrierFit, plan: PunchPlan, s: LabPunchSettings): Promise<RefereeResult> {
  const nat = (f: CarrierFit) => natOf(peerOf(f), { timeouts: true, mappingLimit: null, perBlockSpread: 0 });
  return referee({ a: { nat: nat(fitA), plan: plan.a }, b: { nat: nat(fitB), plan: plan.b }, ratePps: s.ratePps, budget: s.budget, trials: s.trials, seed: s.seed, workers: s.workers ?? 1 });
}
