/**
 * Contract `joined/<carrier>.csv` (written by join): one row per matched packet (sent,
 * seen by the server once), in send order within each run, across all of a carrier's
 * runs; then the capture's extra columns, client side first. Fit, the report and
 * compare read it.
 *
 * Today the rows are CSV; readers stream typed rows and the writer takes them, so a
 * change of format (issue 13: columnar binary) stays inside this module. join's hot
 * path writes through `writeWords`, the same row with the UUID as UuidIndex's words.
 */
import fs from 'node:fs';
import type { StageContext } from '../context.ts';
import { csvField } from '../io/csv.ts';
import { sha256File } from '../io/hash.ts';
import type { FileNames } from '../io/names.ts';
import { derivedFile, filesUnder, type Contract, type OutputFolder } from './folder.ts';
import { shownRel } from './json.ts';
import { BufferedRowWriter, intField, numField, readTable } from './rows.ts';

/**
 * `send_seq` numbers a run's S rows (sent packets) in send order from 0, lost ones
 * included, so a gap in it between two joined packets counts the allocations nobody saw.
 */
export const JOIN_COLUMNS = ['uuid', 'run', 'send_seq', 'send_time', 'recv_time', 'local_port', 'dest_port', 'external_port', 'server_port'] as const;

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

const rel = (stem: string) => `joined/${stem}.csv`;

/** A joined row with its UUID as four 32-bit words `words[at..at+3]` (hex digits 0-7, 8-15, 16-23, 24-31), as stages/uuid-index.ts keeps it. */
export interface JoinedRowWords extends Omit<JoinedRow, 'uuid'> {
  words: Uint32Array;
  at: number;
}

const COMMA = 44;

export class JoinedRowWriter extends BufferedRowWriter<JoinedRow> {
  // Consecutive rows share their run and often their extras: encode them once per change, not per row.
  private run = '';
  private runBytes = Buffer.alloc(0);
  private extras: readonly string[] = [];
  private extrasText = '';

  private runField(run: string): Buffer {
    if (run !== this.run) {
      this.run = run;
      this.runBytes = Buffer.from(csvField(run), 'utf8');
    }
    return this.runBytes;
  }

  /** `,field` for each extra value; cached while the same array comes again. */
  private extrasField(extras: readonly string[]): string {
    if (extras !== this.extras) {
      this.extras = extras;
      this.extrasText = '';
      for (const e of extras) this.extrasText += `,${csvField(e)}`;
    }
    return this.extrasText;
  }

  write(r: JoinedRow): void {
    this.lines.utf8(r.uuid).byte(COMMA);
    this.tail(r);
  }

  /** The row `write` would write, the UUID written from its words (no string per row). */
  writeWords(r: JoinedRowWords): void {
    this.lines.uuidWords(r.words, r.at).byte(COMMA);
    this.tail(r);
  }

  private tail(r: Omit<JoinedRow, 'uuid'>): void {
    const run = this.runField(r.run);
    this.lines.bytes(run, 0, run.length).byte(COMMA).int(r.sendSeq).byte(COMMA).num(r.sendTime).byte(COMMA).num(r.recvTime)
      .byte(COMMA).int(r.localPort).byte(COMMA).int(r.destPort).byte(COMMA).int(r.externalPort).byte(COMMA).int(r.serverPort);
    if (r.extras.length > 0) this.lines.utf8(this.extrasField(r.extras));
    this.lines.end();
  }
}

export const JOINED = {
  name: 'joined rows',
  pattern: 'joined/<carrier>.csv',
  writtenBy: 'join',
  files: (ctx: StageContext): string[] => filesUnder(ctx, 'joined').filter((f) => f.endsWith('.csv')),

  /** `joined/<stem>.csv`, the file's name under the campaign's derived folder (for provenance lists). */
  rel,

  exists(ctx: StageContext, names: FileNames, carrier: string): boolean {
    return fs.existsSync(derivedFile(ctx, rel(names.stem(carrier))));
  },

  /** sha256 of the carrier's file as stored (for provenance lists). */
  sha256: (ctx: StageContext, names: FileNames, carrier: string): Promise<string> => sha256File(derivedFile(ctx, rel(names.stem(carrier)))),

  /** A writer for one carrier; `extraColumns` from joinedExtraColumns, each row's `extras` in that order. */
  open(out: OutputFolder, stem: string, extraColumns: readonly string[]): JoinedRowWriter {
    return new JoinedRowWriter(out.file('joined', `${stem}.csv`), [...JOIN_COLUMNS, ...extraColumns]);
  },

  /**
   * Stream a carrier's joined rows in file order. `onHeader` gets the extra columns'
   * names first; `row` is one object reused for every row.
   */
  forEach(ctx: StageContext, names: FileNames, carrier: string, onRow: (row: Readonly<JoinedRow>) => void, onHeader?: (extraColumns: string[]) => void): Promise<number> {
    const r = rel(names.stem(carrier));
    const row: JoinedRow = { uuid: '', run: '', sendSeq: 0, sendTime: 0, recvTime: 0, localPort: 0, destPort: 0, externalPort: 0, serverPort: 0, extras: [] };
    let extraCount = 0;
    return readTable(derivedFile(ctx, r), { label: shownRel(ctx, r), writtenBy: 'join' }, JOIN_COLUMNS, (f, at) => {
      row.uuid = f[0]!;
      row.run = f[1]!;
      row.sendSeq = intField(f, 2, 'send_seq', at);
      row.sendTime = numField(f, 3, 'send_time', at);
      row.recvTime = numField(f, 4, 'recv_time', at);
      row.localPort = intField(f, 5, 'local_port', at, 0, 65535);
      row.destPort = intField(f, 6, 'dest_port', at, 0, 65535);
      row.externalPort = intField(f, 7, 'external_port', at, 0, 65535);
      row.serverPort = intField(f, 8, 'server_port', at, 0, 65535);
      if (extraCount > 0) row.extras = f.slice(JOIN_COLUMNS.length);
      onRow(row);
    }, (extra) => {
      extraCount = extra.length;
      onHeader?.(extra);
    });
  },
} satisfies Contract & Record<string, unknown>;
