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
import { derivedPath, type StageContext } from '../context.ts';
import { ingestDir, readManifest } from '../derived/ingested.ts';
import { readStageJson } from '../derived/read.ts';
import type { CarrierFit } from '../derived/fitted.ts';
import { LEVELS, NAIVE_PORTS, type Costs, type MaybeCosts } from '../evaluate/analytic.ts';
import { evaluatePair, naive, type PairEvaluation, type PeerModel } from '../evaluate/strategies.ts';
import { buildMatrix, readTrials, type SuccessMatrix } from '../evaluate/trials.ts';

export const ATTACK_SCHEMA = 'natatlas.attack/1';

export interface PairAttack {
  a: string;
  b: string;
  naiveKind: 'hard-hard' | 'easy-hard';
  naive: Costs;
  biased: MaybeCosts & { strategy: string; params: Record<string, number | string>; cap: number | null };
  candidates: PairEvaluation['candidates'];
  bound: Costs;
  gain: MaybeCosts;
  curve: { packets: number[]; naive: number[]; biased: number[]; mcNaive: number[] | null; mcBiased: number[] | null };
}

export interface AttackReport {
  schema: typeof ATTACK_SCHEMA;
  campaign: string;
  levels: readonly number[];
  naive: { N: number; hardHard: Costs; easyHard: Costs };
  simulator: Record<string, unknown> | null;
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
    curve: { packets: grid, naive: grid.map((k) => round6(e.naiveSuccess(k))), biased: grid.map((k) => round6(e.biased.success(k))), mcNaive: null, mcBiased: null },
  };
}

function peerOf(fit: CarrierFit): PeerModel {
  return { carrier: fit.carrier, behavior: fit.mapping.behavior, marginal: fit.marginal, conditional: fit.conditional };
}

export async function evaluate(ctx: StageContext): Promise<{ outputs: string[]; attack: AttackReport; matrix: SuccessMatrix }> {
  const manifest = readManifest(ctx);
  const fits = Object.keys(manifest.carriers)
    .sort()
    .filter((c) => fs.existsSync(derivedPath(ctx, 'fit', `${c}.json`)))
    .map((c) => readStageJson<CarrierFit>(ctx, 'fit', 'fit', `${c}.json`));
  const pairs: PairAttack[] = [];
  for (let i = 0; i < fits.length; i++) {
    for (let j = i; j < fits.length; j++) {
      const e = evaluatePair(peerOf(fits[i]!), peerOf(fits[j]!));
      pairs.push(toAttack(e));
      ctx.log.progress(`evaluate ${ctx.campaign}: ${pairs.length} pairs`);
    }
  }
  const attack: AttackReport = { schema: ATTACK_SCHEMA, campaign: ctx.campaign, levels: LEVELS, naive: { N: NAIVE_PORTS, ...naive() }, simulator: null, pairs };
  const trialsFile = path.join(ingestDir(ctx), 'trials.csv');
  const matrix = buildMatrix(ctx.campaign, fs.existsSync(trialsFile) ? await readTrials(trialsFile) : []);
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
