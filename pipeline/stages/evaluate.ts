/**
 * evaluate: what a punch costs per carrier pair, naive versus biased, and how the
 * hole-punch trials that were really run turned out. Reads the fitted models (the same
 * marginal and conditional the bias tables carry) and the ingested trials; writes
 * `derived/<campaign>/evaluate/attack.json` and `evaluate/matrix.json`. The bias stage
 * copies each carrier's same-carrier costs into its table's `attack` field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { replaceDir, writeFileAtomic } from '../io/atomic.ts';
import { stableStringify } from '../io/json.ts';
import { derivedPath, rawPath, type StageContext } from '../context.ts';
import { carrierNames, ingestDir, readManifest } from '../derived/ingested.ts';
import { readStageJson } from '../derived/read.ts';
import type { CarrierFit } from '../derived/fitted.ts';
import { LEVELS, NAIVE_PORTS, type Costs, type MaybeCosts } from '../evaluate/analytic.ts';
import { evaluatePair, naive, type PairEvaluation, type PeerModel } from '../evaluate/strategies.ts';
import { buildMatrix, NAIVE_TRIAL_BUDGET, readTrials, type SuccessMatrix } from '../evaluate/trials.ts';
import { ALIASES_FILE, aliasOf, readCarrierAliases } from '../evaluate/aliases.ts';
import { DEFAULT_SIMULATOR, simulatePlan, type SimulatorSettings } from '../evaluate/simulated.ts';
import { NatatlasError } from '../errors.ts';

export const ATTACK_SCHEMA = 'natatlas.attack/1';

/** The Monte Carlo settings of this run: DEFAULT_SIMULATOR with the run's overrides, or null when skipped. */
export function simulatorSettings(ctx: StageContext): SimulatorSettings | null {
  const o = ctx.settings?.montecarlo;
  if (o === false) return null;
  const merged = { ...DEFAULT_SIMULATOR, ...(o ?? {}) } as SimulatorSettings;
  for (const [k, v] of Object.entries(merged)) {
    if (k !== 'seed' && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new NatatlasError(`evaluate: Monte Carlo setting ${k} must be a positive number, got ${JSON.stringify(v)}`);
  }
  return merged;
}

export interface PairAttack {
  a: string;
  b: string;
  naiveKind: 'hard-hard' | 'easy-hard';
  naive: Costs;
  biased: MaybeCosts & { strategy: string; params: Record<string, number | string>; cap: number | null };
  candidates: PairEvaluation['candidates'];
  bound: Costs;
  gain: MaybeCosts;
  curve: {
    packets: number[];
    naive: number[];
    biased: number[];
    /** Monte Carlo under the closed forms' assumptions (no timeout or mapping limit): must agree with them. */
    mcNaive: number[] | null;
    mcBiased: number[] | null;
    /** Monte Carlo with the carrier's wait timeout, a mapping limit and a send rate (see `simulator`). */
    realisticNaive: number[] | null;
    realisticBiased: number[] | null;
  };
  /** Success reached within the realistic budget, naive and biased (null: not simulated). */
  realistic: { naive: number | null; biased: number | null };
}

export interface AttackReport {
  schema: typeof ATTACK_SCHEMA;
  campaign: string;
  levels: readonly number[];
  naive: { N: number; hardHard: Costs; easyHard: Costs };
  /** Monte Carlo settings; null when the run skipped it. */
  simulator: (SimulatorSettings & { budget: number; timeouts: string; pairs: string }) | null;
  pairs: PairAttack[];
}

/** Packets per side at which curves are sampled: 10 to 300,000, log-spaced, 8 points a decade. */
export function curveGrid(): number[] {
  const out: number[] = [];
  for (let e = 1; e <= 5.5; e += 1 / 8) out.push(Math.round(10 ** e));
  return [...new Set(out)];
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

function toAttack(e: PairEvaluation): PairAttack {
  const grid = curveGrid();
  return {
    a: e.a,
    b: e.b,
    naiveKind: e.naiveKind,
    naive: e.naive,
    biased: { strategy: e.biased.strategy, params: e.biased.params, ...e.biased.costs, cap: null },
    candidates: e.candidates,
    bound: e.bound,
    gain: e.gain,
    curve: {
      packets: grid, naive: grid.map((k) => round6(e.naiveSuccess(k))), biased: grid.map((k) => round6(e.biased.success(k))),
      mcNaive: null, mcBiased: null, realisticNaive: null, realisticBiased: null,
    },
    realistic: { naive: null, biased: null },
  };
}

/** Simulate a same-carrier pair's naive and biased plans and attach the curves. */
async function addMonteCarlo(attack: PairAttack, e: PairEvaluation, peer: PeerModel, timeoutS: number | null, s: SimulatorSettings): Promise<void> {
  const grid = attack.curve.packets;
  const naivePlan = { strategy: 'naive' as const, params: {}, costs: e.naive, success: e.naiveSuccess };
  const naive = await simulatePlan(naivePlan, peer, peer, [timeoutS, timeoutS], grid, s, `${attack.a}/naive`);
  const biased = e.biased.strategy === 'naive' ? naive : await simulatePlan(e.biased, peer, peer, [timeoutS, timeoutS], grid, s, `${attack.a}/${e.biased.strategy}`);
  attack.curve.mcNaive = naive.check;
  attack.curve.mcBiased = biased.check;
  attack.curve.realisticNaive = naive.realistic;
  attack.curve.realisticBiased = biased.realistic;
  attack.realistic = { naive: naive.realisticFinal, biased: biased.realisticFinal };
  // A plan the realistic run cannot carry to 99% within its budget is capped there.
  if (biased.realisticFinal !== null && biased.realisticFinal < 0.99) attack.biased.cap = biased.realisticFinal;
}

function peerOf(fit: CarrierFit): PeerModel {
  return { carrier: fit.carrier, behavior: fit.mapping.behavior, marginal: fit.marginal, conditional: fit.conditional };
}

export async function evaluate(ctx: StageContext): Promise<{ outputs: string[]; attack: AttackReport; matrix: SuccessMatrix }> {
  const manifest = readManifest(ctx);
  const names = carrierNames(manifest);
  const fits = Object.keys(manifest.carriers)
    .sort()
    .filter((c) => fs.existsSync(derivedPath(ctx, 'fit', `${names.stem(c)}.json`)))
    .map((c) => readStageJson<CarrierFit>(ctx, 'fit', 'fit', `${names.stem(c)}.json`));
  const settings = simulatorSettings(ctx);
  const pairs: PairAttack[] = [];
  const evaluations = new Map<string, PairEvaluation>();
  for (let i = 0; i < fits.length; i++) {
    for (let j = i; j < fits.length; j++) {
      const e = evaluatePair(peerOf(fits[i]!), peerOf(fits[j]!));
      evaluations.set(`${e.a}\u0000${e.b}`, e);
      const pair = toAttack(e);
      if (settings && i === j) await addMonteCarlo(pair, e, peerOf(fits[i]!), fits[i]!.timeouts.wait?.seconds ?? null, settings);
      pairs.push(pair);
      ctx.log.progress(`evaluate ${ctx.campaign}: ${pairs.length} pairs`);
    }
  }
  const attack: AttackReport = {
    schema: ATTACK_SCHEMA, campaign: ctx.campaign, levels: LEVELS, naive: { N: NAIVE_PORTS, ...naive() },
    simulator: settings ? { ...settings, budget: settings.realisticBudget, timeouts: 'each carrier\'s fitted wait timeout', pairs: 'same-carrier pairs' } : null,
    pairs,
  };
  const trialsFile = path.join(ingestDir(ctx), 'trials.csv');
  // Trial files may name carriers their own way: carriers.csv maps those names to capture folders.
  const aliases = readCarrierAliases(rawPath(ctx, ALIASES_FILE), `${ctx.campaign}/${ALIASES_FILE}`, Object.keys(manifest.carriers));
  const rows = (fs.existsSync(trialsFile) ? await readTrials(trialsFile) : []).map((r) => ({ ...r, a: aliasOf(aliases, r.a), b: aliasOf(aliases, r.b) }));
  const matrix = buildMatrix(ctx.campaign, rows);
  if (aliases) matrix.aliases = aliases;
  for (const cell of matrix.cells) {
    const e = evaluations.get(`${cell.a}\u0000${cell.b}`) ?? evaluations.get(`${cell.b}\u0000${cell.a}`);
    // A loop, not Math.max(...rows): a spread of a big trials file overflows the call stack.
    const pairKey = [cell.a, cell.b].sort().join('\u0000');
    let recorded = 0;
    for (const r of rows) {
      if (r.packets !== null && r.packets > recorded && r.strategy === cell.strategy && [r.a, r.b].sort().join('\u0000') === pairKey) recorded = r.packets;
    }
    const assumed = recorded === 0 && cell.strategy === 'naive';
    const budget = assumed ? NAIVE_TRIAL_BUDGET : recorded;
    if (!e || budget === 0) {
      cell.predicted = null;
      continue;
    }
    const plan = cell.strategy === 'naive' ? { name: 'naive', success: e.naiveSuccess } : { name: e.biased.strategy, success: e.biased.success };
    const p = round6(plan.success(budget));
    cell.predicted = { budget, p, plan: plan.name, inside: p >= cell.wilson[0] && p <= cell.wilson[1], ...(assumed ? { assumed: true } : {}) };
  }
  const dir = derivedPath(ctx, 'evaluate');
  await replaceDir(dir, async (tmp) => {
    await writeFileAtomic(path.join(tmp, 'attack.json'), stableStringify(attack));
    await writeFileAtomic(path.join(tmp, 'matrix.json'), stableStringify(matrix));
  });
  for (const p of pairs.filter((x) => x.a === x.b)) {
    ctx.log.info(`evaluate ${ctx.campaign}/${p.a}: 99% at ${p.biased.p99 ?? '-'} packets per side (${p.biased.strategy}) vs ${p.naive.p99} naive, ${p.gain.p99?.toFixed(1) ?? '-'}x`);
  }
  ctx.log.info(`evaluate ${ctx.campaign}: ${pairs.length} carrier pairs, ${matrix.cells.length} trial cells`);
  return { outputs: [dir], attack, matrix };
}
