/**
 * What evaluate keeps of a priced carrier pair between runs (issue 13 item 3): the pair's
 * attack entry as published, and what the trial cells' predictions read later (the
 * published plan, and the referee's per-trial packet counts behind `successAt`). The
 * referee is most of a run's time, and a pair's result depends only on the two peers'
 * fits, the referee settings, the pair's seed label and the code: stages/evaluate.ts
 * keys each pair by those in the stage's UnitLedger and reuses the result while the key
 * holds. A failed trial's Infinity is not JSON, so the cached form keeps the finite
 * (ascending) prefix of the packet counts and the trial count.
 */
import type { PunchPlan } from '../bias/types.ts';
import type { PairAttack } from '../contracts/attack.ts';
import type { RefereeResult } from './referee/index.ts';

export interface PairOutcome {
  attack: PairAttack;
  strategy: string;
  /** The published plan (measured again at a trial cell's own send rate). */
  plan: PunchPlan;
  /** The referee's measurement of the plan under the realistic settings; null when not simulated. */
  realistic: { budget: number; result: Pick<RefereeResult, 'trials' | 'sorted'> } | null;
}

interface StoredOutcome {
  attack: PairAttack;
  strategy: string;
  plan: PunchPlan;
  realistic: { budget: number; trials: number; succeeded: number[] } | null;
}

/** The outcome as plain JSON for the ledger. */
export function storeOutcome(o: PairOutcome): StoredOutcome {
  const r = o.realistic;
  if (!r) return { attack: o.attack, strategy: o.strategy, plan: o.plan, realistic: null };
  const succeeded: number[] = [];
  for (const k of r.result.sorted) if (Number.isFinite(k)) succeeded.push(k);
  return { attack: o.attack, strategy: o.strategy, plan: o.plan, realistic: { budget: r.budget, trials: r.result.trials, succeeded } };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The outcome a ledger value holds, or null when it is not one (the pair is then priced again). */
export function loadOutcome(v: unknown): PairOutcome | null {
  if (!isObject(v) || !isObject(v.attack) || typeof v.strategy !== 'string' || !isObject(v.plan)) return null;
  const base = { attack: v.attack as unknown as PairAttack, strategy: v.strategy, plan: v.plan as unknown as PunchPlan };
  if (v.realistic === null) return { ...base, realistic: null };
  const r = v.realistic;
  if (!isObject(r) || !isCount(r.budget) || !isCount(r.trials) || !Array.isArray(r.succeeded) || r.succeeded.length > r.trials) return null;
  const sorted = new Float64Array(r.trials).fill(Infinity);
  let last = -Infinity;
  for (let i = 0; i < r.succeeded.length; i++) {
    const k: unknown = r.succeeded[i];
    if (typeof k !== 'number' || !Number.isFinite(k) || k < last) return null;
    sorted[i] = last = k;
  }
  return { ...base, realistic: { budget: r.budget, result: { trials: r.trials, sorted } } };
}
