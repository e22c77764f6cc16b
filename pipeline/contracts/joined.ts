/**
 * Contract `joined/<carrier>.cols` (written by join): one row per matched packet (sent,
 * seen by the server once), in send order within each run, across all of a carrier's
 * runs; then the capture's extra columns, client side first. Fit, the report and
 * compare read it; `natatlas export --joined csv` turns it into the CSV people open.
 *
 * A binary column file (io/columns.ts, schema `natatlas.joined/1`): `uuid` 4 x u32,
 * `run` u32 ids into its dictionary, `send_seq` u32, `send_time` and `recv_time` f64
 * epoch ms, the four ports u16, then one u32 dictionary column `extra:<name>` per extra
 * column, in the CSV header's order. Readers give the columns (`columns`, the hot
 * readers: fit, the report) or typed rows (`forEach`); the writer takes typed rows
 * (`write`) or rows with the UUID as UuidIndex's words (`writeWords`, join's hot path).
 * `writeCsv` writes exactly the CSV this contract used to be (header `uuid,run,send_seq,...`).
 */
import fs from 'node:fs';
import { fileHash, type StageContext } from '../context.ts';
import { AtomicWriter } from '../io/atomic.ts';
import { ByteLines } from '../io/byte-lines.ts';
import { ColumnFile, ColumnFileWriter, type ColumnSpec, type Dictionary } from '../io/columns.ts';
import { csvField, csvRow } from '../io/csv.ts';
import type { FileNames } from '../io/names.ts';
import { uuidToWords, wordsToUuid } from '../io/uuid-words.ts';
import { derivedFile, filesUnder, type Contract, type OutputFolder } from './folder.ts';
import { shownRel } from './json.ts';

/**
 * `send_seq` numbers a run's S rows (sent packets) in send order from 0, lost ones
 * included, so a gap in it between two joined packets counts the allocations nobody saw.
 */
export const JOIN_COLUMNS = ['uuid', 'run', 'send_seq', 'send_time', 'recv_time', 'local_port', 'dest_port', 'external_port', 'server_port'] as const;

export const JOINED_SCHEMA = 'natatlas.joined/1';

export interface JoinedRow {
  uuid: string;
  run: string;
  sendSeq: number;
  /** Phone clock, epoch ms. */
  sendTime: number;
  /** Server clock, epoch ms. */
  recvTime: number;
  /** 0: unknown. */
  localPort: number;
  destPort: number;
  externalPort: number;
  serverPort: number;
  /** Values of the extra columns, in the header's order ('' where a side had none). */
  extras: string[];
}

/** Names of the extra columns: each side's own names, prefixed `client.` / `server.` only where they would collide. */
export function joinedExtraColumns(clientExtra: readonly string[], serverExtra: readonly string[]): string[] {
  const fixed = new Set<string>(JOIN_COLUMNS);
  const clash = (n: string, other: readonly string[]) => fixed.has(n) || other.includes(n);
  return [
    ...clientExtra.map((n) => (clash(n, serverExtra) ? `client.${n}` : n)),
    ...serverExtra.map((n) => (clash(n, clientExtra) ? `server.${n}` : n)),
  ];
}

const rel = (stem: string) => `joined/${stem}.cols`;
const EXTRA_PREFIX = 'extra:';

const FIXED_SPECS: readonly ColumnSpec[] = [
  { name: 'uuid', type: 'u32', width: 4 }, { name: 'run', type: 'u32', dictionary: true }, { name: 'send_seq', type: 'u32' },
  { name: 'send_time', type: 'f64' }, { name: 'recv_time', type: 'f64' }, { name: 'local_port', type: 'u16' }, { name: 'dest_port', type: 'u16' },
  { name: 'external_port', type: 'u16' }, { name: 'server_port', type: 'u16' },
];
const [UUID, RUN, SEQ, SEND, RECV, LOCAL, DEST, EXTERNAL, SERVER] = FIXED_SPECS.map((_s, i) => i) as [number, number, number, number, number, number, number, number, number];

const extraSpecs = (names: readonly string[]): ColumnSpec[] => names.map((n) => ({ name: `${EXTRA_PREFIX}${n}`, type: 'u32', dictionary: true }));

/** A carrier's joined rows as columns (row i is index i; the UUID is words 4i..4i+3). */
export interface JoinedColumns {
  rows: number;
  uuid: Uint32Array;
  run: Uint32Array;
  runs: string[];
  sendSeq: Uint32Array;
  sendTime: Float64Array;
  recvTime: Float64Array;
  localPort: Uint16Array;
  destPort: Uint16Array;
  externalPort: Uint16Array;
  serverPort: Uint16Array;
  /** One per extra column, in the header's order: its name, each row's id into `values`. */
  extras: { name: string; ids: Uint32Array; values: string[] }[];
}

/** A joined row with its UUID as four 32-bit words `words[at..at+3]` (hex digits 0-7, 8-15, 16-23, 24-31), as stages/uuid-index.ts keeps it. */
export interface JoinedRowWords extends Omit<JoinedRow, 'uuid'> {
  words: Uint32Array;
  at: number;
}

export class JoinedRowWriter {
  private readonly w: ColumnFileWriter;
  private readonly extraDicts: Dictionary[];
  // Consecutive rows share their run and often their extras array: look them up once per change.
  private run = '';
  private runId = -1;
  private extras: readonly string[] | null = null;
  private extraIds: number[] = [];

  constructor(file: string, extraColumns: readonly string[]) {
    this.w = new ColumnFileWriter(file, JOINED_SCHEMA, [...FIXED_SPECS, ...extraSpecs(extraColumns)]);
    this.extraDicts = extraColumns.map((_n, k) => this.w.dictionaries[FIXED_SPECS.length + k]!);
  }

  write(r: JoinedRow): void {
    const i = this.w.grow();
    uuidToWords(r.uuid, this.w.col(UUID) as Uint32Array, i * 4);
    this.tail(i, r);
  }

  /** The row `write` would write, the UUID given as words (no string per row). */
  writeWords(r: JoinedRowWords): void {
    const i = this.w.grow();
    // Four copies, not set(subarray()): a view per row was most of the join's garbage.
    const uuid = this.w.col(UUID) as Uint32Array;
    const to = i * 4;
    uuid[to] = r.words[r.at]!;
    uuid[to + 1] = r.words[r.at + 1]!;
    uuid[to + 2] = r.words[r.at + 2]!;
    uuid[to + 3] = r.words[r.at + 3]!;
    this.tail(i, r);
  }

  /** Room for `rows` rows in all (when the count is known ahead, the columns are not grown by copying). */
  reserve(rows: number): void {
    this.w.reserve(rows);
  }

  private tail(i: number, r: Omit<JoinedRow, 'uuid'>): void {
    const w = this.w;
    if (r.run !== this.run || this.runId < 0) {
      this.run = r.run;
      this.runId = w.dictionaries[RUN]!.id(r.run);
    }
    (w.col(RUN) as Uint32Array)[i] = this.runId;
    (w.col(SEQ) as Uint32Array)[i] = r.sendSeq;
    (w.col(SEND) as Float64Array)[i] = r.sendTime;
    (w.col(RECV) as Float64Array)[i] = r.recvTime;
    (w.col(LOCAL) as Uint16Array)[i] = r.localPort;
    (w.col(DEST) as Uint16Array)[i] = r.destPort;
    (w.col(EXTERNAL) as Uint16Array)[i] = r.externalPort;
    (w.col(SERVER) as Uint16Array)[i] = r.serverPort;
    if (this.extraDicts.length === 0) return;
    if (r.extras !== this.extras) {
      this.extras = r.extras;
      this.extraIds = this.extraDicts.map((d, k) => d.id(r.extras[k] ?? ''));
    }
    for (let k = 0; k < this.extraIds.length; k++) (w.col(FIXED_SPECS.length + k) as Uint32Array)[i] = this.extraIds[k]!;
  }

  commit(): void {
    this.w.commit();
  }

  abort(): void {
    this.w.abort();
  }
}

/** The per-row columns of JoinedColumns by their name in the file ('extras': every `extra:` column). */
const FILE_COLUMN = {
  uuid: 'uuid', run: 'run', sendSeq: 'send_seq', sendTime: 'send_time', recvTime: 'recv_time',
  localPort: 'local_port', destPort: 'dest_port', externalPort: 'external_port', serverPort: 'server_port', extras: null,
} as const;
export type JoinedColumnKey = keyof typeof FILE_COLUMN;
/** What a reader of some columns gets: those, and the row count and run names always. */
export type SomeJoinedColumns<K extends JoinedColumnKey> = Pick<JoinedColumns, K | 'rows' | 'runs'>;

function readColumns(ctx: StageContext, stem: string, only?: readonly JoinedColumnKey[]): JoinedColumns {
  const r = rel(stem);
  const label = { label: shownRel(ctx, r), writtenBy: 'join' };
  const file = derivedFile(ctx, r);
  let wanted: ((name: string) => boolean) | undefined;
  if (only) {
    const names = new Set<string>(only.flatMap((k) => (FILE_COLUMN[k] === null ? [] : [FILE_COLUMN[k]!])));
    // The `extra:` columns are whichever the file's header lists.
    const extras = only.includes('extras');
    wanted = (n) => names.has(n) || (extras && n.startsWith(EXTRA_PREFIX));
  }
  const checked = ColumnFile.read(file, label, JOINED_SCHEMA, FIXED_SPECS, wanted);
  const extraNames = checked.names.filter((n) => n.startsWith(EXTRA_PREFIX));
  // Extra columns are whatever the file lists: check they have the type and dictionary the writer gives them.
  checked.check(extraSpecs(extraNames.map((n) => n.slice(EXTRA_PREFIX.length))));
  return {
    rows: checked.rows, uuid: checked.u32('uuid'), run: checked.u32('run'), runs: checked.dictionary('run'), sendSeq: checked.u32('send_seq'),
    sendTime: checked.f64('send_time'), recvTime: checked.f64('recv_time'), localPort: checked.u16('local_port'), destPort: checked.u16('dest_port'),
    externalPort: checked.u16('external_port'), serverPort: checked.u16('server_port'),
    extras: extraNames.map((n) => ({ name: n.slice(EXTRA_PREFIX.length), ids: checked.u32(n), values: checked.dictionary(n) })),
  };
}

const COMMA = 44;

/** Today's CSV rows, for `natatlas export --joined csv`: `ByteLines` into any sink with AtomicWriter's `write`/`writeBytes`. */
function writeCsvRows(c: JoinedColumns, out: Pick<AtomicWriter, 'write' | 'writeBytes'>): void {
  out.write(`${csvRow([...JOIN_COLUMNS, ...c.extras.map((e) => e.name)])}\n`);
  const lines = new ByteLines(out as AtomicWriter);
  const runFields = c.runs.map((r) => Buffer.from(csvField(r), 'utf8'));
  const extraFields = c.extras.map((e) => e.values.map((v) => `,${csvField(v)}`));
  for (let i = 0; i < c.rows; i++) {
    const run = runFields[c.run[i]!]!;
    lines.uuidWords(c.uuid, i * 4).byte(COMMA).bytes(run, 0, run.length).byte(COMMA).int(c.sendSeq[i]!).byte(COMMA).num(c.sendTime[i]!).byte(COMMA).num(c.recvTime[i]!)
      .byte(COMMA).int(c.localPort[i]!).byte(COMMA).int(c.destPort[i]!).byte(COMMA).int(c.externalPort[i]!).byte(COMMA).int(c.serverPort[i]!);
    for (let k = 0; k < extraFields.length; k++) lines.utf8(extraFields[k]![c.extras[k]!.ids[i]!]!);
    lines.end();
  }
  lines.flush();
}

export const JOINED = {
  name: 'joined rows',
  pattern: 'joined/<carrier>.cols',
  writtenBy: 'join',
  files: (ctx: StageContext): string[] => filesUnder(ctx, 'joined').filter((f) => f.endsWith('.cols')),

  /** `joined/<stem>.cols`, the file's name under the campaign's derived folder (for provenance lists and the unit ledger). */
  rel,

  exists(ctx: StageContext, names: FileNames, carrier: string): boolean {
    return fs.existsSync(derivedFile(ctx, rel(names.stem(carrier))));
  },

  /** sha256 of the carrier's file as stored (for provenance lists). */
  sha256: (ctx: StageContext, names: FileNames, carrier: string): Promise<string> => fileHash(ctx, derivedFile(ctx, rel(names.stem(carrier)))),

  /** A writer for one carrier; `extraColumns` from joinedExtraColumns, each row's `extras` in that order. */
  open(out: OutputFolder, stem: string, extraColumns: readonly string[]): JoinedRowWriter {
    return new JoinedRowWriter(out.file('joined', `${stem}.cols`), extraColumns);
  },

  /** The carrier's joined rows as typed arrays over one read of the file; with `only`, just those columns are read. */
  columns<K extends JoinedColumnKey = JoinedColumnKey>(ctx: StageContext, names: FileNames, carrier: string, only?: readonly K[]): SomeJoinedColumns<K> {
    return readColumns(ctx, names.stem(carrier), only);
  },

  /**
   * Stream a carrier's joined rows in file order. `onHeader` gets the extra columns'
   * names first; `row` is one object reused for every row. Returns the row count.
   */
  forEach(ctx: StageContext, names: FileNames, carrier: string, onRow: (row: Readonly<JoinedRow>) => void, onHeader?: (extraColumns: string[]) => void): number {
    const c = readColumns(ctx, names.stem(carrier));
    onHeader?.(c.extras.map((e) => e.name));
    const row: JoinedRow = { uuid: '', run: '', sendSeq: 0, sendTime: 0, recvTime: 0, localPort: 0, destPort: 0, externalPort: 0, serverPort: 0, extras: [] };
    for (let i = 0; i < c.rows; i++) {
      row.uuid = wordsToUuid(c.uuid, i * 4);
      row.run = c.runs[c.run[i]!]!;
      row.sendSeq = c.sendSeq[i]!;
      row.sendTime = c.sendTime[i]!;
      row.recvTime = c.recvTime[i]!;
      row.localPort = c.localPort[i]!;
      row.destPort = c.destPort[i]!;
      row.externalPort = c.externalPort[i]!;
      row.serverPort = c.serverPort[i]!;
      if (c.extras.length > 0) row.extras = c.extras.map((e) => e.values[e.ids[i]!]!);
      onRow(row);
    }
    return c.rows;
  },

  /** The carrier's rows as the CSV this contract used to be (`natatlas export --joined csv`), into `out` (stdout, a test's buffer). */
  writeCsv(ctx: StageContext, names: FileNames, carrier: string, out: Pick<AtomicWriter, 'write' | 'writeBytes'>): void {
    writeCsvRows(readColumns(ctx, names.stem(carrier)), out);
  },

  /** writeCsv into `file`, atomically (outside derived/: an export's own folder). */
  exportCsv(ctx: StageContext, names: FileNames, carrier: string, file: string): void {
    const out = new AtomicWriter(file);
    try {
      writeCsvRows(readColumns(ctx, names.stem(carrier)), out);
      out.commit();
    } catch (e) {
      out.abort();
      throw e;
    }
  },
} satisfies Contract & Record<string, unknown>;
