/**
 * Contract `evaluate/attack.json` (written by evaluate): per carrier pair, the plan each
 * side's engine executes and what it costs in packets per side as the referee measured
 * it, beside the textbook naive cost, the plan's closed form where one holds, the bound
 * and the success curves. The bias stage copies each same-carrier pair into its table.
 */
import type { PunchPlan } from '../bias/types.ts';
import type { Costs, MaybeCosts } from '../evaluate/analytic.ts';
import type { PricedPlan, PricingSettings } from '../evaluate/price.ts';
import { JsonCodec, JsonFile } from './json.ts';

export const ATTACK_SCHEMA = 'natatlas.attack/1';

export interface PairAttack {
  a: string;
  b: string;
  naiveKind: 'hard-hard' | 'easy-hard';
  /** The textbook uniform-guessing closed form (ignores port exhaustion, timeouts and mapping limits). */
  naive: Costs;
  /**
   * The published plan and its headline cost: packets per side at each success level as
   * the referee measured it under the realistic settings; null where that level is not
   * reached within the budget (then `cap` is the success reached), or when the run
   * skipped the referee.
   */
  biased: MaybeCosts & { strategy: string; params: Record<string, number | string>; cap: number | null };
  /** What each side's engine executes. */
  plan: PunchPlan;
  /** The plan's closed form, only where the referee agrees with it under its assumptions (no timeout, no limit). */
  idealised: (MaybeCosts & { formula: string }) | null;
  /** Which figure is the headline: the realistic simulation, or none when the referee was skipped. */
  headline: 'realistic' | 'not simulated';
  /** The candidates the referee screened, with what it measured (budget and trials of the screen). */
  candidates: PricedPlan['screened'];
  /** Lower bound for plans aiming at independently allocated ports (both sides hard); null otherwise. */
  bound: Costs | null;
  /** Textbook naive / headline, per level. */
  gain: MaybeCosts;
  curve: {
    packets: number[];
    /** Textbook naive closed form. */
    naive: number[];
    /** The plan's closed form where published (`idealised`). */
    biased: number[] | null;
    /** Kept for readers of older files: always null now (the referee's curves are the `realistic` ones). */
    mcNaive: number[] | null;
    mcBiased: number[] | null;
    /** The referee, realistic settings: the naive plan (same-carrier pairs) and the published plan. */
    realisticNaive: number[] | null;
    realisticBiased: number[] | null;
  };
  /** Success within the realistic budget, naive (same-carrier pairs) and the published plan; the trials and seed behind the plan's. */
  realistic: { naive: number | null; biased: number | null; trials: number | null; seed: string | null };
}

export interface AttackReport {
  schema: typeof ATTACK_SCHEMA;
  campaign: string;
  levels: readonly number[];
  naive: { N: number; hardHard: Costs; easyHard: Costs };
  /** The referee's settings; null when the run skipped it. */
  simulator: (PricingSettings & { timeouts: string; pairs: string }) | null;
  pairs: PairAttack[];
}

export const ATTACK = new JsonFile<AttackReport>('attack', 'evaluate', 'attack.json', new JsonCodec(ATTACK_SCHEMA, new URL('./schemas/attack.schema.json', import.meta.url), 'evaluate'));
