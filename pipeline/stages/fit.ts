/**
 * fit: per carrier, from the joined packets and the timeout probes, through the
 * carrier's per-run partials (fit/partials.ts), the fit of fit/carrier.ts: mapping
 * behaviour, allocation families, conditional model, timeouts. Writes
 * `derived/<campaign>/fit/<carrier>.json` with the evidence behind each answer.
 * Carriers whose inputs did not change are carried over (units.ts); big campaigns fit
 * on two worker threads (fit/fit-worker.ts).
 */
import path from 'node:path';
import { fileHash, formatCount, type StageContext } from '../context.ts';
import { carrierNames, readManifest, type IngestManifest } from '../contracts/manifest.ts';
import { NAT_TYPE, SERVER_ROWS, TIMEOUT_ROWS } from '../contracts/ingest-rows.ts';
import { JOINED } from '../contracts/joined.ts';
import { SUMMARIES } from '../contracts/summary.ts';
import { FITS, type CarrierFit } from '../contracts/fit.ts';
import { derivedFile, replaceFolder } from '../contracts/folder.ts';
import { readPartials, type CarrierPartials } from '../contracts/partials.ts';
import { closePools, poolFor, threadsFor } from '../threads.ts';
import { NatatlasError } from '../errors.ts';
import { checkWindows, fitPartials, probesWindowS, TooLittleData, warnContradictions } from '../fit/carrier.ts';
import { readObservations } from '../fit/observations.ts';
import { partialsOf, probeTallies } from '../fit/partials.ts';
import { readProbes } from '../fit/probes.ts';
import type { FileNames } from '../io/names.ts';
import { UnitLedger } from '../units.ts';

/** A carrier's partials from natatlas's own joined rows, server rows, probes and summary. */
export async function carrierPartials(ctx: StageContext, carrier: string, names: FileNames = carrierNames(readManifest(ctx))): Promise<CarrierPartials> {
  const probes = probeTallies(await readProbes(ctx, names, carrier));
  const { counts } = SUMMARIES.read(ctx, names.stem(carrier));
  return partialsOf(carrier, await readObservations(ctx, carrier), probesWindowS(probes), probes, counts);
}

/** One carrier's fit as computed, in this thread or a worker: the fit (null: skipped) and the warnings on the way, logged in carrier order. */
export interface FitOutcome {
  fit: CarrierFit | null;
  warnings: string[];
}

/** How a fit stage run fits the carriers it does not carry over, and (for reuse) what decides each one. */
interface FitSource {
  fit(carriers: readonly string[], names: FileNames): Promise<Map<string, FitOutcome>>;
  /** What the carrier's fit is a function of (besides the code), for units.ts; none: always recompute. */
  key?(carrier: string, names: FileNames, manifest: IngestManifest): Promise<unknown>;
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
      const key = ledger.key(await source.key(carrier, names, manifest));
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
async function fitInputs(ctx: StageContext, carrier: string, names: FileNames, manifest: IngestManifest): Promise<unknown> {
  const stem = names.stem(carrier);
  return {
    carrier,
    stem,
    joined: await JOINED.sha256(ctx, names, carrier),
    server: await Promise.all(SERVER_ROWS.units(manifest, names, carrier).map((rel) => fileHash(ctx, derivedFile(ctx, rel)))),
    timeouts: TIMEOUT_ROWS.exists(ctx, names, carrier) ? await fileHash(ctx, TIMEOUT_ROWS.file(ctx, names, carrier)) : null,
    natType: NAT_TYPE.read(ctx, names, carrier),
    summary: SUMMARIES.readHashed(ctx, stem).sha256,
  };
}

const FIT_WORKER = new URL('../fit/fit-worker.ts', import.meta.url);

/**
 * Joined packets (all carriers to fit) from which two threads are used. A worker costs
 * about 1.5 s of CPU to start (it compiles the fit code again); measured at 1M packets
 * (10 carriers, ~9 s of fitting, 2 shared cores) two threads saved 3-15% of the wall time
 * for 35% more CPU and 75% more memory, so a campaign that size fits in this thread. The
 * start-up cost is fixed while the work grows with the packets, so big campaigns use both.
 */
export const THREADS_MIN_JOINED = 2_000_000;

/** The carriers on a pool of worker threads (fit/fit-worker.ts), each a whole carrier: results do not depend on which thread ran it. */
async function fitOnThreads(ctx: StageContext, carriers: readonly string[], threads: number): Promise<Map<string, FitOutcome>> {
  const pool = poolFor(FIT_WORKER, threads);
  try {
    const job = (carrier: string): FitJob => ({ campaign: ctx.campaign, folder: ctx.folder, paths: ctx.paths, carrier });
    // A worker's InputError or NatatlasError comes back as the same class (threads.ts), so a damaged file stays a one-line user error.
    const results = await Promise.all(carriers.map((c) => pool.run<FitOutcome>(job(c))));
    return new Map(carriers.map((c, i) => [c, results[i]!]));
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
    key: (carrier, names, manifest) => fitInputs(ctx, carrier, names, manifest),
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
