/**
 * Contract of the fit partials: the per-run statistics a carrier's fit is computed
 * from, as CSV tables that natatlas, DuckDB or Spark can write (`pipeline/sql/partials.sql`).
 * natatlas's fit stage computes the same values from its joined rows and fits from them
 * (fit/partials.ts), so a fit from partials made elsewhere runs the same code.
 *
 * A partials folder holds one table per file, `<table>.csv`, or a folder `<table>/` of
 * Spark-style `part-*.csv` files (each with its header); rows may come in any order:
 *
 *   allocations  carrier,run,send_seq,port,send_time,local_port   one row per fresh allocation
 *   tallies      carrier,run,window_s,joined,pairs,same_external,known_local,kept_local,min_port,max_port
 *   markers      carrier,port,count                               end-marker external ports
 *   probes       carrier,kind,delay_s,replied,count               timeout probes by outcome
 *   counts       carrier,sent,lost                                the summary's counts fit needs
 *
 * Allocations and tallies are keyed by (carrier, run): a run appears in one batch only.
 * Markers, probes and counts are tallies: rows with the same key are summed, so batches of
 * runs computed apart merge by concatenating their folders' files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError, NatatlasError } from '../errors.ts';
import { AtomicWriter } from '../io/atomic.ts';
import { csvRow, readRecords } from '../io/csv.ts';
import { Growable } from '../io/growable.ts';
import { naturalCompare } from '../raw/layout.ts';

export const PARTIAL_COLUMNS = {
  allocations: ['carrier', 'run', 'send_seq', 'port', 'send_time', 'local_port'],
  tallies: ['carrier', 'run', 'window_s', 'joined', 'pairs', 'same_external', 'known_local', 'kept_local', 'min_port', 'max_port'],
  markers: ['carrier', 'port', 'count'],
  probes: ['carrier', 'kind', 'delay_s', 'replied', 'count'],
  counts: ['carrier', 'sent', 'lost'],
} as const;

export type PartialTable = keyof typeof PARTIAL_COLUMNS;

/** One capture run's mergeable tallies. */
export interface RunTally {
  run: string;
  /** The mapping window (seconds) the run's reuse and evidence were computed with. */
  windowS: number;
  /** Joined packets of the run. */
  joined: number;
  /** Mapping evidence: one local port towards a second server port inside the window. */
  pairs: number;
  sameExternal: number;
  /** Joined packets with a known local port (not 0), and those whose external port kept it. */
  knownLocal: number;
  keptLocal: number;
  /** Range of the run's joined external ports (null when none joined). */
  minPort: number | null;
  maxPort: number | null;
}

/** The fresh allocations in fit order: runs in order, each run's in send order. */
export interface AllocationColumns {
  n: number;
  port: Uint16Array;
  /** Index into the carrier's runs. */
  run: Uint32Array;
  /** Send time, ms. */
  time: Float64Array;
  /** Index among the run's sent packets: a jump of k means k - 1 allocations went unseen. */
  sendSeq: Uint32Array;
  /** The phone's local port (0 = unknown). */
  local: Uint16Array;
}

export interface ProbeTally {
  kind: 'wait' | 'idle';
  delayS: number;
  replied: boolean;
  count: number;
}

/** Everything a carrier's fit reads besides its nat-type.json. */
export interface CarrierPartials {
  carrier: string;
  /** The mapping window every run was computed with. */
  windowS: number;
  runs: RunTally[];
  allocations: AllocationColumns;
  /** End-marker external ports and how often each was seen, by port. */
  markers: [number, number][];
  /** Sorted by kind, delay, replied. */
  probes: ProbeTally[];
  sent: number;
  lost: number;
}

/** The files of one table in a partials folder: `<table>.csv`, or the `part-*.csv` of a `<table>/` folder. */
export function partialFiles(dir: string, table: PartialTable): string[] {
  const single = path.join(dir, `${table}.csv`);
  const folder = path.join(dir, table);
  const hasSingle = fs.existsSync(single);
  const hasFolder = fs.existsSync(folder) && fs.statSync(folder).isDirectory();
  if (hasSingle && hasFolder) throw new NatatlasError(`${dir}: both ${table}.csv and ${table}/ hold the ${table} partials; keep one`);
  if (hasSingle) return [single];
  if (hasFolder) {
    const parts = fs.readdirSync(folder).filter((f) => /^part-.*\.csv$/.test(f)).sort();
    if (parts.length === 0) throw new NatatlasError(`${folder}: no part-*.csv files`);
    return parts.map((f) => path.join(folder, f));
  }
  throw new NatatlasError(`${dir}: no ${table}.csv (or ${table}/part-*.csv): not a partials folder (see pipeline/sql/partials.sql)`);
}

/** Every partial file of a folder, for freshness. */
export function allPartialFiles(dir: string): string[] {
  return (Object.keys(PARTIAL_COLUMNS) as PartialTable[]).flatMap((t) => partialFiles(dir, t));
}

interface Place {
  file: string;
  line: number;
}

function bad(at: Place, column: string, value: string, what: string): InputError {
  return new InputError(at.file, at.line, `${column} ${JSON.stringify(value)} is not ${what}: the partials are damaged or were written by another version of partials.sql`);
}

function whole(f: string[], i: number, column: string, at: Place, lo: number, hi: number): number {
  const s = f[i] ?? '';
  const v = Number(s);
  if (s.length === 0 || !Number.isInteger(v) || v < lo || v > hi) throw bad(at, column, s, `a whole number in ${lo}..${hi}`);
  return v;
}

function num(f: string[], i: number, column: string, at: Place): number {
  const s = f[i] ?? '';
  const v = Number(s);
  if (s.length === 0 || !Number.isFinite(v)) throw bad(at, column, s, 'a number');
  return v;
}

function text(f: string[], i: number, column: string, at: Place): string {
  const s = f[i] ?? '';
  if (s.length === 0) throw bad(at, column, s, 'a name');
  return s;
}

/** A port when present; empty (SQL NULL) only where `optional`. */
function port(f: string[], i: number, column: string, at: Place, lo = 1): number {
  return whole(f, i, column, at, lo, 65535);
}

function optionalPort(f: string[], i: number, column: string, at: Place): number | null {
  return (f[i] ?? '') === '' ? null : port(f, i, column, at);
}

/** SQL engines write booleans as true/false; 1/0 too. */
function bool(f: string[], i: number, column: string, at: Place): boolean {
  const s = (f[i] ?? '').toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw bad(at, column, f[i] ?? '', 'true or false');
}

const MAX_COUNT = Number.MAX_SAFE_INTEGER;

async function readPartialTable(dir: string, table: PartialTable, onRow: (f: string[], at: Place) => void): Promise<void> {
  const columns = PARTIAL_COLUMNS[table];
  for (const file of partialFiles(dir, table)) {
    const at: Place = { file, line: 0 };
    await readRecords(file, (f, recordNo) => {
      at.line = recordNo;
      if (recordNo === 1) {
        if (f.length !== columns.length || columns.some((c, i) => f[i] !== c)) {
          throw new InputError(file, 1, `header ${JSON.stringify(f.join(','))} is not ${JSON.stringify(columns.join(','))}`);
        }
        return;
      }
      if (f.length === 1 && f[0] === '') return;
      if (f.length !== columns.length) throw new InputError(file, recordNo, `expected ${columns.length} fields (${columns.join(',')}), got ${f.length}`);
      onRow(f, at);
    });
    if (at.line === 0) throw new InputError(file, undefined, `empty: no header ${JSON.stringify(columns.join(','))}`);
  }
}

/** A carrier's rows while the tables are read, before runs are ordered: columns, so millions of allocations make no object each. */
class CarrierRows {
  readonly runs = new Map<string, RunTally & { at: Place }>();
  /** Run names of the allocations, each once; allocations hold their index. */
  readonly allocRunNames: string[] = [];
  readonly allocRunIds = new Map<string, number>();
  readonly allocRun = new Growable(new Uint32Array(0), (n) => new Uint32Array(n));
  readonly sendSeq = new Growable(new Uint32Array(0), (n) => new Uint32Array(n));
  readonly port = new Growable(new Uint16Array(0), (n) => new Uint16Array(n));
  readonly time = new Growable(new Float64Array(0), (n) => new Float64Array(n));
  readonly local = new Growable(new Uint16Array(0), (n) => new Uint16Array(n));
  /** Where each allocation was read (index into `files`, line), for error messages. */
  readonly allocFile = new Growable(new Uint32Array(0), (n) => new Uint32Array(n));
  readonly allocLine = new Growable(new Float64Array(0), (n) => new Float64Array(n));
  readonly markers = new Map<number, number>();
  readonly probes = new Map<string, ProbeTally>();
  sent = 0;
  lost = 0;
  constructor(readonly carrier: string, readonly files: string[]) {}

  allocationAt(i: number): Place {
    return { file: this.files[this.allocFile.data[i]!]!, line: this.allocLine.data[i]! };
  }
}

function sumInto(a: number, b: number, at: Place, column: string): number {
  const v = a + b;
  if (v > MAX_COUNT) throw new InputError(at.file, at.line, `${column} sums past ${MAX_COUNT}`);
  return v;
}

/** Runs in the order natatlas ingests their files: `client-<run>.csv` in natural order. */
export function runOrder(a: string, b: string): number {
  return naturalCompare(`client-${a}.csv`, `client-${b}.csv`);
}

function finish(c: CarrierRows): CarrierPartials {
  const runs = [...c.runs.values()].sort((x, y) => runOrder(x.run, y.run));
  const windowS = runs[0]?.windowS ?? NaN;
  for (const r of runs) {
    if (r.windowS !== windowS) {
      throw new InputError(r.at.file, r.at.line, `carrier ${JSON.stringify(c.carrier)} run ${JSON.stringify(r.run)} was computed with a mapping window of ${r.windowS} s, run ${JSON.stringify(runs[0]!.run)} with ${windowS} s: one window per carrier`);
    }
  }
  const index = new Map(runs.map((r, i) => [r.run, i]));
  const n = c.allocRun.length;
  const runIdx = new Uint32Array(n);
  const perRun = new Array<number>(runs.length).fill(0);
  const names = c.allocRunNames;
  const ids = c.allocRun.data;
  for (let i = 0; i < n; i++) {
    const r = index.get(names[ids[i]!]!);
    if (r === undefined) {
      const at = c.allocationAt(i);
      throw new InputError(at.file, at.line, `carrier ${JSON.stringify(c.carrier)} run ${JSON.stringify(names[ids[i]!])} has allocations but no tallies row`);
    }
    runIdx[i] = r;
    perRun[r]! += 1;
  }
  runs.forEach((r, i) => {
    if (perRun[i]! > r.joined) throw new InputError(r.at.file, r.at.line, `carrier ${JSON.stringify(c.carrier)} run ${JSON.stringify(r.run)}: ${perRun[i]} allocations but only ${r.joined} joined packets`);
  });
  const sendSeq = c.sendSeq.done();
  const after = (x: number, y: number) => runIdx[x]! - runIdx[y]! || sendSeq[x]! - sendSeq[y]!;
  const order = new Uint32Array(n).map((_, i) => i);
  // Files written in order (natatlas's, DuckDB's) need no sort; Spark's part files may.
  let ordered = true;
  for (let i = 1; i < n && ordered; i++) ordered = after(i - 1, i) < 0;
  if (!ordered) order.sort(after);
  const port = c.port.done();
  const time = c.time.done();
  const local = c.local.done();
  const allocations: AllocationColumns = { n, port: new Uint16Array(n), run: new Uint32Array(n), time: new Float64Array(n), sendSeq: new Uint32Array(n), local: new Uint16Array(n) };
  order.forEach((from, to) => {
    if (to > 0 && runIdx[from] === allocations.run[to - 1] && sendSeq[from] === allocations.sendSeq[to - 1]) {
      const at = c.allocationAt(from);
      throw new InputError(at.file, at.line, `carrier ${JSON.stringify(c.carrier)} run ${JSON.stringify(runs[runIdx[from]!]!.run)} send_seq ${sendSeq[from]} appears twice`);
    }
    allocations.port[to] = port[from]!;
    allocations.run[to] = runIdx[from]!;
    allocations.time[to] = time[from]!;
    allocations.sendSeq[to] = sendSeq[from]!;
    allocations.local[to] = local[from]!;
  });
  const probes = [...c.probes.values()].sort((x, y) => (x.kind < y.kind ? -1 : x.kind > y.kind ? 1 : 0) || x.delayS - y.delayS || Number(x.replied) - Number(y.replied));
  return {
    carrier: c.carrier,
    windowS,
    runs: runs.map(({ at: _at, ...r }) => r),
    allocations,
    markers: [...c.markers.entries()].sort((x, y) => x[0] - y[0]),
    probes,
    sent: c.sent,
    lost: c.lost,
  };
}

/**
 * Read a partials folder: every carrier's partials, merged and ordered (runs in
 * ingest order, allocations in send order), by carrier name. Errors name file and line.
 */
export async function readPartials(dir: string): Promise<Map<string, CarrierPartials>> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new NatatlasError(`--partials ${dir}: no such folder`);
  const carriers = new Map<string, CarrierRows>();
  /** The allocation files read so far (an allocation keeps the index of its file). */
  const files: string[] = [];
  const of = (name: string) => {
    let c = carriers.get(name);
    if (!c) carriers.set(name, (c = new CarrierRows(name, files)));
    return c;
  };
  await readPartialTable(dir, 'tallies', (f, at) => {
    const c = of(text(f, 0, 'carrier', at));
    const run = text(f, 1, 'run', at);
    if (c.runs.has(run)) throw new InputError(at.file, at.line, `carrier ${JSON.stringify(c.carrier)} run ${JSON.stringify(run)} has a second tallies row`);
    const t = {
      run, windowS: num(f, 2, 'window_s', at), joined: whole(f, 3, 'joined', at, 0, MAX_COUNT), pairs: whole(f, 4, 'pairs', at, 0, MAX_COUNT),
      sameExternal: whole(f, 5, 'same_external', at, 0, MAX_COUNT), knownLocal: whole(f, 6, 'known_local', at, 0, MAX_COUNT), keptLocal: whole(f, 7, 'kept_local', at, 0, MAX_COUNT),
      minPort: optionalPort(f, 8, 'min_port', at), maxPort: optionalPort(f, 9, 'max_port', at), at: { ...at },
    };
    if (!(t.windowS > 0)) throw bad(at, 'window_s', f[2]!, 'a positive number of seconds');
    if (t.sameExternal > t.pairs || t.keptLocal > t.knownLocal || t.knownLocal > t.joined) throw new InputError(at.file, at.line, 'counts contradict each other (same_external <= pairs, kept_local <= known_local <= joined)');
    if ((t.minPort === null) !== (t.joined === 0) || (t.maxPort === null) !== (t.joined === 0) || (t.minPort !== null && t.minPort > t.maxPort!)) {
      throw new InputError(at.file, at.line, 'min_port and max_port must be given, min <= max, exactly when joined > 0');
    }
    c.runs.set(run, t);
  });
  await readPartialTable(dir, 'allocations', (f, at) => {
    const c = carriers.get(text(f, 0, 'carrier', at));
    if (!c) throw new InputError(at.file, at.line, `carrier ${JSON.stringify(f[0])} has allocations but no tallies rows`);
    const run = text(f, 1, 'run', at);
    let id = c.allocRunIds.get(run);
    if (id === undefined) {
      id = c.allocRunNames.push(run) - 1;
      c.allocRunIds.set(run, id);
    }
    if (files.at(-1) !== at.file) files.push(at.file);
    c.allocRun.push(id);
    c.sendSeq.push(whole(f, 2, 'send_seq', at, 0, 0xffffffff));
    c.port.push(port(f, 3, 'port', at));
    c.time.push(num(f, 4, 'send_time', at));
    c.local.push(port(f, 5, 'local_port', at, 0));
    c.allocFile.push(files.length - 1);
    c.allocLine.push(at.line);
  });
  await readPartialTable(dir, 'markers', (f, at) => {
    const c = of(text(f, 0, 'carrier', at));
    const p = port(f, 1, 'port', at);
    c.markers.set(p, sumInto(c.markers.get(p) ?? 0, whole(f, 2, 'count', at, 1, MAX_COUNT), at, 'count'));
  });
  await readPartialTable(dir, 'probes', (f, at) => {
    const c = of(text(f, 0, 'carrier', at));
    const kind = (f[1] ?? '').toLowerCase();
    if (kind !== 'wait' && kind !== 'idle') throw bad(at, 'kind', f[1] ?? '', 'wait or idle');
    const delayS = num(f, 2, 'delay_s', at);
    const replied = bool(f, 3, 'replied', at);
    const key = `${kind} ${delayS} ${replied}`;
    const prev = c.probes.get(key);
    const count = whole(f, 4, 'count', at, 1, MAX_COUNT);
    c.probes.set(key, { kind, delayS, replied, count: sumInto(prev?.count ?? 0, count, at, 'count') });
  });
  await readPartialTable(dir, 'counts', (f, at) => {
    const c = of(text(f, 0, 'carrier', at));
    c.sent = sumInto(c.sent, whole(f, 1, 'sent', at, 0, MAX_COUNT), at, 'sent');
    c.lost = sumInto(c.lost, whole(f, 2, 'lost', at, 0, MAX_COUNT), at, 'lost');
    if (c.lost > c.sent) throw new InputError(at.file, at.line, `carrier ${JSON.stringify(c.carrier)}: more lost (${c.lost}) than sent (${c.sent})`);
  });
  const out = new Map<string, CarrierPartials>();
  for (const name of [...carriers.keys()].sort()) out.set(name, finish(carriers.get(name)!));
  return out;
}

/** Numbers as JavaScript prints them (they read back to the same double); null as an empty field, as SQL engines write it. */
function cell(v: string | number | boolean | null): string | number {
  return v === null ? '' : typeof v === 'boolean' ? String(v) : v;
}

/** Each table's rows of one carrier, in the order natatlas reads them back. */
const ROWS: Record<PartialTable, (p: CarrierPartials) => Iterable<(string | number | boolean | null)[]>> = {
  *allocations(p) {
    const a = p.allocations;
    for (let i = 0; i < a.n; i++) yield [p.carrier, p.runs[a.run[i]!]!.run, a.sendSeq[i]!, a.port[i]!, a.time[i]!, a.local[i]!];
  },
  tallies: (p) => p.runs.map((r) => [p.carrier, r.run, r.windowS, r.joined, r.pairs, r.sameExternal, r.knownLocal, r.keptLocal, r.minPort, r.maxPort]),
  markers: (p) => p.markers.map(([port, count]) => [p.carrier, port, count]),
  probes: (p) => p.probes.map((t) => [p.carrier, t.kind, t.delayS, t.replied, t.count]),
  counts: (p) => [[p.carrier, p.sent, p.lost]],
};

/** Write carriers' partials as `<table>.csv` files in `dir`, each streamed to a temp file and renamed into place. */
export function writePartials(dir: string, carriers: readonly CarrierPartials[]): void {
  for (const table of Object.keys(PARTIAL_COLUMNS) as PartialTable[]) {
    const out = new AtomicWriter(path.join(dir, `${table}.csv`));
    try {
      out.write(`${csvRow(PARTIAL_COLUMNS[table])}\n`);
      for (const p of carriers) for (const r of ROWS[table](p)) out.write(`${csvRow(r.map(cell))}\n`);
      out.commit();
    } catch (e) {
      out.abort();
      throw e;
    }
  }
}
