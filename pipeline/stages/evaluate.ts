/**
 * evaluate: what a punch costs per carrier pair (same-carrier and cross pairs), and how
 * the hole-punch trials that were really run turned out. Reads the fitted models and the
 * ingested trials; writes `derived/<campaign>/evaluate/attack.json` and
 * `evaluate/matrix.json`. The bias stage copies each carrier's same-carrier plan and
 * costs into its table's `attack` field.
 *
 * Every published plan cost is the referee's (evaluate/price.ts): the plan an engine
 * executes, simulated against each NAT's fitted allocation process under the realistic
 * settings recorded in `simulator`. The textbook naive cost and a plan's closed form
 * (where the referee agrees with it) are published beside it, never in its place.
 */
import { rawPath, type StageContext } from '../context.ts';
import { carrierNames, readManifest } from '../contracts/manifest.ts';
import { FITS, type CarrierFit } from '../contracts/fit.ts';
import { ATTACK, ATTACK_SCHEMA, type AttackReport, type PairAttack } from '../contracts/attack.ts';
import { MATRIX, type MatrixCell, type SuccessMatrix } from '../contracts/matrix.ts';
import { TRIAL_ROWS, type TrialRow } from '../contracts/ingest-rows.ts';
import { replaceFolder } from '../contracts/folder.ts';
import { LEVELS, LEVEL_KEYS, NAIVE_PORTS, easyHardProbability, hardHardProbability, packetsBound, type Costs, type MaybeCosts } from '../evaluate/analytic.ts';
import { naive } from '../evaluate/strategies.ts';
import { buildMatrix, NAIVE_TRIAL_BUDGET } from '../evaluate/trials.ts';
import { ALIASES_FILE, aliasOf, readCarrierAliases } from '../evaluate/aliases.ts';
import { DEFAULT_PRICING, measureAtRate, pricePair, unpricedPlan, type PricedPlan, type PricingSettings } from '../evaluate/price.ts';
import { loadOutcome, storeOutcome, type PairOutcome } from '../evaluate/pair-cache.ts';
import { isEasy, type Peer } from '../evaluate/plans.ts';
import { successAt } from '../evaluate/referee/index.ts';
import { closePools } from '../threads.ts';
import { NatatlasError } from '../errors.ts';
import { UnitLedger } from '../units.ts';

/** The referee's settings for this run: DEFAULT_PRICING with the run's overrides, or null when skipped. */
export function simulatorSettings(ctx: StageContext): PricingSettings | null {
  const o = ctx.settings?.montecarlo;
  if (o === false) return null;
  for (const k of Object.keys(o ?? {})) {
    if (!(k in DEFAULT_PRICING)) throw new NatatlasError(`evaluate: unknown referee setting ${JSON.stringify(k)}; known: ${Object.keys(DEFAULT_PRICING).join(', ')}`);
  }
  const merged = { ...DEFAULT_PRICING, ...(o ?? {}) } as PricingSettings;
  for (const [k, v] of Object.entries(merged)) {
    if (k === 'seed') continue;
    const floor = k === 'perBlockSpread' ? 0 : 1;
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= floor)) throw new NatatlasError(`evaluate: referee setting ${k} must be a whole number >= ${floor}, got ${JSON.stringify(v)}`);
  }
  return merged;
}

/** Packets per side at which curves are sampled: 1 to 300,000, log-spaced, 8 points a decade. */
export function curveGrid(): number[] {
  const out: number[] = [];
  for (let e = 0; e <= 5.5; e += 1 / 8) out.push(Math.round(10 ** e));
  return [...new Set(out)];
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

export function peerOf(fit: CarrierFit): Peer {
  return {
    carrier: fit.carrier, behavior: fit.mapping.behavior, model: fit.model, marginal: fit.marginal, conditional: fit.conditional,
    waitTimeoutS: fit.timeouts.wait?.seconds ?? null,
  };
}

function naiveOf(a: Peer, b: Peer): { kind: PairAttack['naiveKind']; costs: Costs; success: (k: number) => number } {
  const easy = isEasy(a.behavior) || isEasy(b.behavior);
  return easy
    ? { kind: 'easy-hard', costs: naive().easyHard, success: (k) => easyHardProbability(k, k) }
    : { kind: 'hard-hard', costs: naive().hardHard, success: (k) => hardHardProbability(k, k) };
}

function toAttack(a: Peer, b: Peer, priced: PricedPlan, naiveRun: { final: number; curve: number[] } | null): PairAttack {
  const grid = curveGrid();
  const nv = naiveOf(a, b);
  const r = priced.realistic;
  const headline: MaybeCosts = r ? r.costs : { p50: null, p90: null, p99: null, p999: null };
  const gain = {} as MaybeCosts;
  const bound = {} as Costs;
  LEVELS.forEach((p, i) => {
    const k = LEVEL_KEYS[i]!;
    gain[k] = headline[k] === null ? null : nv.costs[k] / headline[k]!;
    bound[k] = Math.ceil(packetsBound(a.marginal, b.marginal, p));
  });
  const hard = !isEasy(a.behavior) && !isEasy(b.behavior);
  return {
    a: a.carrier,
    b: b.carrier,
    naiveKind: nv.kind,
    naive: nv.costs,
    biased: { strategy: priced.strategy, params: priced.params, ...headline, cap: r && headline.p99 === null ? round6(r.final) : null },
    plan: priced.plan,
    idealised: priced.idealised ? { formula: priced.idealised.name, ...priced.idealised.costs } : null,
    headline: r ? 'realistic' : 'not simulated',
    candidates: priced.screened,
    bound: hard ? bound : null,
    gain,
    curve: {
      packets: grid,
      naive: grid.map((k) => round6(nv.success(k))),
      biased: priced.idealised ? grid.map((k) => round6(priced.idealised!.success(k))) : null,
      mcNaive: null,
      mcBiased: null,
      realisticNaive: naiveRun?.curve ?? null,
      realisticBiased: r ? grid.map((k) => round6(successAt(r.result, k))) : null,
    },
    realistic: { naive: naiveRun ? round6(naiveRun.final) : null, biased: r ? round6(r.final) : null, trials: r?.trials ?? null, seed: r?.seed ?? null },
  };
}

/**
 * What a cell's trials say about the prediction's inputs: the budget (the most packets a
 * trial spent; a failed trial spends the whole budget, so the maximum is it), whether it
 * is assumed, and the distinct send rates (null: a trial without a recorded rate).
 */
function cellTrials(cell: MatrixCell, rows: readonly TrialRow[]): { budget: number; assumed: boolean; rates: (number | null)[] } {
  const pairKey = [cell.a, cell.b].sort().join('\u0000');
  // A loop, not Math.max(...rows): a spread of a big trials file overflows the call stack.
  let recorded = 0;
  const rates = new Set<number | null>();
  for (const r of rows) {
    if (r.strategy !== cell.strategy || [r.a, r.b].sort().join('\u0000') !== pairKey) continue;
    if (r.packets !== null && r.packets > recorded) recorded = r.packets;
    rates.add(r.ratePps);
  }
  const assumed = recorded === 0 && cell.strategy === 'naive';
  return { budget: assumed ? NAIVE_TRIAL_BUDGET : recorded, assumed, rates: [...rates].sort((x, y) => (x ?? -1) - (y ?? -1)) };
}

function predictedAt(cell: MatrixCell, budget: number, assumed: boolean, plan: string, p: number, ratePps: number | null, rateAssumed: boolean): NonNullable<MatrixCell['predicted']> {
  return {
    budget, p: round6(p), plan, inside: p >= cell.wilson[0] && p <= cell.wilson[1], ...(assumed ? { assumed: true } : {}),
    ratePps, ...(rateAssumed ? { rateAssumed: true } : {}),
  };
}

/**
 * One pair's outcome: the previous run's when its key (the two peers as pricing reads
 * them, the referee settings but the thread count, which results do not depend on, the
 * seed label, evaluate's code) is unchanged, else priced now.
 */
async function pairOutcome(ledger: UnitLedger, a: Peer, b: Peer, settings: PricingSettings | null): Promise<{ outcome: PairOutcome; key: string; priced: boolean }> {
  const label = `${a.carrier}/${b.carrier}`;
  const { workers: _threads, ...decisive } = settings ?? { workers: 0 };
  const key = ledger.key({ a, b, settings: settings ? decisive : null, label });
  const unit = `pair ${JSON.stringify([a.carrier, b.carrier])}`;
  const kept = ledger.recall(unit, key, loadOutcome);
  if (kept) return { outcome: kept, key, priced: false };
  const p = settings ? await pricePair(a, b, settings, label) : unpricedPlan(a, b);
  // The naive plan's realistic curve where it is the published plan (simulating it
  // everywhere would cost budget x trials per pair, mostly on failures).
  const m = p.strategy === 'naive' ? p.realistic : null;
  const naiveRun = m ? { final: m.final, curve: curveGrid().map((k) => round6(successAt(m.result, k))) } : null;
  const outcome: PairOutcome = { attack: toAttack(a, b, p, naiveRun), strategy: p.strategy, plan: p.plan, realistic: p.realistic && { budget: p.realistic.budget, result: p.realistic.result } };
  ledger.remember(unit, key, storeOutcome(outcome));
  return { outcome, key, priced: true };
}

/** The published plan's success at a trial cell's own send rate and budget, reused like the pair it belongs to. */
async function successAtRate(ledger: UnitLedger, pair: { outcome: PairOutcome; key: string }, a: Peer, b: Peer, settings: PricingSettings, rate: number, budget: number): Promise<number> {
  const seed = `${settings.seed}/${a.carrier}/${b.carrier}/trials-at/${rate}pps`;
  const key = ledger.key({ pair: pair.key, rate, budget, seed });
  const unit = `trials-at ${JSON.stringify([a.carrier, b.carrier, rate, budget])}`;
  const kept = ledger.recall(unit, key, (v) => (typeof v === 'number' && v >= 0 && v <= 1 ? v : null));
  if (kept !== null) return kept;
  const { final } = await measureAtRate(pair.outcome.plan, a, b, settings, rate, budget, seed);
  ledger.remember(unit, key, final);
  return final;
}

export async function evaluate(ctx: StageContext): Promise<{ outputs: string[]; attack: AttackReport; matrix: SuccessMatrix }> {
  const manifest = readManifest(ctx);
  const names = carrierNames(manifest);
  const fits = Object.keys(manifest.carriers)
    .sort()
    .filter((c) => FITS.exists(ctx, names.stem(c)))
    .map((c) => FITS.read(ctx, names.stem(c)));
  const settings = simulatorSettings(ctx);
  const ledger = UnitLedger.open(ctx, 'evaluate', new URL(import.meta.url));
  const pairs: PairAttack[] = [];
  const priced = new Map<string, { outcome: PairOutcome; key: string }>();
  const total = (fits.length * (fits.length + 1)) / 2;
  let repriced = 0;
  for (let i = 0; i < fits.length; i++) {
    for (let j = i; j < fits.length; j++) {
      const a = peerOf(fits[i]!);
      const b = peerOf(fits[j]!);
      ctx.log.progress(`evaluate ${ctx.campaign}: pricing ${a.carrier}/${b.carrier} (${pairs.length + 1}/${total})`);
      const r = await pairOutcome(ledger, a, b, settings);
      if (r.priced) repriced += 1;
      priced.set(`${a.carrier}\u0000${b.carrier}`, r);
      pairs.push(r.outcome.attack);
    }
  }
  const attack: AttackReport = {
    schema: ATTACK_SCHEMA, campaign: ctx.campaign, levels: LEVELS, naive: { N: NAIVE_PORTS, ...naive() },
    simulator: settings ? { ...settings, timeouts: 'each carrier\'s fitted wait timeout', pairs: 'every pair, cross pairs included' } : null,
    pairs,
  };
  // Trial files may name carriers their own way: carriers.csv maps those names to capture folders.
  const aliases = readCarrierAliases(rawPath(ctx, ALIASES_FILE), `${ctx.campaign}/${ALIASES_FILE}`, Object.keys(manifest.carriers));
  const rows = (await TRIAL_ROWS.readAll(ctx)).map((r) => ({ ...r, a: aliasOf(aliases, r.a), b: aliasOf(aliases, r.b) }));
  const matrix = buildMatrix(ctx.campaign, rows);
  if (aliases) matrix.aliases = aliases;
  const peers = new Map(fits.map((f) => [f.carrier, peerOf(f)]));
  for (const cell of matrix.cells) {
    // The pair as it was priced: the plan's sides are in that order.
    const [pa, pb] = priced.has(`${cell.a}\u0000${cell.b}`) ? [cell.a, cell.b] : [cell.b, cell.a];
    const pair = priced.get(`${pa}\u0000${pb}`);
    const p = pair?.outcome;
    const { budget, assumed, rates } = cellTrials(cell, rows);
    const a = peers.get(pa);
    const b = peers.get(pb);
    if (!pair || !p || !a || !b || budget === 0) {
      cell.predicted = null;
      continue;
    }
    // Naive trials: the textbook closed form, which has no send rate in it.
    if (cell.strategy === 'naive') {
      cell.predicted = predictedAt(cell, budget, assumed, 'naive', naiveOf(a, b).success(budget), null, false);
      continue;
    }
    // Biased ones: the published plan as the referee measures it at the trials' own rate.
    if (rates.length > 1) {
      cell.predicted = null;
      cell.unpredicted = `the trials ran at several send rates (${rates.map((r) => (r === null ? 'unrecorded' : `${r}`)).join(', ')} packets/s per side); one referee run cannot stand for them`;
      continue;
    }
    const recorded = rates[0] ?? null;
    const rate = recorded ?? settings?.ratePps ?? null;
    const r = p.realistic;
    if (!r || rate === null || budget > r.budget) {
      cell.predicted = null;
      continue;
    }
    if (rate !== settings!.ratePps) ctx.log.progress(`evaluate ${ctx.campaign}: predicting the ${pa}/${pb} biased trials at their ${rate} packets/s`);
    const success = rate === settings!.ratePps ? successAt(r.result, budget) : await successAtRate(ledger, pair, a, b, settings!, rate, budget);
    cell.predicted = predictedAt(cell, budget, assumed, p.strategy, success, rate, recorded === null);
  }
  await closePools();
  const dir = await replaceFolder(ctx, 'evaluate', async (out) => {
    await ATTACK.write(out, attack);
    await MATRIX.write(out, matrix);
  });
  for (const p of pairs.filter((x) => x.a === x.b)) {
    const cost = p.biased.p99 !== null ? `99% at ${p.biased.p99} packets per side` : p.biased.cap !== null ? `99% not reached, ${(100 * p.biased.cap).toFixed(1)}% within ${settings!.budget}` : 'not simulated';
    ctx.log.info(`evaluate ${ctx.campaign}/${p.a}: ${cost} (${p.biased.strategy}) vs ${p.naive.p99} naive (textbook)${p.gain.p99 !== null ? `, ${p.gain.p99.toFixed(1)}x` : ''}`);
  }
  await ledger.save();
  ctx.log.info(`evaluate ${ctx.campaign}: ${pairs.length} carrier pairs (${repriced} priced, ${pairs.length - repriced} reused), ${matrix.cells.length} trial cells`);
  return { outputs: [dir], attack, matrix };
}
