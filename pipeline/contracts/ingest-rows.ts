/**
 * Contract `ingest/carriers/<carrier>/{client,server}/<run>.cols`,
 * `ingest/carriers/<carrier>/timeouts.csv`, `ingest/trials.csv` and
 * `ingest/carriers/<carrier>/nat-type.json` (written by ingest): the raw captures' valid
 * rows, normalized (fixed columns, no capture-app spaces, UUIDs as words, times in epoch
 * ms), which every later stage reads instead of the raw files.
 *
 * Client and server rows are binary column files (io/columns.ts), one per raw capture
 * file, so ingest can carry an unchanged raw file's output over (issue 13 items 2 and
 * 3) and join and fit map them into typed arrays without parsing. Readers give either a
 * file's columns (`forEachFile`, the hot paths) or typed rows (`forEach`); writers take
 * typed rows (`write`, ingest's string path) or a row's parsed values with the raw
 * line's byte ranges (`writeBytes`, ingest's byte path): both give the same bytes.
 * Timeout probes and trials stay CSV (thousands of rows at most).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StageContext } from '../context.ts';
import { InputError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import type { ByteFields } from '../io/byte-fields.ts';
import { ColumnFile, ColumnFileWriter, Dictionary, type ColumnSpec } from '../io/columns.ts';
import { csvRow } from '../io/csv.ts';
import { stableStringify } from '../io/json.ts';
import { FileNames } from '../io/names.ts';
import { uuidToWords, wordsToUuid } from '../io/uuid-words.ts';
import { derivedFile, filesUnder, fixedFile, type Contract, type OutputFolder } from './folder.ts';
import { shownRel } from './json.ts';
import { carrierNames, type FileRecord, type IngestManifest } from './manifest.ts';
import type { RejectRow } from './rejects.ts';
import { FormattedRowWriter, intField, numField, oneOf, readTable, RowWriter, type At } from './rows.ts';

export const TIMEOUT_COLUMNS = ['file', 'line', 'probe_id', 'kind', 'delay_s', 'replied'] as const;
export const TRIAL_COLUMNS = ['file', 'line', 'carrier_a', 'carrier_b', 'strategy', 'trial', 'outcome', 'packets', 'rate_pps'] as const;

/** Extra capture columns by name (null prototype: a column may be called __proto__), or null when the file has none. */
export type Extras = Record<string, string> | null;

/** One phone-side row: a send attempt. */
export interface ClientRow {
  /** The capture run (file name's run part). */
  run: string;
  /** Its line in the raw file. */
  line: number;
  uuid: string;
  /** Send time, epoch ms. */
  time: number;
  /** 0: unknown ("any" port). */
  localPort: number;
  destPort: number;
  /** S: the send call succeeded; F: no packet left the phone. */
  status: 'S' | 'F';
  extra: Extras;
}

/** One server-side row: a packet, or a run's end marker (uuid ''). */
export interface ServerRow {
  run: string;
  line: number;
  kind: 'packet' | 'end-marker';
  uuid: string;
  /** Receive time, epoch ms (server clock). */
  time: number;
  externalPort: number;
  serverPort: number;
  extra: Extras;
}

/** One timeout probe: interval-censored evidence that a mapping lived `delayS` seconds or not. */
export interface TimeoutRow {
  /** The raw file, relative to the raw root. */
  file: string;
  line: number;
  probeId: string;
  kind: 'wait' | 'idle';
  delayS: number;
  replied: boolean;
}

/** One hole-punch attempt between two carriers. */
export interface TrialRow {
  file: string;
  line: number;
  a: string;
  b: string;
  strategy: 'naive' | 'biased';
  trial: number;
  outcome: 'S' | 'F';
  packets: number | null;
  /** Packets per second per side the trial was sent at (null: the trials file does not say). */
  ratePps: number | null;
}

function decodeExtra(text: string): Extras {
  if (text.length === 0) return null;
  return Object.assign(Object.create(null) as Record<string, string>, JSON.parse(text) as Record<string, string>);
}

/** One CSV file kind of one carrier, `ingest/carriers/<stem>/<fileName>` (timeout probes). */
class CarrierRows<Row, Writer extends RowWriter<Row>> implements Contract {
  readonly writtenBy = 'ingest';
  readonly pattern: string;
  constructor(
    readonly name: string,
    readonly fileName: string,
    private readonly columns: readonly string[],
    private readonly writer: (file: string, columns: readonly string[]) => Writer,
    private readonly parse: (f: string[], at: At, row: Row) => void,
    private readonly blank: () => Row,
  ) {
    this.pattern = `ingest/carriers/<carrier>/${fileName}`;
  }

  private rel(stem: string): string {
    return `ingest/carriers/${stem}/${this.fileName}`;
  }

  files(ctx: StageContext): string[] {
    return filesUnder(ctx, 'ingest/carriers').filter((f) => path.basename(f) === this.fileName);
  }

  /** The carrier's file (for hashing it whole, as fit's per-carrier reuse does). */
  file(ctx: StageContext, names: FileNames, carrier: string): string {
    return derivedFile(ctx, this.rel(names.stem(carrier)));
  }

  exists(ctx: StageContext, names: FileNames, carrier: string): boolean {
    return fs.existsSync(this.file(ctx, names, carrier));
  }

  open(out: OutputFolder, stem: string): Writer {
    return this.writer(out.file('ingest', this.rel(stem).slice('ingest/'.length)), this.columns);
  }

  /** Stream the carrier's rows in file order; `row` is one object reused for every row. */
  forEach(ctx: StageContext, names: FileNames, carrier: string, onRow: (row: Readonly<Row>) => void): Promise<number> {
    const rel = this.rel(names.stem(carrier));
    const row = this.blank();
    return readTable(derivedFile(ctx, rel), { label: shownRel(ctx, rel), writtenBy: 'ingest' }, this.columns, (f, at) => {
      this.parse(f, at, row);
      onRow(row);
    });
  }
}

/**
 * The extras of a file's rows as JSON text built from the raw line's bytes: the object
 * `{"name":"value",...}` that JSON.stringify writes for the string path's row, i.e. the
 * bytes around each value `{"name":"` value `","next":"` value `"}`. Values must be
 * printable ASCII without `"` or `\` (a strict ByteFields split guarantees it), which
 * JSON writes as they are. Rows repeat their extras (a Sender IP), so `id` compares the
 * bytes with the last row's and only decodes a change.
 */
export class ExtrasBytes {
  private scratch = Buffer.alloc(256);
  private last = Buffer.alloc(256);
  private lastLength = -1;
  private lastId = 0;
  private lastDict: Dictionary | null = null;

  private constructor(private readonly pieces: Buffer[], private readonly fields: readonly number[]) {}

  /**
   * For extra columns `names` found at raw fields `fields`; null when the byte encoding
   * would not match the object's (numeric names come first in a JS object, a repeated
   * name keeps one value): such files take the string path.
   */
  static of(names: readonly string[], fields: readonly number[]): ExtrasBytes | null {
    if (names.length === 0) return new ExtrasBytes([], []);
    if (new Set(names).size !== names.length || names.some((n) => /^\d+$/.test(n))) return null;
    const pieces = names.map((n, i) => `${i === 0 ? '{' : '",'}${JSON.stringify(n)}:"`);
    pieces.push('"}');
    return new ExtrasBytes(pieces.map((p) => Buffer.from(p, 'utf8')), fields);
  }

  /** The JSON text of the row's extras (tests; `id` is the hot path). */
  text(f: ByteFields): string {
    const n = this.encode(f);
    return this.scratch.toString('utf8', 0, n);
  }

  /** The id in `dict` of the row's extras' JSON text ('' when the file has no extra columns). */
  id(dict: Dictionary, f: ByteFields): number {
    if (this.pieces.length === 0) return dict.id('');
    const n = this.encode(f);
    if (dict === this.lastDict && n === this.lastLength && this.scratch.compare(this.last, 0, n, 0, n) === 0) return this.lastId;
    this.lastDict = dict;
    this.lastId = dict.id(this.scratch.toString('utf8', 0, n));
    if (this.last.length < n) this.last = Buffer.alloc(this.scratch.length);
    this.scratch.copy(this.last, 0, 0, n);
    this.lastLength = n;
    return this.lastId;
  }

  private encode(f: ByteFields): number {
    const pieces = this.pieces;
    let need = 0;
    for (const p of pieces) need += p.length;
    for (const i of this.fields) need += f.length(i);
    if (need > this.scratch.length) this.scratch = Buffer.alloc(2 * need);
    let at = 0;
    for (let k = 0; k < pieces.length; k++) {
      at += pieces[k]!.copy(this.scratch, at);
      if (k < this.fields.length) {
        const i = this.fields[k]!;
        at += f.buf.copy(this.scratch, at, f.starts[i]!, f.ends[i]!);
      }
    }
    return at;
  }
}

/**
 * A row for the byte-level writers: the parsed values, plus the raw line's fields `f`
 * with the UUID's field (any case) and the extras' encoder. One object per file,
 * refilled per row.
 */
export interface RowFromBytes {
  line: number;
  time: number;
  f: ByteFields;
  uuidField: number;
  extras: ExtrasBytes;
}

export interface ClientRowFromBytes extends RowFromBytes {
  localPort: number;
  destPort: number;
  status: 'S' | 'F';
}

export interface ServerRowFromBytes extends RowFromBytes {
  /** An end marker (uuidField is ignored). */
  marker: boolean;
  externalPort: number;
  serverPort: number;
}

/**
 * Capture rows are column files (io/columns.ts), one per raw capture file: the run
 * (dictionary), the raw line, the UUID as 4 x u32, the time as f64 epoch ms, ports as
 * u16, the status as the ASCII code of `S`/`F` (server: the kind, 0 packet, 1 end
 * marker, whose UUID words are 0), and the extras as ids into a dictionary of their JSON
 * object texts ('' for none, id 0).
 */
const RUN = 0;
const LINE = 1;
const UUID = 2;
const TIME = 3;
/** Client: local_port, dest_port, status; server: kind, external_port, server_port. */
const C4 = 4;
const C5 = 5;
const C6 = 6;
const EXTRA = 7;

export const CLIENT_SPECS: readonly ColumnSpec[] = [
  { name: 'run', type: 'u32', dictionary: true }, { name: 'line', type: 'u32' }, { name: 'uuid', type: 'u32', width: 4 }, { name: 'time', type: 'f64' },
  { name: 'local_port', type: 'u16' }, { name: 'dest_port', type: 'u16' }, { name: 'status', type: 'u8' }, { name: 'extra', type: 'u32', dictionary: true },
];
export const SERVER_SPECS: readonly ColumnSpec[] = [
  { name: 'run', type: 'u32', dictionary: true }, { name: 'line', type: 'u32' }, { name: 'uuid', type: 'u32', width: 4 }, { name: 'time', type: 'f64' },
  { name: 'kind', type: 'u8' }, { name: 'external_port', type: 'u16' }, { name: 'server_port', type: 'u16' }, { name: 'extra', type: 'u32', dictionary: true },
];
const S_CODE = 83;
const F_CODE = 70;
const KIND_PACKET = 0;
const KIND_MARKER = 1;

/**
 * A capture-row writer for one raw file: typed rows (`write`) or rows from bytes
 * (`writeBytes`), into columns. Every row's run is the file's, given to `open` (a typed
 * row's `run` is not read).
 */
abstract class CaptureRowWriter<Row> {
  protected readonly w: ColumnFileWriter;
  protected readonly runId: number;
  private readonly extras: Dictionary;

  constructor(file: string, schema: string, specs: readonly ColumnSpec[], run: string) {
    this.w = new ColumnFileWriter(file, schema, specs);
    this.runId = this.w.dictionaries[RUN]!.id(run);
    this.extras = this.w.dictionaries[EXTRA]!;
    this.extras.id('');
  }

  abstract write(row: Row): void;

  /** A new row with its shared columns filled; returns its index. */
  protected start(line: number, time: number): number {
    const i = this.w.grow();
    (this.w.col(RUN) as Uint32Array)[i] = this.runId;
    (this.w.col(LINE) as Uint32Array)[i] = line;
    (this.w.col(TIME) as Float64Array)[i] = time;
    return i;
  }

  protected extraText(i: number, extra: Extras): void {
    (this.w.col(EXTRA) as Uint32Array)[i] = extra === null ? 0 : this.extras.id(JSON.stringify(extra));
  }

  protected extraBytes(i: number, r: RowFromBytes): void {
    (this.w.col(EXTRA) as Uint32Array)[i] = r.extras.id(this.extras, r.f);
  }

  protected uuidBytes(i: number, r: RowFromBytes): void {
    if (!r.f.uuidWords(r.uuidField, this.w.col(UUID) as Uint32Array, i * 4)) throw new Error('writeBytes: the UUID field is not a UUID (the byte path checks it first)');
  }

  commit(): void {
    this.w.commit();
  }

  abort(): void {
    this.w.abort();
  }
}

export class ClientRowWriter extends CaptureRowWriter<ClientRow> {
  constructor(file: string, run: string) {
    super(file, CLIENT_SCHEMA, CLIENT_SPECS, run);
  }

  write(r: ClientRow): void {
    const i = this.start(r.line, r.time);
    uuidToWords(r.uuid, this.w.col(UUID) as Uint32Array, i * 4);
    this.ports(i, r.localPort, r.destPort, r.status);
    this.extraText(i, r.extra);
  }

  /** The row `write` would write for the same values, from bytes. */
  writeBytes(r: ClientRowFromBytes): void {
    const i = this.start(r.line, r.time);
    this.uuidBytes(i, r);
    this.ports(i, r.localPort, r.destPort, r.status);
    this.extraBytes(i, r);
  }

  private ports(i: number, local: number, dest: number, status: 'S' | 'F'): void {
    (this.w.col(C4) as Uint16Array)[i] = local;
    (this.w.col(C5) as Uint16Array)[i] = dest;
    (this.w.col(C6) as Uint8Array)[i] = status === 'S' ? S_CODE : F_CODE;
  }
}

export class ServerRowWriter extends CaptureRowWriter<ServerRow> {
  constructor(file: string, run: string) {
    super(file, SERVER_SCHEMA, SERVER_SPECS, run);
  }

  write(r: ServerRow): void {
    const i = this.start(r.line, r.time);
    if (r.kind === 'packet') uuidToWords(r.uuid, this.w.col(UUID) as Uint32Array, i * 4);
    this.ports(i, r.kind === 'end-marker', r.externalPort, r.serverPort);
    this.extraText(i, r.extra);
  }

  /** The row `write` would write for the same values, from bytes. */
  writeBytes(r: ServerRowFromBytes): void {
    const i = this.start(r.line, r.time);
    if (!r.marker) this.uuidBytes(i, r);
    this.ports(i, r.marker, r.externalPort, r.serverPort);
    this.extraBytes(i, r);
  }

  private ports(i: number, marker: boolean, external: number, server: number): void {
    (this.w.col(C4) as Uint8Array)[i] = marker ? KIND_MARKER : KIND_PACKET;
    (this.w.col(C5) as Uint16Array)[i] = external;
    (this.w.col(C6) as Uint16Array)[i] = server;
  }
}

/** One capture file's rows as columns (row i is index i; the UUID is words 4i..4i+3). Extras id 0 is "none". */
export interface CaptureColumns {
  /** The file under the campaign's derived folder, for messages. */
  rel: string;
  rows: number;
  run: Uint32Array;
  runs: string[];
  line: Uint32Array;
  uuid: Uint32Array;
  time: Float64Array;
  extra: Uint32Array;
  extras: Extras[];
}

export interface ClientColumns extends CaptureColumns {
  localPort: Uint16Array;
  destPort: Uint16Array;
  /** 1 where the send failed (status F). */
  failed: Uint8Array;
}

export interface ServerColumns extends CaptureColumns {
  /** 1 where the row is a run's end marker. */
  marker: Uint8Array;
  externalPort: Uint16Array;
  serverPort: Uint16Array;
}

/** A u8 column's codes as 0/1 flags, refusing any other code (a damaged file). */
function flags(codes: Uint8Array, one: number, zero: number, rel: string, column: string): Uint8Array {
  const out = new Uint8Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c === one) out[i] = 1;
    else if (c !== zero) throw new InputError(rel, undefined, `row ${i + 1}: ${column} code ${c} is not one natatlas writes: the file is damaged; rerun \`natatlas ingest\``);
  }
  return out;
}

function sharedColumns(file: ColumnFile, rel: string): CaptureColumns {
  return {
    rel, rows: file.rows, run: file.u32('run'), runs: file.dictionary('run'), line: file.u32('line'), uuid: file.u32('uuid'), time: file.f64('time'),
    extra: file.u32('extra'), extras: file.dictionary('extra').map(decodeExtra),
  };
}

/** What ingest keeps beside each capture file's columns, so a reused file gives back everything its reading gave (manifest record, rejects, counts, time units). */
export interface CaptureUnitNote {
  record: FileRecord;
  rejects: RejectRow[];
  counts: { clientRows: number; failed: number; sent: number; serverRows: number };
  times: { counts: Record<string, number>; first: { unit: string; line: number; value: string } | null };
}

/**
 * One side of a carrier's captures, `ingest/carriers/<stem>/<side>/<run>.cols` (one column
 * file per raw capture file, `<run>` the run's file stem among the side's runs) and the
 * file's unit note `<run>.unit.json`. A carrier's rows are its files' rows in the
 * manifest's order of the raw files.
 */
class CaptureRows<Row, Cols extends CaptureColumns, Writer extends CaptureRowWriter<Row>> implements Contract {
  readonly writtenBy = 'ingest';
  readonly pattern: string;
  constructor(
    readonly name: string,
    readonly side: 'client' | 'server',
    private readonly schema: string,
    private readonly specs: readonly ColumnSpec[],
    private readonly writer: (file: string, run: string) => Writer,
    private readonly columns: (file: ColumnFile, rel: string) => Cols,
    private readonly rowAt: (c: Cols, i: number, row: Row) => void,
    private readonly blank: () => Row,
  ) {
    this.pattern = `ingest/carriers/<carrier>/${side}/<run>.cols`;
  }

  files(ctx: StageContext): string[] {
    return filesUnder(ctx, 'ingest/carriers').filter((f) => f.endsWith('.cols') && path.basename(path.dirname(f)) === this.side);
  }

  /** The file stems of a side's runs (decided over all of them, as io/names.ts does for carriers). */
  runNames(runs: readonly string[]): FileNames {
    return new FileNames(runs, 'run');
  }

  /** `<side>/<runStem>.cols` and its note, relative to the ingest folder's carrier folder `carriers/<stem>/`. */
  unitFiles(stem: string, runStem: string): { columns: string; note: string } {
    const base = `carriers/${stem}/${this.side}/${runStem}`;
    return { columns: `${base}.cols`, note: `${base}.unit.json` };
  }

  /** A writer for one raw file's rows. */
  open(out: OutputFolder, stem: string, runStem: string, run: string): Writer {
    return this.writer(out.file('ingest', this.unitFiles(stem, runStem).columns), run);
  }

  async writeNote(out: OutputFolder, stem: string, runStem: string, note: CaptureUnitNote): Promise<void> {
    await writeFileAtomic(out.file('ingest', this.unitFiles(stem, runStem).note), stableStringify(note));
  }

  /** The note of a file carried into the folder being built (the unit ledger vouched for its bytes). */
  readNote(out: OutputFolder, stem: string, runStem: string): CaptureUnitNote {
    return JSON.parse(fs.readFileSync(out.file('ingest', this.unitFiles(stem, runStem).note), 'utf8')) as CaptureUnitNote;
  }

  /** The column files of `carrier`'s side, in the manifest's order of its raw files. */
  units(manifest: IngestManifest, names: FileNames, carrier: string): string[] {
    const runs = manifest.files.filter((f) => f.kind === this.side && f.carrier === carrier).map((f) => f.run!);
    const runNames = this.runNames(runs);
    return runs.map((r) => `ingest/${this.unitFiles(names.stem(carrier), runNames.stem(r)).columns}`);
  }

  /** One column file (`rel` from `units`), read whole into typed arrays and checked. */
  read(ctx: StageContext, rel: string): Cols {
    const file = ColumnFile.read(derivedFile(ctx, rel), { label: shownRel(ctx, rel), writtenBy: 'ingest' }, this.schema, this.specs);
    return this.columns(file, shownRel(ctx, rel));
  }

  /** Each of the carrier's files as columns, one at a time and in order (the hot readers: join, fit). */
  forEachFile(ctx: StageContext, manifest: IngestManifest, carrier: string, onFile: (cols: Cols) => void): void {
    for (const rel of this.units(manifest, carrierNames(manifest), carrier)) onFile(this.read(ctx, rel));
  }

  /** Stream the carrier's rows in order; `row` is one object reused for every row. Returns the row count. */
  forEach(ctx: StageContext, manifest: IngestManifest, carrier: string, onRow: (row: Readonly<Row>) => void): number {
    const row = this.blank();
    let n = 0;
    this.forEachFile(ctx, manifest, carrier, (c) => {
      for (let i = 0; i < c.rows; i++) {
        this.rowAt(c, i, row);
        onRow(row);
      }
      n += c.rows;
    });
    return n;
  }
}

export const CLIENT_SCHEMA = 'natatlas.client-rows/1';
export const SERVER_SCHEMA = 'natatlas.server-rows/1';

export const CLIENT_ROWS = new CaptureRows<ClientRow, ClientColumns, ClientRowWriter>(
  'client rows', 'client', CLIENT_SCHEMA, CLIENT_SPECS,
  (file, run) => new ClientRowWriter(file, run),
  (file, rel) => ({
    ...sharedColumns(file, rel), localPort: file.u16('local_port'), destPort: file.u16('dest_port'), failed: flags(file.u8('status'), F_CODE, S_CODE, rel, 'status'),
  }),
  (c, i, r) => {
    r.run = c.runs[c.run[i]!]!;
    r.line = c.line[i]!;
    r.uuid = wordsToUuid(c.uuid, i * 4);
    r.time = c.time[i]!;
    r.localPort = c.localPort[i]!;
    r.destPort = c.destPort[i]!;
    r.status = c.failed[i] === 1 ? 'F' : 'S';
    r.extra = c.extras[c.extra[i]!]!;
  },
  () => ({ run: '', line: 0, uuid: '', time: 0, localPort: 0, destPort: 0, status: 'S', extra: null }),
);

export const SERVER_ROWS = new CaptureRows<ServerRow, ServerColumns, ServerRowWriter>(
  'server rows', 'server', SERVER_SCHEMA, SERVER_SPECS,
  (file, run) => new ServerRowWriter(file, run),
  (file, rel) => ({
    ...sharedColumns(file, rel), marker: flags(file.u8('kind'), KIND_MARKER, KIND_PACKET, rel, 'kind'), externalPort: file.u16('external_port'), serverPort: file.u16('server_port'),
  }),
  (c, i, r) => {
    r.run = c.runs[c.run[i]!]!;
    r.line = c.line[i]!;
    r.kind = c.marker[i] === 1 ? 'end-marker' : 'packet';
    r.uuid = c.marker[i] === 1 ? '' : wordsToUuid(c.uuid, i * 4);
    r.time = c.time[i]!;
    r.externalPort = c.externalPort[i]!;
    r.serverPort = c.serverPort[i]!;
    r.extra = c.extras[c.extra[i]!]!;
  },
  () => ({ run: '', line: 0, kind: 'packet', uuid: '', time: 0, externalPort: 0, serverPort: 0, extra: null }),
);

const PROBE_KINDS = ['wait', 'idle'] as const;
const STATUS = ['S', 'F'] as const;
const BITS = ['0', '1'] as const;
const STRATEGIES = ['naive', 'biased'] as const;

export const TIMEOUT_ROWS = new CarrierRows<TimeoutRow, RowWriter<TimeoutRow>>(
  'timeout probes', 'timeouts.csv', TIMEOUT_COLUMNS,
  (file, columns) => new FormattedRowWriter<TimeoutRow>(file, columns, (r) => `${csvRow([r.file, r.line, r.probeId, r.kind, r.delayS, r.replied ? 1 : 0])}\n`),
  (f, at, r) => {
    r.file = f[0]!;
    r.line = intField(f, 1, 'line', at, 1);
    r.probeId = f[2]!;
    r.kind = oneOf(f, 3, 'kind', at, PROBE_KINDS);
    r.delayS = numField(f, 4, 'delay_s', at);
    r.replied = oneOf(f, 5, 'replied', at, BITS) === '1';
  },
  () => ({ file: '', line: 0, probeId: '', kind: 'wait', delayS: 0, replied: false }),
);

const TRIALS_REL = 'ingest/trials.csv';

/** The campaign's trials, `ingest/trials.csv` (absent when the campaign has no trials files). */
export const TRIAL_ROWS = {
  ...fixedFile('trials', TRIALS_REL, 'ingest'),

  open(out: OutputFolder): RowWriter<TrialRow> {
    return new FormattedRowWriter<TrialRow>(out.file('ingest', 'trials.csv'), TRIAL_COLUMNS, (r) => `${csvRow([r.file, r.line, r.a, r.b, r.strategy, r.trial, r.outcome, r.packets ?? '', r.ratePps ?? ''])}\n`);
  },

  /** Every trial row (a campaign has thousands at most), or none without a trials file. */
  async readAll(ctx: StageContext): Promise<TrialRow[]> {
    const rows: TrialRow[] = [];
    if (!fs.existsSync(derivedFile(ctx, TRIALS_REL))) return rows;
    await readTable(derivedFile(ctx, TRIALS_REL), { label: shownRel(ctx, TRIALS_REL), writtenBy: 'ingest' }, TRIAL_COLUMNS, (f, at) => {
      rows.push({
        file: f[0]!, line: intField(f, 1, 'line', at, 1), a: f[2]!, b: f[3]!, strategy: oneOf(f, 4, 'strategy', at, STRATEGIES),
        trial: intField(f, 5, 'trial', at), outcome: oneOf(f, 6, 'outcome', at, STATUS), packets: f[7] ? intField(f, 7, 'packets', at) : null,
        ratePps: f[8] ? numField(f, 8, 'rate_pps', at) : null,
      });
    });
    return rows;
  },
} satisfies Contract & Record<string, unknown>;

/** A carrier's `nat-type.json`, the STUN classification passed through as measured. */
export const NAT_TYPE = {
  name: 'nat type',
  pattern: 'ingest/carriers/<carrier>/nat-type.json',
  writtenBy: 'ingest',
  files: (ctx: StageContext): string[] => filesUnder(ctx, 'ingest/carriers').filter((f) => path.basename(f) === 'nat-type.json'),

  async write(out: OutputFolder, stem: string, value: Record<string, unknown>): Promise<void> {
    await writeFileAtomic(out.file('ingest', `carriers/${stem}/nat-type.json`), stableStringify(value));
  },

  /** The carrier's classification, or null when its capture had none. */
  read(ctx: StageContext, names: FileNames, carrier: string): Record<string, unknown> | null {
    const rel = `ingest/carriers/${names.stem(carrier)}/nat-type.json`;
    const file = derivedFile(ctx, rel);
    if (!fs.existsSync(file)) return null;
    const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError(shownRel(ctx, rel), undefined, 'not a JSON object: rerun `natatlas ingest`');
    return { ...value };
  },
} satisfies Contract & Record<string, unknown>;
