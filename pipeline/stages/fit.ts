/**
 * fit: per carrier, from the joined packets and the timeout probes, find how the NAT
 * maps (endpoint-independent or not, port preservation), how it allocates external
 * ports (every family fitted and compared, see fit/families.ts), where the next port
 * falls given the last (block / sequential), and how long mappings live. Writes
 * `derived/<campaign>/fit/<carrier>.json` with the evidence behind each answer.
 */
import { formatCount, type StageContext } from '../context.ts';
import { carrierNames, readManifest } from '../contracts/manifest.ts';
import path from 'node:path';
import { NAT_TYPE, SERVER_ROWS, TIMEOUT_ROWS } from '../contracts/ingest-rows.ts';
import { JOINED } from '../contracts/joined.ts';
import { sha256File } from '../io/hash.ts';
import { UnitLedger } from '../units.ts';
import { closePools, poolFor, threadsFor } from '../evaluate/threads.ts';
import { SUMMARIES } from '../contracts/summary.ts';
import { FITS, FIT_SCHEMA, type CarrierFit, type TimeoutFit } from '../contracts/fit.ts';
import { replaceFolder } from '../contracts/folder.ts';
import type { FileNames } from '../io/names.ts';
import type { Conditional } from '../bias/types.ts';
import { readObservations } from '../fit/observations.ts';
import { mappingOf } from '../fit/mapping.ts';
import type { Allocations } from '../fit/allocations.ts';
import { partialsOf, probesOf, probeTallies } from '../fit/partials.ts';
import { readPartials, type CarrierPartials, type ProbeTally } from '../contracts/partials.ts';
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

/** Fit one carrier from the campaign's joined rows and probes, through its partials (exported for tests and notebooks). */
export async function fitCarrier(ctx: StageContext, carrier: string, names: FileNames = carrierNames(readManifest(ctx))): Promise<CarrierFit> {
  return fitPartials(ctx, await carrierPartials(ctx, carrier, names), NAT_TYPE.read(ctx, names, carrier));
}

/** A carrier's partials from natatlas's own joined rows, server rows, probes and summary. */
export async function carrierPartials(ctx: StageContext, carrier: string, names: FileNames = carrierNames(readManifest(ctx))): Promise<CarrierPartials> {
  const probes = probeTallies(await readProbes(ctx, names, carrier));
  const { counts } = SUMMARIES.read(ctx, names.stem(carrier));
  return partialsOf(carrier, await readObservations(ctx, carrier, names), probesWindowS(probes), probes, counts);
}

/** A carrier with too few packets: skipped with a warning, never a crash of the whole campaign. */
export class TooLittleData extends NatatlasError {}

/** One carrier's fit as computed, in this thread or a worker: the fit (null: skipped) and the warnings on the way, logged in carrier order. */
export interface FitOutcome {
  fit: CarrierFit | null;
  warnings: string[];
}

/** How a fit stage run fits the carriers it does not carry over, and (for reuse) what decides each one. */
interface FitSource {
  fit(carriers: readonly string[], names: FileNames): Promise<Map<string, FitOutcome>>;
  /** What the carrier's fit is a function of (besides the code), for units.ts; none: always recompute. */
  key?(carrier: string, names: FileNames): Promise<unknown>;
}

/** Fit a carrier from its partials (null: none), its warnings recorded rather than logged. */
async function fitOutcome(ctx: StageContext, carrier: string, names: FileNames, partials: () => Promise<CarrierPartials | null>): Promise<FitOutcome> {
  const warnings: string[] = [];
  const quiet: StageContext = { ...ctx, log: { info() {}, progress() {}, warn: (m) => warnings.push(m) } };
  try {
    const p = await partials();
    if (p === null) throw new TooLittleData(`${ctx.campaign}/${carrier}: no partials for this carrier: no fit and no bias table for it`);
    return { fit: fitPartials(quiet, p, NAT_TYPE.read(ctx, names, carrier)), warnings };
  } catch (e) {
    if (!(e instanceof TooLittleData)) throw e;
    return { fit: null, warnings: [...warnings, e.message] };
  }
}

/** A carrier's fit from the campaign's own joined rows (what a fit worker runs). */
export function fitOwnCarrier(ctx: StageContext, carrier: string, names: FileNames): Promise<FitOutcome> {
  return fitOutcome(ctx, carrier, names, () => carrierPartials(ctx, carrier, names));
}

/** Each carrier in turn, in this thread. */
async function fitInTurn(carriers: readonly string[], fitOne: (carrier: string) => Promise<FitOutcome>): Promise<Map<string, FitOutcome>> {
  const out = new Map<string, FitOutcome>();
  for (const c of carriers) out.set(c, await fitOne(c));
  return out;
}

/** Warn about contradictory probes (a fit computed now or carried over from the last run says the same). */
function warnContradictions(ctx: StageContext, carrier: string, timeouts: CarrierFit['timeouts']): void {
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

const FIT_CODE = new URL('./fit.ts', import.meta.url);

/** Write the fit folder: every carrier of the manifest, each fitted or carried over from the last run when what decides it is unchanged. */
async function writeFits(ctx: StageContext, source: FitSource): Promise<{ outputs: string[] }> {
  const manifest = readManifest(ctx);
  const names = carrierNames(manifest);
  const carriers = Object.keys(manifest.carriers).sort();
  const ledger = source.key ? UnitLedger.open(ctx, 'fit', FIT_CODE) : null;
  const dir = await replaceFolder(ctx, 'fit', async (out) => {
    const keys = new Map<string, string>();
    const carried = new Set<string>();
    for (const carrier of carriers) {
      if (!ledger || !source.key) continue;
      const key = ledger.key(await source.key(carrier, names));
      keys.set(carrier, key);
      if (await ledger.reuse(carrier, key, [out])) carried.add(carrier);
    }
    const outcomes = await source.fit(carriers.filter((c) => !carried.has(c)), names);
    // Written and logged in carrier order, whatever order the fits finished in.
    for (const carrier of carriers) {
      const stem = names.stem(carrier);
      if (carried.has(carrier)) {
        const f = FITS.read(ctx, stem);
        warnContradictions(ctx, carrier, f.timeouts);
        ctx.log.info(`fit ${ctx.campaign}/${carrier}: unchanged, ${f.model.family} carried over`);
        continue;
      }
      const { fit: f, warnings } = outcomes.get(carrier)!;
      for (const w of warnings) ctx.log.warn(w);
      if (f === null) continue;
      await FITS.write(out, stem, f);
      const key = keys.get(carrier);
      // FITS.rel names the file under derived/<campaign>/; the ledger wants it inside its folder.
      if (ledger && key !== undefined) await ledger.record(carrier, key, [{ out, rel: path.posix.relative(out.name, FITS.rel(stem)) }]);
      ctx.log.info(`fit ${ctx.campaign}/${carrier}: ${f.model.family} (${formatCount(f.allocations.n)} allocations), ${f.mapping.behavior}, wait ${f.timeouts.wait?.seconds ?? '?'} s, idle ${f.timeouts.idle?.seconds ?? '?'} s`);
    }
  });
  if (ledger) {
    await ledger.save();
    const { reused, built } = ledger.counts;
    if (reused > 0) ctx.log.info(`fit ${ctx.campaign}: ${reused} carrier${reused === 1 ? '' : 's'} unchanged, ${built} fitted`);
  }
  return { outputs: [dir] };
}

/**
 * What a carrier's fit from its own joined rows reads: its joined rows, server rows (end
 * markers), probes, nat-type.json and summary, by content; its file stem (the manifest's
 * names decide where those live).
 */
async function fitInputs(ctx: StageContext, carrier: string, names: FileNames): Promise<unknown> {
  const stem = names.stem(carrier);
  return {
    carrier,
    stem,
    joined: await JOINED.sha256(ctx, names, carrier),
    server: await sha256File(SERVER_ROWS.file(ctx, names, carrier)),
    timeouts: TIMEOUT_ROWS.exists(ctx, names, carrier) ? await sha256File(TIMEOUT_ROWS.file(ctx, names, carrier)) : null,
    natType: NAT_TYPE.read(ctx, names, carrier),
    summary: SUMMARIES.readHashed(ctx, stem).sha256,
  };
}

const FIT_WORKER = new URL('../fit/worker.ts', import.meta.url);

/**
 * Joined packets (all carriers to fit) from which two threads pay: a worker takes about a
 * second to start and a carrier of 100,000 packets about a second to read and fit
 * (measured at 1M packets, 10 carriers), so small campaigns fit in this thread.
 */
export const THREADS_MIN_JOINED = 300_000;

/** The carriers on a pool of worker threads (fit/worker.ts), each a whole carrier: results do not depend on which thread ran it. */
async function fitOnThreads(ctx: StageContext, carriers: readonly string[], threads: number): Promise<Map<string, FitOutcome>> {
  const pool = poolFor(FIT_WORKER, threads);
  try {
    const job = (carrier: string): FitJob => ({ campaign: ctx.campaign, folder: ctx.folder, paths: ctx.paths, carrier });
    const results = await Promise.all(carriers.map((c) => pool.run<FitOutcome | { failed: string; user: boolean }>(job(c))));
    return new Map(carriers.map((c, i) => {
      const r = results[i]!;
      if ('failed' in r) throw r.user ? new NatatlasError(r.failed) : new Error(r.failed);
      return [c, r];
    }));
  } finally {
    await closePools();
  }
}

/** What a fit worker is sent: where the campaign is and which carrier to fit. */
export interface FitJob {
  campaign: string;
  folder: string | undefined;
  paths: StageContext['paths'];
  carrier: string;
}

/**
 * The fit stage: every carrier from its own joined rows, through its partials. Carriers
 * whose inputs did not change are carried over; the rest are fitted on two worker
 * threads when the campaign is big enough to pay for them (`threads` overrides).
 */
export function fit(ctx: StageContext, opts: { threads?: number } = {}): Promise<{ outputs: string[] }> {
  return writeFits(ctx, {
    key: (carrier, names) => fitInputs(ctx, carrier, names),
    fit(carriers, names) {
      const joined = carriers.reduce((n, c) => n + SUMMARIES.read(ctx, names.stem(c)).counts.joined, 0);
      const threads = Math.min(carriers.length, opts.threads ?? (joined >= THREADS_MIN_JOINED ? threadsFor(2) : 1));
      return threads > 1 ? fitOnThreads(ctx, carriers, threads) : fitInTurn(carriers, (c) => fitOwnCarrier(ctx, c, names));
    },
  });
}

/**
 * The fit stage from partials computed elsewhere (`natatlas fit --partials DIR`): the
 * same fitting, with the partial files in place of the joined rows, server rows, probes
 * and summary. The manifest still names the campaign's carriers and their nat-type.json.
 */
export async function fitFromPartials(ctx: StageContext, dir: string): Promise<{ outputs: string[] }> {
  const partials = await readPartials(dir);
  const known = new Set(Object.keys(readManifest(ctx).carriers));
  const strangers = [...partials.keys()].filter((c) => !known.has(c));
  if (strangers.length > 0) {
    throw new NatatlasError(`${dir}: partials of carrier${strangers.length === 1 ? '' : 's'} ${strangers.map((c) => JSON.stringify(c)).join(', ')} that campaign ${JSON.stringify(ctx.campaign)} does not have (its carriers: ${[...known].sort().join(', ')})`);
  }
  checkWindows(partials.values());
  return writeFits(ctx, { fit: (carriers, names) => fitInTurn(carriers, (c) => fitOutcome(ctx, c, names, async () => partials.get(c) ?? null)) });
}
