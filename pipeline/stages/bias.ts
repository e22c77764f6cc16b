/**
 * bias: project each carrier's fit onto the bias table contract (DESIGN.md) and write
 * `derived/<campaign>/bias/<carrier>.json` plus `bias/index.json`. Every table is
 * checked against the JSON Schema and the contract's invariants first; a table that
 * fails is never written, and the stage stops naming the carrier and the field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { replaceDir, writeFileAtomic } from '../io/atomic.ts';
import { sha256Text } from '../io/hash.ts';
import { stableStringify } from '../io/json.ts';
import { NatatlasError } from '../errors.ts';
import { derivedPath, type StageContext } from '../context.ts';
import { carrierNames, readManifest } from '../derived/ingested.ts';
import { readStageJson } from '../derived/read.ts';
import type { CarrierFit, TimeoutFit } from '../derived/fitted.ts';
import type { CarrierSummary } from '../derived/joined.ts';
import type { BiasTable, Timeout } from '../bias/types.ts';
import { validateBiasTable } from '../bias/validate.ts';
import type { AttackReport, PairAttack } from './evaluate.ts';

export const BIAS_INDEX_SCHEMA = 'natatlas.bias-index/1';

export interface BiasIndex {
  schema: typeof BIAS_INDEX_SCHEMA;
  campaign: string;
  tables: { carrier: string; file: string; sha256: string; family: string; behavior: string }[];
  /** Carriers without a table, and why. */
  skipped: { carrier: string; reason: string }[];
}

function timeoutOf(t: TimeoutFit | null): Timeout | null {
  if (!t) return null;
  return { seconds: t.seconds, low: t.low, high: t.high, probes: t.probes, disagreeing: t.disagreeing };
}

/** The same-carrier pair as the table states it: each figure under its own name, nothing filled in from another. */
function attackOf(p: PairAttack, fit: CarrierFit, settings: AttackReport['simulator']): BiasTable['attack'] {
  return {
    naive: { p50: p.naive.p50, p99: p.naive.p99 },
    biased: { p50: p.biased.p50, p99: p.biased.p99, cap: p.biased.cap, strategy: p.biased.strategy },
    plan: p.plan,
    idealised: p.idealised ? { p50: p.idealised.p50!, p99: p.idealised.p99!, formula: p.idealised.formula } : null,
    headline: p.headline,
    settings: settings && p.realistic.seed !== null && p.realistic.trials !== null
      ? {
        ratePps: settings.ratePps, mappingLimit: settings.mappingLimit, budget: settings.budget, trials: p.realistic.trials,
        timeoutS: fit.timeouts.wait?.seconds ?? null, perBlockSpread: settings.perBlockSpread, seed: p.realistic.seed,
      }
      : null,
  };
}

/** The contract's view of a fit and its same-carrier attack cost: what engines import. */
export function buildBiasTable(fit: CarrierFit, summary: CarrierSummary, attack: PairAttack, settings: AttackReport['simulator'] = null): BiasTable {
  return {
    schema: 'natatlas.bias/1',
    carrier: fit.carrier,
    source: {
      campaign: fit.campaign,
      files: summary.files,
      clientRows: summary.counts.clientRows,
      sent: summary.counts.sent,
      serverRows: summary.counts.serverRows,
      joined: summary.counts.joined,
      rejected: summary.counts.rejected,
    },
    mapping: {
      behavior: fit.mapping.behavior,
      portPreservation: fit.mapping.portPreservation,
      observedRange: fit.mapping.observedRange,
      evidence: { pairs: fit.mapping.evidence.pairs, sameExternal: fit.mapping.evidence.sameExternal, differentExternal: fit.mapping.evidence.differentExternal },
    },
    model: fit.model,
    marginal: fit.marginal,
    conditional: fit.conditional,
    timeouts: { wait: timeoutOf(fit.timeouts.wait), idle: timeoutOf(fit.timeouts.idle) },
    attack: attackOf(attack, fit, settings),
  };
}

export async function bias(ctx: StageContext): Promise<{ outputs: string[]; tables: BiasTable[] }> {
  const manifest = readManifest(ctx);
  const names = carrierNames(manifest);
  const dir = derivedPath(ctx, 'bias');
  const tables: BiasTable[] = [];
  await replaceDir(dir, async (tmp) => {
    const index: BiasIndex = { schema: BIAS_INDEX_SCHEMA, campaign: ctx.campaign, tables: [], skipped: [] };
    const attack = readStageJson<AttackReport>(ctx, 'evaluate', 'evaluate', 'attack.json');
    for (const carrier of Object.keys(manifest.carriers).sort()) {
      const file = `${names.stem(carrier)}.json`;
      if (!fs.existsSync(derivedPath(ctx, 'fit', file))) {
        index.skipped.push({ carrier, reason: 'no fit (too few packets joined; see the fit stage warning)' });
        continue;
      }
      const fit = readStageJson<CarrierFit>(ctx, 'fit', 'fit', file);
      const summary = readStageJson<CarrierSummary>(ctx, 'join', 'summary', file);
      const self = attack.pairs.find((p) => p.a === carrier && p.b === carrier);
      if (!self) throw new NatatlasError(`${ctx.campaign}/${carrier}: evaluate/attack.json has no same-carrier pair: rerun \`natatlas evaluate\``);
      const table = buildBiasTable(fit, summary, self, attack.simulator);
      const problems = validateBiasTable(table);
      if (problems.length > 0) {
        throw new NatatlasError(`bias table for ${ctx.campaign}/${carrier} fails the contract, not written: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`);
      }
      const text = stableStringify(table);
      await writeFileAtomic(path.join(tmp, file), text);
      index.tables.push({ carrier, file, sha256: sha256Text(text), family: table.model.family, behavior: table.mapping.behavior });
      tables.push(table);
      ctx.log.info(`bias ${ctx.campaign}/${carrier}: ${table.model.family}, ${table.mapping.behavior}, ${table.marginal.length} marginal segments`);
    }
    await writeFileAtomic(path.join(tmp, 'index.json'), stableStringify(index));
  });
  return { outputs: [dir], tables };
}
