/**
 * What a punch between two fitted carriers costs, as the referee measures it. Candidate
 * plans (plans.ts) are screened in the referee under the realistic settings (each NAT's
 * fitted allocation process and wait timeout, a per-subscriber mapping limit, a send
 * rate; block visits varying around the fitted length and out of phase with the rounds);
 * the best is priced again on fresh trials, so the published costs are not the screen's
 * lucky draw. A plan's closed form is published beside it only when the referee, run
 * under the closed form's own assumptions (no timeout, no limit), agrees with it.
 *
 * Headline: the realistic simulated cost. Where 99% is not reached within the budget,
 * the p99 is null and `cap` says how far the plan gets.
 */
import type { PunchPlan } from '../bias/types.ts';
import { LEVELS, LEVEL_KEYS, costsAt, type MaybeCosts } from './analytic.ts';
import { MIN_GAIN, evaluatePair, type PairEvaluation } from './strategies.ts';
import { independentPlan, naivePlan, pairShape, structuredPlan, targetsFor, type Candidate, type Peer, type Target } from './plans.ts';
import { natOf } from './referee/from-fit.ts';
import { packetsFor, referee, stdErr, successAt, type RefereeResult } from './referee/index.ts';

export interface PricingSettings {
  /** Packets per second per side. */
  ratePps: number;
  /** Live mappings a carrier NAT keeps per subscriber. */
  mappingLimit: number;
  /** Packets per side before a trial counts as failed. */
  budget: number;
  /** Trials pricing the published plan. */
  trials: number;
  /** Trials per candidate in the screen (at a sixteenth of the budget), and for a published plan that does not reach 99%. */
  screenTrials: number;
  /** A block NAT's allocations per visit: uniform on the fitted mean +- this. */
  perBlockSpread: number;
  seed: string;
  workers: number;
}

/**
 * Defaults: 100 packets/s (twice the capture app's pace); 4,096 live mappings per
 * subscriber (RFC 6888 asks CGNATs for a per-subscriber limit; deployments use hundreds
 * to thousands); 100,000 packets per side (17 minutes at that rate); 1,000 trials for a
 * published cost (the success at a published p99 then has a standard error of 0.3
 * points); 100 per screened candidate, and for a cap (standard error at most 5 points).
 */
export const DEFAULT_PRICING: PricingSettings = {
  ratePps: 100,
  mappingLimit: 4096,
  budget: 100_000,
  trials: 1000,
  screenTrials: 100,
  perBlockSpread: 2,
  seed: 'natatlas-evaluate',
  workers: 2,
};

export interface Measured {
  costs: MaybeCosts;
  /** Success within the budget. */
  final: number;
  trials: number;
  budget: number;
  /** The referee's seed for these trials (trial i draws from `${seed}/referee/trial/${i}`). */
  seed: string;
  result: RefereeResult;
}

export interface PricedPlan {
  strategy: string;
  plan: PunchPlan;
  params: Record<string, number | string>;
  /** The referee's measurement under the realistic settings (null: not simulated). */
  realistic: Measured | null;
  /** The plan's closed form where the referee agrees with it (else null). */
  idealised: { name: string; costs: MaybeCosts; success: (k: number) => number } | null;
  /** Every screened candidate: its params and what the screen measured. */
  screened: { strategy: string; params: Record<string, number | string>; p99: number | null; final: number; trials: number; budget: number }[];
}

type Sides = [Peer, Peer];

/** Screens run on this fraction of the budget: enough to rank plans, a sixteenth of the cost of a hopeless one. */
const SCREEN_SHARE = 16;

async function measure(plan: PunchPlan, [a, b]: Sides, s: PricingSettings, trials: number, budget: number, seed: string, realistic = true): Promise<Measured> {
  const nat = (p: Peer) => natOf(p, { timeouts: realistic, mappingLimit: realistic ? s.mappingLimit : null, perBlockSpread: realistic ? s.perBlockSpread : 0 });
  const result = await referee({ a: { nat: nat(a), plan: plan.a }, b: { nat: nat(b), plan: plan.b }, ratePps: s.ratePps, budget, trials, seed, workers: s.workers });
  const costs = {} as MaybeCosts;
  LEVELS.forEach((p, i) => (costs[LEVEL_KEYS[i]!] = packetsFor(result, p)));
  return { costs, final: result.successes / Math.max(1, result.trials), trials, budget, seed, result };
}

/**
 * A published plan measured again at another send rate and budget, with the realistic
 * settings otherwise: what a trial run at that rate should see (evaluate's trial cells).
 */
export function measureAtRate(plan: PunchPlan, a: Peer, b: Peer, s: PricingSettings, ratePps: number, budget: number, seed: string): Promise<Measured> {
  return measure(plan, [a, b], { ...s, ratePps }, s.trials, budget, seed);
}

/** x better than y: reaches 99% with fewer packets, or (neither reaching) gets further. */
function better(x: Measured, y: Measured): boolean {
  const px = x.costs.p99;
  const py = y.costs.p99;
  if (px !== null && py !== null) return px < py;
  if (px !== null) return true;
  if (py !== null) return false;
  return x.final > y.final;
}

function label(c: Candidate): string {
  return [c.plan.strategy, ...Object.entries(c.params).map(([k, v]) => `${k}=${v}`)].join('/');
}

/**
 * Independent targets worth screening, best first by the analytic screen (Poisson cells,
 * independent draws): its two favourite top-K pairs, then the marginals. A flat marginal
 * has no top-K, so it is the only target.
 */
function analyticTargets(e: PairEvaluation, a: Peer, b: Peer): { tB: Target; tA: Target }[] {
  const topk = e.candidates.filter((c) => c.strategy === 'top-k' && c.costs.p99 !== null).sort((x, y) => x.costs.p99! - y.costs.p99!);
  const marginal = { tB: targetsFor(b, [])[0]!, tA: targetsFor(a, [])[0]! };
  const out: { tB: Target; tA: Target }[] = [];
  for (const c of topk.slice(0, 2)) {
    const tB = targetsFor(b, [Number(c.params.kA)])[1] ?? marginal.tB;
    const tA = targetsFor(a, [Number(c.params.kB)])[1] ?? marginal.tA;
    if (tB.label !== 'marginal' || tA.label !== 'marginal') out.push({ tB, tA });
  }
  out.push(marginal);
  return out;
}

function analyticOf(a: Peer, b: Peer): PairEvaluation {
  return evaluatePair(
    { carrier: a.carrier, behavior: a.behavior, marginal: a.marginal, conditional: a.conditional },
    { carrier: b.carrier, behavior: b.behavior, marginal: b.marginal, conditional: b.conditional },
  );
}

/** Flat marginals over (about) the naive range: aiming at them is the textbook plan. */
function naiveEnough(e: PairEvaluation, targets: readonly unknown[]): boolean {
  const marginal = e.candidates.find((c) => c.strategy === 'marginal')?.costs.p99 ?? null;
  return targets.length === 1 && (marginal === null || e.naive.p99 / marginal < MIN_GAIN);
}

const NAIVE_REASON = `flat marginals: aiming at them saves less than ${MIN_GAIN}x`;

/**
 * The plan a run without the referee publishes (`--no-montecarlo`), unpriced: the
 * structured plan with the middle round length of its grid, else the analytic favourite.
 */
export function unpricedPlan(a: Peer, b: Peer): PricedPlan {
  const shape = pairShape(a, b);
  const analytic = analyticOf(a, b);
  const targets = analyticTargets(analytic, a, b);
  let c: Candidate;
  if (shape.structured) c = structuredPlan(shape, shape.rounds[Math.floor(shape.rounds.length / 2)] ?? 0, targets[0]!.tB, targets[0]!.tA);
  else if (naiveEnough(analytic, targets)) c = { plan: naivePlan(a, b), params: { reason: NAIVE_REASON }, closedForm: null };
  else c = independentPlan(targets[0]!.tB, targets[0]!.tA);
  return { strategy: c.plan.strategy, plan: c.plan, params: { ...c.params, priced: 'no (the referee was skipped)' }, realistic: null, idealised: null, screened: [] };
}

/**
 * Screen the candidate plans of a pair and price the best one. `label` names the pair in
 * the seeds, so every pair's numbers come from its own streams.
 */
export async function pricePair(a: Peer, b: Peer, s: PricingSettings, pairLabel: string): Promise<PricedPlan> {
  const sides: Sides = [a, b];
  const shape = pairShape(a, b);
  const analytic = analyticOf(a, b);
  const targets = analyticTargets(analytic, a, b);
  const screened: PricedPlan['screened'] = [];
  let best: { c: Candidate; m: Measured } | null = null as { c: Candidate; m: Measured } | null;

  const screen = async (c: Candidate): Promise<Measured> => {
    // Part of the budget ranks candidates (by p99, else by success within it); one that
    // needs more than 1.25x the incumbent's 99% cost cannot beat it.
    const incumbent = best?.m.costs.p99 ?? null;
    const cap = Math.min(Math.max(1, Math.ceil(s.budget / SCREEN_SHARE)), incumbent !== null ? Math.ceil(incumbent * 1.25) + 2 : Infinity);
    const m = await measure(c.plan, sides, s, s.screenTrials, cap, `${s.seed}/${pairLabel}/screen/${label(c)}`);
    screened.push({ strategy: c.plan.strategy, params: c.params, p99: m.costs.p99, final: m.final, trials: m.trials, budget: cap });
    if (!best || better(m, best.m)) best = { c, m };
    return m;
  };

  if (shape.structured) {
    // Round length against the referee, aiming at an unlearnable side with the analytic favourite.
    const rounds = shape.rounds.length > 0 ? shape.rounds : [0];
    let bestRound: { r: number; m: Measured } | null = null;
    for (const r of rounds) {
      const m = await screen(structuredPlan(shape, r, targets[0]!.tB, targets[0]!.tA));
      if (!bestRound || better(m, bestRound.m)) bestRound = { r, m };
    }
    const unlearnable = shape.reachA.kind === 'marginal' || shape.reachB.kind === 'marginal';
    if (unlearnable) for (const t of targets.slice(1)) await screen(structuredPlan(shape, bestRound!.r, t.tB, t.tA));
  }
  if (shape.independent) {
    if (naiveEnough(analytic, targets)) {
      await screen({ plan: naivePlan(a, b), params: { reason: NAIVE_REASON }, closedForm: null });
    } else {
      for (const t of targets) await screen(independentPlan(t.tB, t.tA));
    }
  }
  const { c: chosen } = best!;
  // Fresh trials at the full budget: first as many as a screen (enough for a cap); a plan
  // that reaches 99% is priced on the full count, so its p99 is an order statistic of many.
  let realistic = await measure(chosen.plan, sides, s, s.screenTrials, s.budget, `${s.seed}/${pairLabel}/price`);
  if (realistic.costs.p99 !== null && s.trials > s.screenTrials) realistic = await measure(chosen.plan, sides, s, s.trials, s.budget, `${s.seed}/${pairLabel}/price`);
  return { strategy: chosen.plan.strategy, plan: chosen.plan, params: chosen.params, realistic, idealised: await checkedClosedForm(chosen, sides, s, pairLabel), screened };
}

/** Agreement of a closed form with the referee under its assumptions: |simulated - closed| within 4 standard errors. */
export const AGREEMENT_Z = 4;
const CHECK_TRIALS = 400;

async function checkedClosedForm(c: Candidate, sides: Sides, s: PricingSettings, pairLabel: string): Promise<PricedPlan['idealised']> {
  if (!c.closedForm) return null;
  const costs = costsAt(c.closedForm.success, s.budget);
  if (costs.p999 === null) return null;
  const check = await measure(c.plan, sides, s, CHECK_TRIALS, Math.ceil(costs.p999 * 1.2) + 2, `${s.seed}/${pairLabel}/closed-form-check`, false);
  for (const k of [costs.p50, costs.p90, costs.p99]) {
    const exact = c.closedForm.success(k!);
    const tol = AGREEMENT_Z * Math.max(stdErr(exact, CHECK_TRIALS), 1 / CHECK_TRIALS);
    if (Math.abs(successAt(check.result, k!) - exact) > tol) return null;
  }
  return { name: c.closedForm.name, costs, success: c.closedForm.success };
}
