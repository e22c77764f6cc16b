/**
 * One carrier's fit from its partials (contracts/partials.ts): how the NAT maps
 * (endpoint-independent or not, port preservation), how it allocates external ports
 * (every family fitted and compared, see families.ts), where the next port falls given
 * the last (block / sequential), and how long mappings live. The fit stage
 * (stages/fit.ts) runs it on partials from the campaign's own joined rows or from
 * elsewhere (`natatlas fit --partials`).
 */
import type { StageContext } from '../context.ts';
import type { CarrierPartials, ProbeTally } from '../contracts/partials.ts';
import { FIT_SCHEMA, type CarrierFit, type TimeoutFit } from '../contracts/fit.ts';
import type { Conditional } from '../bias/types.ts';
import { NatatlasError } from '../errors.ts';
import type { Allocations } from './allocations.ts';
import { choose, fitFamilies } from './families.ts';
import { mappingOf } from './mapping.ts';
import { binsFromCdf, blockMarginal, compactSegments, normalise } from './marginal.ts';
import { natTypeOf } from './nat-type.ts';
import { probesOf } from './partials.ts';
import type { Probe } from './probes.ts';
import { estimateTimeout } from './stats/survival.ts';

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

/** The timeout fits of a carrier's probes. */
function timeoutsOf(probes: readonly ProbeTally[]): { wait: TimeoutFit | null; idle: TimeoutFit | null } {
  return { wait: timeoutFit(probesOf(probes, 'wait')), idle: timeoutFit(probesOf(probes, 'idle')) };
}

/** The mapping window a carrier's probes give: partials must have been computed with it. */
export function probesWindowS(probes: readonly ProbeTally[]): number {
  return mappingWindowS(timeoutsOf(probes).wait?.low ?? null);
}

/** Partials computed with another mapping window than their carriers' probes give. */
export class WrongWindow extends NatatlasError {
  constructor(readonly mismatches: readonly { carrier: string; made: number; wanted: number }[]) {
    super(
      `partials computed with another mapping window than the carrier's timeout probes give (half the wait timeout's lower end, at most ${DEFAULT_MAPPING_WINDOW_S} s): ` +
        mismatches.map((m) => `${JSON.stringify(m.carrier)} has ${m.made} s, its probes give ${m.wanted} s`).join('; ') +
        `. Recompute the partials with these windows (pipeline/sql/partials.sql, windows view): ${mismatches.map((m) => `${m.carrier}=${m.wanted}`).join(', ')}`,
    );
  }
}

/** Refuse partials whose window is not the one their probes give (a carrier without runs has nothing the window decided). */
export function checkWindows(partials: Iterable<CarrierPartials>): void {
  const mismatches = [];
  for (const p of partials) {
    const wanted = probesWindowS(p.probes);
    if (p.runs.length > 0 && p.windowS !== wanted) mismatches.push({ carrier: p.carrier, made: p.windowS, wanted });
  }
  if (mismatches.length > 0) throw new WrongWindow(mismatches);
}

/** Fit one carrier from its partials (contracts/partials.ts) and its nat-type.json (null: none). */
export function fitPartials(ctx: StageContext, p: CarrierPartials, natType: Record<string, unknown> | null): CarrierFit {
  const { carrier } = p;
  const timeouts = timeoutsOf(p.probes);
  warnContradictions(ctx, carrier, timeouts);
  checkWindows([p]);
  const mapping = mappingOf(p.runs, p.markers, mappingWindowS(timeouts.wait?.low ?? null));
  const allocations: Allocations = { ...p.allocations, markers: p.markers.reduce((n, m) => n + m[1], 0) };
  if (allocations.n < MIN_ALLOCATIONS) {
    throw new TooLittleData(`${ctx.campaign}/${carrier}: only ${allocations.n} fresh allocations joined, ${MIN_ALLOCATIONS} needed to fit a model: no fit and no bias table for this carrier`);
  }
  const lossRate = p.sent === 0 ? 0 : p.lost / p.sent;
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
    allocations: { n: allocations.n, markers: allocations.markers },
    model,
    candidates: fits.scored.map((s) => s.candidate),
    block: fits.block,
    sequential: fits.sequential,
    marginal: blocks ? blockMarginal(marginal.cdf, blocks.blockSize, mapping.observedRange) : compactSegments(binsFromCdf(marginal.cdf, support[0], support[1])),
    marginalFamily: marginal.candidate.family,
    conditional,
    timeouts,
    natType: natTypeOf(natType, mapping.behavior),
  };
}

/** A carrier with too few packets: skipped with a warning, never a crash of the whole campaign. */
export class TooLittleData extends NatatlasError {}

/** Warn about contradictory probes (a fit computed now or carried over from the last run says the same). */
export function warnContradictions(ctx: StageContext, carrier: string, timeouts: CarrierFit['timeouts']): void {
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
}
