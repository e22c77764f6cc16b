/**
 * Contract `ingest/carriers/<carrier>/{client,server,timeouts}.csv`, `ingest/trials.csv`
 * and `ingest/carriers/<carrier>/nat-type.json` (written by ingest): the raw captures'
 * valid rows, normalized (fixed columns, no capture-app spaces, lower-case UUIDs, times
 * in epoch ms), which every later stage reads instead of the raw files. Extra capture
 * columns ride along as one JSON object in the last field.
 *
 * Today the rows are CSV; readers stream typed rows and writers take them, so a change
 * of format (issue 13: columnar binary) stays inside this module. The client and server
 * files also have a byte-level API for ingest's and join's hot paths (no string or
 * object per row): the writers' `writeBytes` encode a row from parsed values and the
 * byte ranges of its UUID and extras, and `forEachBytes` hands join a view of each
 * record that reads its fields from the file's bytes.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StageContext } from '../context.ts';
import { InputError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { FieldDictionary, type ByteFields } from '../io/byte-fields.ts';
import type { ByteLines } from '../io/byte-lines.ts';
import { csvField, csvRow } from '../io/csv.ts';
import { stableStringify } from '../io/json.ts';
import type { FileNames } from '../io/names.ts';
import { derivedFile, filesUnder, fixedFile, type Contract, type OutputFolder } from './folder.ts';
import { shownRel } from './json.ts';
import { BufferedRowWriter, FormattedRowWriter, intBytes, intField, numBytes, numField, oneOf, readTable, readTableBytes, RowWriter, type At } from './rows.ts';

export const CLIENT_COLUMNS = ['run', 'line', 'uuid', 'time', 'local_port', 'dest_port', 'status', 'extra'] as const;
export const SERVER_COLUMNS = ['run', 'line', 'kind', 'uuid', 'time', 'external_port', 'server_port', 'extra'] as const;
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

function extraField(extra: Extras): string {
  return extra === null ? '' : csvField(JSON.stringify(extra));
}

function decodeExtra(field: string): Extras {
  if (field.length === 0) return null;
  return Object.assign(Object.create(null) as Record<string, string>, JSON.parse(field) as Record<string, string>);
}

/** One file kind of one carrier, `ingest/carriers/<stem>/<fileName>`. */
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

  /** The file's path (for tools that read it themselves, such as the benchmark's arquero peer). */
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

  /**
   * Stream the carrier's rows as `view`, pointed at each record's bytes in turn (see
   * RowBytes). `bytePath: false` splits every record as text first (for tests that
   * compare both ways).
   */
  forEachBytes<V extends RowBytes>(ctx: StageContext, names: FileNames, carrier: string, view: V, onRow: (row: V) => void, bytePath = true): Promise<number> {
    const rel = this.rel(names.stem(carrier));
    return readTableBytes(derivedFile(ctx, rel), { label: shownRel(ctx, rel), writtenBy: 'ingest' }, this.columns, (f, at) => {
      view.f = f;
      view.at = at;
      onRow(view);
    }, undefined, bytePath);
  }
}

const STATUS = ['S', 'F'] as const;
const SERVER_KINDS = ['packet', 'end-marker'] as const;
const PROBE_KINDS = ['wait', 'idle'] as const;
const BITS = ['0', '1'] as const;
const STRATEGIES = ['naive', 'biased'] as const;

let lastRun = '';
let lastRunField = '';
/** A run's CSV field, cached: consecutive rows share their run. */
function runField(run: string): string {
  if (run !== lastRun) {
    lastRun = run;
    lastRunField = csvField(run);
  }
  return lastRunField;
}

const COMMA = 44;
const PACKET_BYTES = Buffer.from('packet', 'latin1');
const MARKER_BYTES = Buffer.from('end-marker', 'latin1');

/**
 * The extras field of a file's rows built from the raw line's bytes: the JSON object
 * `{"name":"value",...}` quoted as one CSV field, i.e. the bytes around each value
 * `"{""name"":""` value `"",""next"":""` value `""}"`. Values must be printable ASCII
 * without `"` or `\` (a strict ByteFields split guarantees it), which JSON writes as
 * they are.
 */
export class ExtrasBytes {
  private constructor(private readonly pieces: Buffer[], private readonly fields: readonly number[]) {}

  /**
   * For extra columns `names` found at raw fields `fields`; null when the byte encoding
   * would not match the object's (numeric names come first in a JS object, a repeated
   * name keeps one value): such files take the string path.
   */
  static of(names: readonly string[], fields: readonly number[]): ExtrasBytes | null {
    if (names.length === 0) return new ExtrasBytes([], []);
    if (new Set(names).size !== names.length || names.some((n) => /^\d+$/.test(n))) return null;
    const key = (n: string) => JSON.stringify(n).replaceAll('"', '""');
    const pieces = names.map((n, i) => `${i === 0 ? '"{' : '"",'}${key(n)}:""`);
    pieces.push('""}"');
    return new ExtrasBytes(pieces.map((p) => Buffer.from(p, 'utf8')), fields);
  }

  write(out: ByteLines, f: ByteFields): void {
    const pieces = this.pieces;
    if (pieces.length === 0) return;
    for (let k = 0; k < this.fields.length; k++) {
      const piece = pieces[k]!;
      const i = this.fields[k]!;
      out.bytes(piece, 0, piece.length).bytes(f.buf, f.starts[i]!, f.ends[i]!);
    }
    const last = pieces[pieces.length - 1]!;
    out.bytes(last, 0, last.length);
  }
}

/**
 * A row for the byte-level writers: the parsed values, plus the raw line's fields `f`
 * with the UUID's field (any case; written lower-case) and the extras' encoder. One
 * object per file, refilled per row.
 */
export interface RowFromBytes {
  run: string;
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

/** A capture-row writer: rows by text or by bytes, the run's field encoded once per run. */
abstract class CaptureRowWriter<Row> extends BufferedRowWriter<Row> {
  private run = '';
  private runBytes = Buffer.alloc(0);

  /** The row's start, `run,line,`. */
  protected head(run: string, line: number): ByteLines {
    if (run !== this.run) {
      this.run = run;
      this.runBytes = Buffer.from(csvField(run), 'utf8');
    }
    return this.lines.bytes(this.runBytes, 0, this.runBytes.length).byte(COMMA).int(line).byte(COMMA);
  }
}

export class ClientRowWriter extends CaptureRowWriter<ClientRow> {
  write(r: ClientRow): void {
    this.lines.utf8(`${runField(r.run)},${r.line},${r.uuid},${r.time},${r.localPort},${r.destPort},${r.status},${extraField(r.extra)}\n`);
  }

  /** The row `write` would write for the same values, from bytes. */
  writeBytes(r: ClientRowFromBytes): void {
    const f = r.f;
    this.head(r.run, r.line).lowerAscii(f.buf, f.starts[r.uuidField]!, f.ends[r.uuidField]!).byte(COMMA)
      .num(r.time).byte(COMMA).int(r.localPort).byte(COMMA).int(r.destPort).byte(COMMA).byte(r.status === 'S' ? 83 : 70).byte(COMMA);
    r.extras.write(this.lines, f);
    this.lines.end();
  }
}

export class ServerRowWriter extends CaptureRowWriter<ServerRow> {
  write(r: ServerRow): void {
    this.lines.utf8(`${runField(r.run)},${r.line},${r.kind},${r.uuid},${r.time},${r.externalPort},${r.serverPort},${extraField(r.extra)}\n`);
  }

  /** The row `write` would write for the same values, from bytes. */
  writeBytes(r: ServerRowFromBytes): void {
    const f = r.f;
    const out = this.head(r.run, r.line);
    if (r.marker) out.bytes(MARKER_BYTES, 0, MARKER_BYTES.length).byte(COMMA);
    else out.bytes(PACKET_BYTES, 0, PACKET_BYTES.length).byte(COMMA).lowerAscii(f.buf, f.starts[r.uuidField]!, f.ends[r.uuidField]!);
    out.byte(COMMA).num(r.time).byte(COMMA).int(r.externalPort).byte(COMMA).int(r.serverPort).byte(COMMA);
    r.extras.write(this.lines, f);
    this.lines.end();
  }
}

/**
 * One record of a client or server file as bytes, for join's hot loop: each accessor
 * reads and checks one field of the current record (as the typed reader does), without
 * a string per row. Only the fields read are checked: a damaged port of a row join
 * skips (a duplicate, a stranger) passes here where forEach would refuse the file. Runs and extras come as ids into the view's dictionaries (rows
 * repeat them); extras id 0 is "none". Valid during the callback only.
 */
export abstract class RowBytes {
  f!: ByteFields;
  at!: At;
  readonly runs = new FieldDictionary<string>((t) => t);
  readonly extras = new FieldDictionary<Extras>(decodeExtra);
  protected abstract readonly uuidAt: number;
  protected abstract readonly timeAt: number;

  constructor() {
    this.extras.idOf('');
  }

  /** Put the UUID into `out[at..at+3]` (UuidIndex's words) when it is well formed; false: use uuidText. */
  uuidWords(out: Uint32Array, at: number): boolean {
    return this.f.uuidWords(this.uuidAt, out, at);
  }

  uuidText(): string {
    return this.f.text(this.uuidAt);
  }

  run(): number {
    return this.runs.id(this.f, 0);
  }

  time(): number {
    return numBytes(this.f, this.timeAt, 'time', this.at);
  }

  /** The id of the row's extras in `extras.values`. */
  extra(): number {
    return this.f.count > 7 ? this.extras.id(this.f, 7) : 0;
  }
}

const S_CODE = 83;
const F_CODE = 70;

export class ClientRowBytes extends RowBytes {
  protected readonly uuidAt = 2;
  protected readonly timeAt = 3;

  localPort(): number {
    return intBytes(this.f, 4, 'local_port', this.at, 0, 65535);
  }

  destPort(): number {
    return intBytes(this.f, 5, 'dest_port', this.at, 0, 65535);
  }

  /** Status F: no packet left the phone. */
  failed(): boolean {
    if (this.f.isChar(6, F_CODE)) return true;
    if (this.f.isChar(6, S_CODE)) return false;
    return oneOf([this.f.text(6)], 0, 'status', this.at, STATUS) === 'F';
  }
}

export class ServerRowBytes extends RowBytes {
  protected readonly uuidAt = 3;
  protected readonly timeAt = 4;

  /** A run's end marker rather than a packet. */
  isEndMarker(): boolean {
    const f = this.f;
    if (f.quoted[2] === 0) {
      if (f.equals(2, PACKET_BYTES)) return false;
      if (f.equals(2, MARKER_BYTES)) return true;
    }
    return oneOf([f.text(2)], 0, 'kind', this.at, SERVER_KINDS) === 'end-marker';
  }

  externalPort(): number {
    return intBytes(this.f, 5, 'external_port', this.at, 0, 65535);
  }

  serverPort(): number {
    return intBytes(this.f, 6, 'server_port', this.at, 0, 65535);
  }
}

export const CLIENT_ROWS = new CarrierRows<ClientRow, ClientRowWriter>(
  'client rows', 'client.csv', CLIENT_COLUMNS,
  (file, columns) => new ClientRowWriter(file, columns),
  (f, at, r) => {
    r.run = f[0]!;
    r.line = intField(f, 1, 'line', at, 1);
    r.uuid = f[2]!;
    r.time = numField(f, 3, 'time', at);
    r.localPort = intField(f, 4, 'local_port', at, 0, 65535);
    r.destPort = intField(f, 5, 'dest_port', at, 0, 65535);
    r.status = oneOf(f, 6, 'status', at, STATUS);
    r.extra = decodeExtra(f[7] ?? '');
  },
  () => ({ run: '', line: 0, uuid: '', time: 0, localPort: 0, destPort: 0, status: 'S', extra: null }),
);

export const SERVER_ROWS = new CarrierRows<ServerRow, ServerRowWriter>(
  'server rows', 'server.csv', SERVER_COLUMNS,
  (file, columns) => new ServerRowWriter(file, columns),
  (f, at, r) => {
    r.run = f[0]!;
    r.line = intField(f, 1, 'line', at, 1);
    r.kind = oneOf(f, 2, 'kind', at, SERVER_KINDS);
    r.uuid = f[3]!;
    r.time = numField(f, 4, 'time', at);
    r.externalPort = intField(f, 5, 'external_port', at, 0, 65535);
    r.serverPort = intField(f, 6, 'server_port', at, 0, 65535);
    r.extra = decodeExtra(f[7] ?? '');
  },
  () => ({ run: '', line: 0, kind: 'packet', uuid: '', time: 0, externalPort: 0, serverPort: 0, extra: null }),
);

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
