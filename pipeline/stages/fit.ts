/**
 * fit: per carrier, from the joined packets and the timeout probes, find how the NAT
 * maps (endpoint-independent or not, port preservation), how it allocates external
 * ports (every family fitted and compared, see fit/families.ts), where the next port
 * falls given the last (block / sequential), and how long mappings live. Writes
 * `derived/<campaign>/fit/<carrier>.json` with the evidence behind each answer.
 */
import { formatCount, type StageContext } from '../context.ts';
import { carrierNames, readManifest } from '../contracts/manifest.ts';
import { NAT_TYPE } from '../contracts/ingest-rows.ts';
import { SUMMARIES } from '../contracts/summary.ts';
import { FITS, FIT_SCHEMA, type CarrierFit, type TimeoutFit } from '../contracts/fit.ts';
import { replaceFolder } from '../contracts/folder.ts';
import type { FileNames } from '../io/names.ts';
import type { Conditional } from '../bias/types.ts';
import { readObservations } from '../fit/observations.ts';
import { fitMapping } from '../fit/mapping.ts';
import { allocationsOf } from '../fit/allocations.ts';
import { choose, fitFamilies } from '../fit/families.ts';
import { binsFromCdf, blockMarginal, compactSegments, normalise } from '../fit/marginal.ts';
import { readProbes, type Probe } from '../fit/probes.ts';
import { estimateTimeout } from '../fit/stats/survival.ts';
import { natTypeOf } from '../fit/nat-type.ts';
import { NatatlasError } from '../errors.ts';

/** Longest gap between two sends for them to share a mapping, when no wait timeout was measured. */
export const DEFAULT_MAPPING_WINDOW_S = 10;
/** Fewer fresh allocations than this and a carrier gets no model. */
export const MIN_ALLOCATIONS = 20;

/** Timeouts to the millisecond: finer digits are optimiser noise, not measurement. */
function ms(s: number | null): number | null {
  return s === null ? null : Math.round(s * 1000) / 1000;
}

function timeoutFit(probes: Probe[]): TimeoutFit | null {
  const t = estimateTimeout(probes);
  if (!t) return null;
  return {
    // A mapping cannot time out before it exists: a normal fit's lower bound can dip below 0.
    seconds: ms(t.seconds), low: ms(t.low === null ? null : Math.max(0, t.low)), high: ms(t.high), probes: t.probes, disagreeing: t.disagreeing, method: t.method, curve: t.curve,
    points: probes.map((p): [number, number] => [p.delay, p.replied ? 1 : 0]).sort((x, y) => x[0] - y[0] || x[1] - y[1]),
  };
}

/** Two sends share a mapping only while it lives: stay well inside the measured wait timeout's lower end. */
export function mappingWindowS(waitLow: number | null): number {
  return waitLow !== null && waitLow > 0 ? Math.min(DEFAULT_MAPPING_WINDOW_S, waitLow / 2) : DEFAULT_MAPPING_WINDOW_S;
}

/** Fit one carrier (exported for tests and notebooks). */
export async function fitCarrier(ctx: StageContext, carrier: string, lossRate: number, names: FileNames = carrierNames(readManifest(ctx))): Promise<CarrierFit> {
  const probes = await readProbes(ctx, names, carrier);
  const timeouts = { wait: timeoutFit(probes.wait), idle: timeoutFit(probes.idle) };
  for (const kind of ['wait', 'idle'] as const) {
    const t = timeouts[kind];
    // Replies and silences both present, yet no median: the probes contradict each other.
    if (t && t.seconds === null && (t.method === 'normal' || t.method === 'npmle')) {
      ctx.log.warn(
        `fit ${ctx.campaign}/${carrier}: the ${kind} timeout probes contradict each other (${t.disagreeing} of ${t.probes} disagree with any single timeout: ` +
          `replies after longer delays than silences); no ${kind} timeout published. Check the ${kind} rows of its timeouts*.csv (lost replies, swapped replied values) and rerun.`,
      );
    }
  }
  const obs = await readObservations(ctx, carrier);
  const mapping = fitMapping(obs, mappingWindowS(timeouts.wait?.low ?? null));
  const allocations = allocationsOf(obs, mapping.reused);
  if (allocations.n < MIN_ALLOCATIONS) {
    throw new TooLittleData(`${ctx.campaign}/${carrier}: only ${allocations.n} fresh allocations joined, ${MIN_ALLOCATIONS} needed to fit a model: no fit and no bias table for this carrier`);
  }
  const fits = fitFamilies(allocations, lossRate);
  const { best, marginal, model } = choose(fits, allocations);
  const mp = marginal.candidate.params;
  // The marginal covers the family's support: the Beta window (clipped to ports), or the fitted range.
  const support: [number, number] = marginal.candidate.family === 'beta'
    ? [Math.max(0, Math.floor(mp.loc!)), Math.min(65535, Math.ceil(mp.loc! + mp.scale!))]
    : [mp.min ?? mapping.observedRange[0], mp.max ?? mapping.observedRange[1]];
  const blocks = best.candidate.family === 'block' && fits.block ? fits.block : null;
  let conditional: Conditional = null;
  if (best.candidate.family === 'block' && fits.block) {
    conditional = { kind: 'block', blockSize: fits.block.blockSize, pSameBlock: fits.block.pSameBlock, perBlock: fits.block.perBlock };
  } else if (best.candidate.family === 'sequential' && fits.sequential) {
    conditional = { kind: 'delta', segments: normalise(fits.sequential.gaps.map((s) => [s[0], s[1], s[2]])) };
  }
  return {
    schema: FIT_SCHEMA,
    campaign: ctx.campaign,
    carrier,
    mapping: {
      behavior: mapping.behavior, evidence: mapping.evidence, portPreservation: mapping.portPreservation,
      preservationSample: mapping.preservationSample, observedRange: mapping.observedRange,
    },
    allocations: { n: allocations.n, markers: allocations.markers.length },
    model,
    candidates: fits.scored.map((s) => s.candidate),
    block: fits.block,
    sequential: fits.sequential,
    marginal: blocks ? blockMarginal(marginal.cdf, blocks.blockSize, mapping.observedRange) : compactSegments(binsFromCdf(marginal.cdf, support[0], support[1])),
    marginalFamily: marginal.candidate.family,
    conditional,
    timeouts,
    natType: natTypeOf(NAT_TYPE.read(ctx, names, carrier), mapping.behavior),
  };
}

/** A carrier with too few packets: skipped with a warning, never a crash of the whole campaign. */
export class TooLittleData extends NatatlasError {}

export async function fit(ctx: StageContext): Promise<{ outputs: string[]; fits: CarrierFit[] }> {
  const manifest = readManifest(ctx);
  const names = carrierNames(manifest);
  const fits: CarrierFit[] = [];
  const dir = await replaceFolder(ctx, 'fit', async (out) => {
    for (const carrier of Object.keys(manifest.carriers).sort()) {
      const summary = SUMMARIES.read(ctx, names.stem(carrier));
      const lossRate = summary.counts.sent === 0 ? 0 : summary.counts.lost / summary.counts.sent;
      let f: CarrierFit;
      try {
        f = await fitCarrier(ctx, carrier, lossRate, names);
      } catch (e) {
        if (!(e instanceof TooLittleData)) throw e;
        ctx.log.warn(e.message);
        continue;
      }
      await FITS.write(out, names.stem(carrier), f);
      fits.push(f);
      ctx.log.info(`fit ${ctx.campaign}/${carrier}: ${f.model.family} (${formatCount(f.allocations.n)} allocations), ${f.mapping.behavior}, wait ${f.timeouts.wait?.seconds ?? '?'} s, idle ${f.timeouts.idle?.seconds ?? '?'} s`);
    }
  });
  return { outputs: [dir], fits };
}
