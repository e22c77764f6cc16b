/**
 * Contract `joined/<carrier>.csv` (written by join): one row per matched packet (sent,
 * seen by the server once), in send order within each run, across all of a carrier's
 * runs; then the capture's extra columns, client side first. Fit, the report and
 * compare read it.
 *
 * Today the rows are CSV; readers stream typed rows and the writer takes them, so a
 * change of format (issue 13: columnar binary) stays inside this module.
 */
import fs from 'node:fs';
import type { StageContext } from '../context.ts';
import { csvField } from '../io/csv.ts';
import { sha256File } from '../io/hash.ts';
import type { FileNames } from '../io/names.ts';
import { derivedFile, filesUnder, type Contract, type OutputFolder } from './folder.ts';
import { shownRel } from './json.ts';
import { intField, numField, readTable, RowWriter } from './rows.ts';

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

class JoinedRowWriter extends RowWriter<JoinedRow> {
  // Consecutive rows share their run: quote its name once per run, not per row.
  private run = '';
  private runField = '';

  write(r: JoinedRow): void {
    if (r.run !== this.run) {
      this.run = r.run;
      this.runField = csvField(r.run);
    }
    let line = `${r.uuid},${this.runField},${r.sendSeq},${r.sendTime},${r.recvTime},${r.localPort},${r.destPort},${r.externalPort},${r.serverPort}`;
    for (const e of r.extras) line += `,${csvField(e)}`;
    this.out.write(`${line}\n`);
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
  open(out: OutputFolder, stem: string, extraColumns: readonly string[]): RowWriter<JoinedRow> {
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
