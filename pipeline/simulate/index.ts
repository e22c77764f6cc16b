/**
 * The capture simulator: writes a campaign in exactly the raw formats of docs/design.md
 * from NAT models with known parameters, and reports what it did (`simulation.json`),
 * so the join can be tested against exact counts and fits against known parameters.
 *
 *   options -> per carrier: Rng.fork(carrier) -> NAT + runs (client/server files) -> timeout probes
 *           -> simulation.json (the truth)
 *
 * Every carrier and run draws from its own forked stream, so adding a carrier or a run
 * never changes another's bytes; the same options and seed give byte-identical files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AtomicWriter, replaceDir, writeFileAtomic } from '../io/atomic.ts';
import { stableStringify } from '../io/json.ts';
import { NatatlasError } from '../errors.ts';
import { Rng } from '../random.ts';
import { CLIENT_HEADER, emptyCounts, resolveCapture, simulateRun, type CaptureCounts, type CaptureOptions } from './capture.ts';
import { Nat, resolveNat, type ResolvedNatSpec } from './models.ts';
import type { CarrierSim } from './presets.ts';
import { writeTimeoutProbes, type TimeoutKind, type TimeoutTruth } from './timeouts.ts';

export type { CarrierSim } from './presets.ts';
export { parseCarrierSpec, preset, presetNames, DUTCH_CARRIERS } from './presets.ts';
export { DEFAULT_CAPTURE, resolveCapture, type CaptureCounts, type CaptureOptions } from './capture.ts';
export { Nat, SEED_BETA, resolveModel, resolveNat, type AllocationModel, type NatSpec, type ResolvedModel, type ResolvedNatSpec, type MappingBehavior } from './models.ts';
export { searchTimeout, type TimeoutKind, type TimeoutSearch, type TimeoutTruth } from './timeouts.ts';

export const SIMULATION_SCHEMA = 'natatlas.simulation/1';
export const SIMULATION_FILE = 'simulation.json';

export interface SimulateOptions {
  /** The raw root; the campaign is written to <outDir>/<campaign>/. */
  outDir: string;
  campaign: string;
  carriers: CarrierSim[];
  /** Runs per carrier. */
  runs: number;
  /** Client packets (client rows) per carrier in total, split evenly across runs. */
  packets: number;
  seed: string | number;
  onProgress?: (carrier: string, packetsDone: number, packetsTotal: number) => void;
}

/** What was simulated for one carrier: the counts the join must reproduce, and the parameters. */
export interface CarrierTruth extends CaptureCounts {
  name: string;
  nat: ResolvedNatSpec;
  capture: CaptureOptions;
  runs: number;
  packetsPerRun: number[];
  /** Server clock minus phone clock, ms (the receive - send offset minus one-way delay). */
  clockOffsetMs: number;
  /** The carrier's public IPs (one per run, written when capture.senderIp). */
  ipPool: string[];
  /** Phone time of the first send and of the last (end markers included), epoch ms. */
  startMs: number;
  endMs: number;
  timeouts: Record<TimeoutKind, TimeoutTruth>;
  /** Files written, relative to the campaign folder. */
  files: { client: string[]; server: string[]; timeouts: string | null };
}

export interface SimulationReport {
  schema: typeof SIMULATION_SCHEMA;
  campaign: string;
  seed: string | number;
  runs: number;
  packets: number;
  /** The carriers as given (before defaults), in order. */
  options: { carriers: CarrierSim[] };
  carriers: Record<string, CarrierTruth>;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function validate(opts: SimulateOptions): void {
  if (typeof opts.outDir !== 'string' || opts.outDir.length === 0) throw new NatatlasError('simulate: outDir is required');
  if (typeof opts.campaign !== 'string' || !NAME_RE.test(opts.campaign)) {
    throw new NatatlasError(`simulate: campaign ${JSON.stringify(opts.campaign)} must be a folder name (letters, digits, . _ -)`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new NatatlasError(`simulate: runs must be a whole number >= 1, got ${opts.runs}`);
  if (!Number.isInteger(opts.packets) || opts.packets < 0) throw new NatatlasError(`simulate: packets must be a whole number >= 0, got ${opts.packets}`);
  if (typeof opts.seed !== 'string' && !(typeof opts.seed === 'number' && Number.isFinite(opts.seed))) {
    throw new NatatlasError(`simulate: seed must be a string or a finite number, got ${JSON.stringify(opts.seed)}`);
  }
  if (!Array.isArray(opts.carriers) || opts.carriers.length === 0) throw new NatatlasError('simulate: at least one carrier is required');
  const seen = new Set<string>();
  for (const c of opts.carriers) {
    if (typeof c.name !== 'string' || !NAME_RE.test(c.name)) throw new NatatlasError(`simulate: carrier name ${JSON.stringify(c.name)} must be a folder name (letters, digits, . _ -)`);
    // Case-insensitive: two names differing in case would share a folder on macOS/Windows.
    const k = c.name.toLowerCase();
    if (seen.has(k)) throw new NatatlasError(`simulate: carrier ${JSON.stringify(c.name)} given twice`);
    seen.add(k);
  }
}

/** `client-07.csv` style run numbers: two digits, more when there are more runs. */
export function runLabel(run: number, runs: number): string {
  return String(run).padStart(Math.max(2, String(runs).length), '0');
}

function ipPool(rng: Rng, size: number): string[] {
  const hosts = rng.shuffle(Array.from({ length: 254 }, (_, i) => i + 1)).slice(0, size).sort((a, b) => a - b);
  return hosts.map((h) => `198.51.100.${h}`);
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function simulateCarrier(opts: SimulateOptions, carrier: CarrierSim, root: Rng, dir: string): Promise<CarrierTruth> {
  const where = `carrier ${carrier.name}`;
  const nat = resolveNat(carrier.nat, where);
  const capture = resolveCapture(carrier.capture, where);
  const rng = root.fork(`carrier/${carrier.name}`);
  const natSim = new Nat(nat, rng.fork('nat'));
  const ips = ipPool(rng.fork('ip'), 4);
  const counts = emptyCounts();
  const perRun = Array.from({ length: opts.runs }, (_, i) => Math.floor(opts.packets / opts.runs) + (i < opts.packets % opts.runs ? 1 : 0));
  const files: CarrierTruth['files'] = { client: [], server: [], timeouts: null };
  const rel = (f: string) => `${carrier.name}/${f}`;
  let done = 0;
  const progress = (n: number) => {
    done += n;
    opts.onProgress?.(carrier.name, done, opts.packets);
  };

  let start = capture.startMs;
  let end = start;
  for (let r = 1; r <= opts.runs; r++) {
    const label = runLabel(r, opts.runs);
    const client = new AtomicWriter(path.join(dir, `client-${label}.csv`));
    const server = new AtomicWriter(path.join(dir, `server-${label}.csv`));
    try {
      client.write(`${CLIENT_HEADER}\n`);
      const runRng = rng.fork(`run/${r}`);
      end = simulateRun({ nat: natSim, rng: runRng, opts: capture, startMs: start, packets: perRun[r - 1]!, ip: runRng.pick(ips), client, server, counts, onPackets: progress });
      client.commit();
      server.commit();
    } catch (e) {
      client.abort();
      server.abort();
      throw e;
    }
    files.client.push(rel(`client-${label}.csv`));
    files.server.push(rel(`server-${label}.csv`));
    // Runs start runSpacingS apart, and never before every mapping of the previous run has expired.
    start = Math.max(start + capture.runSpacingS * 1000, end + nat.waitTimeoutS * 1000 + 1000);
    await nextTick();
  }
  counts.allocations = natSim.allocations;

  const timeoutsOut = new AtomicWriter(path.join(dir, 'timeouts.csv'));
  let timeouts: Record<TimeoutKind, TimeoutTruth>;
  try {
    timeouts = writeTimeoutProbes(timeoutsOut, nat, capture.probeRepeats, rng.fork('timeouts'));
    timeoutsOut.commit();
  } catch (e) {
    timeoutsOut.abort();
    throw e;
  }
  files.timeouts = rel('timeouts.csv');

  return {
    name: carrier.name,
    nat,
    capture,
    runs: opts.runs,
    packetsPerRun: perRun,
    clockOffsetMs: capture.clockOffsetMs,
    ipPool: ips,
    startMs: capture.startMs,
    endMs: end,
    timeouts,
    files,
    ...counts,
  };
}

/**
 * Whether `dir` is a carrier folder an earlier simulate wrote: the campaign's
 * simulation.json names the carrier and the folder holds only the files simulate
 * writes. A real capture is never replaced by a simulation. (Raw folders carry no
 * output marker: they are inputs, byte for byte what the capture formats say.)
 */
function simulatedBefore(campaignDir: string, carrier: string, dir: string): boolean {
  try {
    const truth = JSON.parse(fs.readFileSync(path.join(campaignDir, SIMULATION_FILE), 'utf8')) as { carriers?: Record<string, unknown> };
    if (!truth.carriers || !Object.hasOwn(truth.carriers, carrier)) return false;
    return fs.readdirSync(dir).every((f) => /^(client|server)-\d+\.csv$|^timeouts\.csv$/.test(f));
  } catch {
    return false;
  }
}

/**
 * Simulate a campaign into `<outDir>/<campaign>/`: one folder per carrier (replaced
 * whole, so no stale runs survive) and `simulation.json` with the truth.
 *
 * @example
 *   const report = await simulateCampaign({ outDir: 'raw', campaign: 'sim', carriers: [preset('KPN')],
 *     runs: 20, packets: 20000, seed: 1 });
 *   report.carriers.KPN.joined; // what `join` must count
 */
export async function simulateCampaign(opts: SimulateOptions): Promise<SimulationReport> {
  validate(opts);
  // Resolve everything before writing anything, so a bad option leaves no partial campaign.
  for (const c of opts.carriers) {
    resolveNat(c.nat, `carrier ${c.name}`);
    resolveCapture(c.capture, `carrier ${c.name}`);
  }
  const campaignDir = path.join(opts.outDir, opts.campaign);
  const root = new Rng(opts.seed);
  const carriers: Record<string, CarrierTruth> = {};
  for (const carrier of opts.carriers) {
    await replaceDir(path.join(campaignDir, carrier.name), async (dir) => {
      carriers[carrier.name] = await simulateCarrier(opts, carrier, root, dir);
    }, { mark: false, adopt: (dir) => simulatedBefore(campaignDir, carrier.name, dir) });
  }
  const report: SimulationReport = {
    schema: SIMULATION_SCHEMA,
    campaign: opts.campaign,
    seed: opts.seed,
    runs: opts.runs,
    packets: opts.packets,
    options: { carriers: opts.carriers.map((c) => ({ name: c.name, nat: c.nat, ...(c.capture ? { capture: c.capture } : {}) })) },
    carriers,
  };
  await writeFileAtomic(path.join(campaignDir, SIMULATION_FILE), stableStringify(report));
  return report;
}
