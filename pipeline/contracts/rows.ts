/**
 * Row contracts kept as CSV (timeout probes, trials, rejects: thousands of rows; the
 * per-packet files are column files, io/columns.ts). The module owning a file fixes its
 * columns; its writer takes typed rows and its reader streams typed rows, checking the
 * header by name and every field it converts, so no caller indexes fields by position.
 * The on-disk format stays private to the contract module.
 *
 * Readers hand each row to a callback as one object reused for every row (millions of
 * rows, no garbage per row): copy what you keep.
 */
import { InputError } from '../errors.ts';
import { AtomicWriter } from '../io/atomic.ts';
import { csvRow, readRecords } from '../io/csv.ts';
import type { StageName } from './folder.ts';

/** Where a field came from, for error messages: `derived/<c>/joined/KPN.csv`, record 12. */
export interface At {
  label: string;
  line: number;
  writtenBy: StageName;
}

function bad(at: At, column: string, value: string, what: string): InputError {
  return new InputError(at.label, at.line, `${column} ${JSON.stringify(value)} is not ${what}: the file is damaged or from another natatlas; rerun \`natatlas ${at.writtenBy}\``);
}

export function intField(f: readonly string[], i: number, column: string, at: At, lo = 0, hi = Number.MAX_SAFE_INTEGER): number {
  const s = f[i] ?? '';
  const v = Number(s);
  if (s.length === 0 || !Number.isInteger(v) || v < lo || v > hi) throw bad(at, column, s, lo === 0 && hi === 65535 ? 'a port (0..65535)' : `a whole number in ${lo}..${hi}`);
  return v;
}

export function numField(f: readonly string[], i: number, column: string, at: At): number {
  const s = f[i] ?? '';
  const v = Number(s);
  if (s.length === 0 || !Number.isFinite(v)) throw bad(at, column, s, 'a number');
  return v;
}

/** `values` should be a constant: this runs per field of millions of rows. */
export function oneOf<const T extends string>(f: readonly string[], i: number, column: string, at: At, values: readonly T[]): T {
  const s = f[i] ?? '';
  for (const v of values) if (v === s) return v;
  throw bad(at, column, s, `one of ${values.join(', ')}`);
}

/**
 * What both table readers do with a file's records, whatever splits them: check the
 * header's leading `columns` by name, skip blank records, number the rest, and refuse a
 * file without a header.
 */
class TableRecords<Fields> {
  readonly where: At;
  rows = 0;
  constructor(
    private readonly at: Omit<At, 'line'>, private readonly columns: readonly string[],
    private readonly texts: (f: Fields) => string[], private readonly blank: (f: Fields) => boolean,
    private readonly onRecord: (fields: Fields, at: At) => void, private readonly onHeader?: (extraColumns: string[]) => void,
  ) {
    this.where = { ...at, line: 0 };
  }

  take(f: Fields, recordNo: number): void {
    this.where.line = recordNo;
    if (recordNo === 1) {
      const header = this.texts(f);
      if (this.columns.some((c, i) => header[i] !== c)) {
        throw new InputError(this.at.label, 1, `header ${JSON.stringify(header.join(','))} does not start with ${JSON.stringify(this.columns.join(','))}: written by another natatlas; rerun \`natatlas ${this.at.writtenBy}\``);
      }
      this.onHeader?.(header.slice(this.columns.length));
      return;
    }
    if (this.blank(f)) return;
    this.rows += 1;
    this.onRecord(f, this.where);
  }

  finish(): number {
    if (this.where.line === 0) throw new InputError(this.at.label, undefined, `empty (no header): rerun \`natatlas ${this.at.writtenBy}\``);
    return this.rows;
  }
}

/**
 * Stream the records of a CSV file natatlas wrote, after checking that its header
 * starts with `columns` (by name, in order). `onHeader` gets the header's further
 * columns; `onRecord` each later record with its place.
 */
export async function readTable(
  file: string, at: Omit<At, 'line'>, columns: readonly string[],
  onRecord: (fields: string[], at: At) => void, onHeader?: (extraColumns: string[]) => void,
): Promise<number> {
  const table = new TableRecords<string[]>(at, columns, (f) => f, (f) => f.length === 1 && f[0] === '', onRecord, onHeader);
  await readRecords(file, (f, recordNo) => table.take(f, recordNo));
  return table.finish();
}

/**
 * A CSV output built row by row and renamed into place by `commit` (or dropped by
 * `abort`). Each hot row kind has its own subclass with `write` written out, so the
 * call a stage makes per row is monomorphic (a shared `write` calling a per-kind format
 * function measured slower on a million rows).
 */
export abstract class RowWriter<Row> {
  protected readonly out: AtomicWriter;
  constructor(file: string, header: readonly string[]) {
    this.out = new AtomicWriter(file);
    this.out.write(`${csvRow(header)}\n`);
  }

  abstract write(row: Row): void;

  commit(): void {
    this.out.commit();
  }

  abort(): void {
    this.out.abort();
  }
}

/** A writer for a few rows (probes, trials, rejects): each row through `format`. */
export class FormattedRowWriter<Row> extends RowWriter<Row> {
  constructor(file: string, header: readonly string[], private readonly format: (row: Row) => string) {
    super(file, header);
  }

  write(row: Row): void {
    this.out.write(this.format(row));
  }
}
