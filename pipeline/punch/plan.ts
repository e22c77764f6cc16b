/** The plan evaluate published for a carrier pair, oriented for `natatlas punch`'s A and B. */
import { NatatlasError } from '../errors.ts';
import type { PunchPlan } from '../bias/types.ts';

/** A pair as attack.json lists it (each pair once, its plan's `a` side being the pair's `a`). */
export interface PublishedPair {
  a: string;
  b: string;
  plan: PunchPlan;
}

/** The plan for A = `a`, B = `b`: the listed pair's, its sides swapped when the pair is listed as (b, a). */
export function pairPlan(pairs: readonly PublishedPair[], a: string, b: string, file: string): PunchPlan {
  const same = pairs.find((p) => p.a === a && p.b === b);
  if (same) return same.plan;
  const swapped = pairs.find((p) => p.a === b && p.b === a);
  if (swapped) return { strategy: swapped.plan.strategy, a: swapped.plan.b, b: swapped.plan.a };
  throw new NatatlasError(`punch: ${file} has no pair ${a} x ${b} (pairs: ${pairs.map((p) => `${p.a} x ${p.b}`).join(', ') || 'none'})`);
}
