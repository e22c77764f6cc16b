/**
 * Re-measure published costs with the referee on fresh trials, and judge whether each
 * one stands. A published p99 is the ceil(0.99 T1)-th fastest of T1 trials, so if it is
 * right the referee's successes S2 of T2 fresh trials at that cost follow a beta-binomial
 * law (the success probability at an order statistic is Beta(j, T1 - j + 1); T1 infinite
 * for a closed form, whose 0.99 is exact): the check rejects when S2 at the cost is
 * improbably low (too few packets published) or S2 one packet below it improbably high
 * (too many). A cap (99% not reached) is compared with the fresh success within the
 * budget as two binomial proportions.
 *
 * Command line (after `natatlas run`): `npx tsx pipeline/evaluate/verify.ts [--derived
 * derived] [--campaign sample] [--trials 1000]` prints one line per carrier pair.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { PunchPlan } from '../bias/types.ts';
import { logBeta } from '../fit/stats/special.ts';
import type { Peer } from './plans.ts';
import type { PricingSettings } from './price.ts';
import { natOf } from './referee/from-fit.ts';
import { referee, successAt, type RefereeResult } from './referee/index.ts';
import { closePools } from '../threads.ts';
import { silentLogger } from '../context.ts';

export interface Verdict {
  ok: boolean;
  /** Probability, under "the published number is right", of a fresh result at least this far off (the smaller tail). */
  p: number;
  detail: string;
}

/** log P(S = s), S ~ BetaBinomial(n, a, b). */
function logBetaBinomial(s: number, n: number, a: number, b: number): number {
  return -Math.log(n + 1) - logBeta(n - s + 1, s + 1) + logBeta(s + a, n - s + b) - logBeta(a, b);
}

/** log P(S = s), S ~ Binomial(n, p). */
function logBinomial(s: number, n: number, p: number): number {
  return -Math.log(n + 1) - logBeta(n - s + 1, s + 1) + s * Math.log(p) + (n - s) * Math.log1p(-p);
}

/**
 * Does a published p-level cost stand against fresh trials? `t1`: trials behind the
 * published number (Infinity for a closed form). Rejects at two-sided level `alpha`.
 */
export function verifyCost(fresh: Pick<RefereeResult, 'sorted' | 'trials'>, cost: number, t1: number, level = 0.99, alpha = 1e-4): Verdict {
  const n = fresh.trials;
  const at = Math.round(successAt(fresh, cost) * n);
  const below = Math.round(successAt(fresh, cost - 1) * n);
  const j = Math.ceil(level * t1);
  const logP = Number.isFinite(t1) ? (s: number) => logBetaBinomial(s, n, j, t1 - j + 1) : (s: number) => logBinomial(s, n, level);
  let low = 0;
  for (let s = 0; s <= at; s++) low += Math.exp(logP(s));
  let high = 0;
  for (let s = below; s <= n; s++) high += Math.exp(logP(s));
  const p = Math.min(low, high);
  return { ok: p >= alpha / 2, p, detail: `${at}/${n} succeed at ${cost}, ${below}/${n} at ${cost - 1}` };
}

/** Does a published cap (success within the budget, from t1 trials) stand against fresh trials? Two-proportion z-test. */
export function verifyCap(fresh: Pick<RefereeResult, 'sorted' | 'trials'>, budget: number, cap: number, t1: number, z = 4): Verdict {
  const q = successAt(fresh, budget);
  const pooled = (cap * t1 + q * fresh.trials) / (t1 + fresh.trials);
  const se = Math.sqrt(Math.max(pooled * (1 - pooled), 1 / (t1 + fresh.trials)) * (1 / t1 + 1 / fresh.trials));
  const zz = Math.abs(q - cap) / se;
  return { ok: zz <= z, p: Math.exp(-0.5 * zz * zz), detail: `cap ${cap} (${t1} trials) vs ${q.toFixed(3)} (${fresh.trials} fresh)` };
}

/** The plan run again on the fitted NATs, with the pricing's realistic settings and a fresh seed. */
export function rerun(plan: PunchPlan, a: Peer, b: Peer, s: Pick<PricingSettings, 'mappingLimit' | 'perBlockSpread' | 'ratePps' | 'workers'>, budget: number, trials: number, seed: string): Promise<RefereeResult> {
  const nat = (p: Peer) => natOf(p, { timeouts: true, mappingLimit: s.mappingLimit, perBlockSpread: s.perBlockSpread });
  return referee({ a: { nat: nat(a), plan: plan.a }, b: { nat: nat(b), plan: plan.b }, ratePps: s.ratePps, budget, trials, seed, workers: s.workers });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { derived: { type: 'string', default: 'derived' }, campaign: { type: 'string', default: 'sample' }, trials: { type: 'string', default: '1000' } } });
  // Loaded here, not at the top: the stage module is not needed by the functions above (tests import them).
  const { peerOf } = await import('../stages/evaluate.ts');
  const { ATTACK } = await import('../contracts/attack.ts');
  const { FITS } = await import('../contracts/fit.ts');
  const ctx = { campaign: values.campaign!, paths: { derived: values.derived!, raw: '', reports: '' }, log: silentLogger };
  const attack = ATTACK.read(ctx);
  if (!attack.simulator) throw new Error(`${values.campaign}: evaluate ran without the referee (--no-montecarlo): nothing to verify`);
  const peers = new Map<string, Peer>();
  for (const fit of FITS.readAll(ctx)) peers.set(fit.carrier, peerOf(fit));
  const trials = Number(values.trials);
  for (const p of attack.pairs) {
    const a = peers.get(p.a)!;
    const b = peers.get(p.b)!;
    const seed = `verify/${p.a}/${p.b}`;
    const t1 = p.realistic.trials!;
    const v = p.biased.p99 !== null
      ? verifyCost(await rerun(p.plan, a, b, attack.simulator, Math.min(attack.simulator.budget, p.biased.p99 + 1), trials, seed), p.biased.p99, t1)
      : verifyCap(await rerun(p.plan, a, b, attack.simulator, attack.simulator.budget, trials, seed), attack.simulator.budget, p.biased.cap!, t1);
    const cost = p.biased.p99 !== null ? `p99 ${p.biased.p99}` : `cap ${p.biased.cap}`;
    console.log(`${p.a} x ${p.b}\t${p.biased.strategy}\t${cost}\t${v.detail}\t${v.ok ? 'stands' : 'REJECTED'} (p ${v.p.toExponential(1)})`);
  }
  await closePools();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
