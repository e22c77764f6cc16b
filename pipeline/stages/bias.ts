/**
 * bias: project each carrier's fit onto the bias table contract (docs/design.md) and write
 * `derived/<campaign>/bias/<carrier>.json` plus `bias/index.json`. Every table is
 * checked against the JSON Schema and the contract's invariants first; a table that
 * fails is never written, and the stage stops naming the carrier and the field.
 */
import { NatatlasError } from '../errors.ts';
import type { StageContext } from '../context.ts';
import { carrierNames, readManifest } from '../contracts/manifest.ts';
import { FITS, type CarrierFit, type TimeoutFit } from '../contracts/fit.ts';
import { SUMMARIES, type CarrierSummary } from '../contracts/summary.ts';
import { ATTACK, type AttackReport, type PairAttack } from '../contracts/attack.ts';
import { BIAS_TABLES } from '../contracts/bias-table.ts';
import { BIAS_INDEX, BIAS_INDEX_SCHEMA, type BiasIndex } from '../contracts/bias-index.ts';
import { replaceFolder } from '../contracts/folder.ts';
import type { BiasTable, Timeout } from '../bias/types.ts';

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
    schema: 'natatlas.bias/2',
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
  const tables: BiasTable[] = [];
  const dir = await replaceFolder(ctx, 'bias', async (out) => {
    const index: BiasIndex = { schema: BIAS_INDEX_SCHEMA, campaign: ctx.campaign, tables: [], skipped: [] };
    const attack = ATTACK.read(ctx);
    for (const carrier of Object.keys(manifest.carriers).sort()) {
      const stem = names.stem(carrier);
      if (!FITS.exists(ctx, stem)) {
        index.skipped.push({ carrier, reason: 'no fit (too few packets joined; see the fit stage warning)' });
        continue;
      }
      const fit = FITS.read(ctx, stem);
      const summary = SUMMARIES.read(ctx, stem);
      const self = attack.pairs.find((p) => p.a === carrier && p.b === carrier);
      if (!self) throw new NatatlasError(`${ctx.campaign}/${carrier}: evaluate/attack.json has no same-carrier pair: rerun \`natatlas evaluate\``);
      const table = buildBiasTable(fit, summary, self, attack.simulator);
      const { sha256 } = await BIAS_TABLES.write(out, stem, table, `${ctx.campaign}/${carrier}`);
      index.tables.push({ carrier, file: `${stem}.json`, sha256, family: table.model.family, behavior: table.mapping.behavior });
      tables.push(table);
      ctx.log.info(`bias ${ctx.campaign}/${carrier}: ${table.model.family}, ${table.mapping.behavior}, ${table.marginal.length} marginal segments`);
    }
    await BIAS_INDEX.write(out, index);
  });
  return { outputs: [dir], tables };
}
