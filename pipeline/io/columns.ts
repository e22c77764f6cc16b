/**
 * natatlas column files: the binary layout of the per-packet intermediates (normalized
 * client and server rows, joined rows; issue 13 item 2). A reader maps a file into typed
 * arrays with one read and no parsing, so the stages after ingest never split, decode or
 * convert a capture's text again. The contract modules (contracts/ingest-rows.ts,
 * contracts/joined.ts) own which columns a file has; this module owns the layout:
 *
 * ```
 * offset 0   8 bytes  magic "NATCOLS\n"
 *        8   u32      layout version (1)
 *        12  u32      M, the byte length of the metadata
 *        16  M bytes  metadata, UTF-8 JSON: {"schema": "natatlas.<contract>/<n>", "rows": n,
 *                     "columns": [{"name", "type": "u8"|"u16"|"u32"|"f64", "width", "offset", "bytes"}],
 *                     "dictionaries": {"<column>": ["value", ...]}}
 *        ...          zero padding to a multiple of 8
 *        offset_i     column i: rows x width little-endian values, each column 8-byte aligned,
 *                     in the metadata's order, the last one ending the file
 * ```
 *
 * `width` is the values per row (a UUID is 4 x u32: its hex digits 0-7, 8-15, 16-23,
 * 24-31, the words stages/uuid-index.ts keys on). A column with a dictionary holds u32
 * ids into it (run names, extras: rows repeat them). A reader checks the magic, the
 * version, the schema name, every expected column's name, type and width, and that the
 * columns tile the file exactly, so a truncated, foreign or stale file is an InputError
 * naming the file and the stage to rerun, never a wrong number.
 *
 * Why not Arrow IPC (`@uwdata/flechette`): the same typed arrays either way, but this
 * layout is ~150 lines we control end to end (no dependency whose version a consumer's
 * lockfile decides: npm overrides do not reach consumers), reads with one `readSync`,
 * and writes the same bytes on every machine. docs/design.md has the measurements.
 */
import fs from 'node:fs';
import os from 'node:os';
import { InputError, NatatlasError } from '../errors.ts';
import { AtomicWriter } from './atomic.ts';
import { asUserError } from './fs-errors.ts';

export const COLUMNS_MAGIC = Buffer.from('NATCOLS\n', 'latin1');
export const COLUMNS_VERSION = 1;
const PREFIX = 16;

export type ColumnType = 'u8' | 'u16' | 'u32' | 'f64';
type Typed = Uint8Array | Uint16Array | Uint32Array | Float64Array;

const SIZE: Record<ColumnType, number> = { u8: 1, u16: 2, u32: 4, f64: 8 };

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** Values per row (default 1). */
  width?: number;
  /** Ids into a dictionary of strings stored with the file (type u32). */
  dictionary?: boolean;
}

interface StoredColumn {
  name: string;
  type: ColumnType;
  width: number;
  offset: number;
  bytes: number;
}

interface Meta {
  schema: string;
  rows: number;
  columns: StoredColumn[];
  dictionaries: Record<string, string[]>;
}

function make(type: ColumnType, n: number): Typed {
  switch (type) {
    case 'u8': return new Uint8Array(n);
    case 'u16': return new Uint16Array(n);
    case 'u32': return new Uint32Array(n);
    case 'f64': return new Float64Array(n);
  }
}

function view(type: ColumnType, buf: ArrayBuffer, offset: number, length: number): Typed {
  switch (type) {
    case 'u8': return new Uint8Array(buf, offset, length);
    case 'u16': return new Uint16Array(buf, offset, length);
    case 'u32': return new Uint32Array(buf, offset, length);
    case 'f64': return new Float64Array(buf, offset, length);
  }
}

function checkHost(): void {
  // Typed arrays use the host's byte order; the layout is little-endian.
  if (os.endianness() !== 'LE') throw new NatatlasError('natatlas column files need a little-endian machine');
}

const pad8 = (n: number) => (n + 7) & ~7;

/** Ids for a dictionary column's strings, in order of first appearance (the same values give the same file). */
export class Dictionary {
  readonly values: string[] = [];
  private readonly ids = new Map<string, number>();

  constructor(initial: readonly string[] = []) {
    for (const v of initial) this.id(v);
  }

  id(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(value, id);
    }
    return id;
  }
}

/**
 * A column file built row by row in growable typed arrays, written whole and renamed into
 * place by `commit` (or dropped by `abort`). Rows are appended by writing into `col(i)`
 * at `rows` after `grow()`; callers own the order of their columns.
 */
export class ColumnFileWriter {
  private cols: Typed[];
  private capacity = 1024;
  rows = 0;
  readonly dictionaries: (Dictionary | null)[];

  constructor(readonly file: string, private readonly schema: string, private readonly specs: readonly ColumnSpec[]) {
    checkHost();
    this.cols = specs.map((s) => make(s.type, this.capacity * (s.width ?? 1)));
    this.dictionaries = specs.map((s) => (s.dictionary ? new Dictionary() : null));
  }

  /** Room for one more row; returns its index. Grown by doubling, so a million rows cost ~20 copies. */
  grow(): number {
    if (this.rows === this.capacity) this.reserve(this.capacity * 2);
    return this.rows++;
  }

  /** Room for `rows` rows in all, in one copy (writers that know their row count). */
  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = rows;
    this.cols = this.cols.map((c, i) => {
      const next = make(this.specs[i]!.type, this.capacity * (this.specs[i]!.width ?? 1));
      next.set(c.subarray(0, this.rows * (this.specs[i]!.width ?? 1)));
      return next;
    });
  }

  /** Column i's values so far (valid until the next `grow`). */
  col(i: number): Typed {
    return this.cols[i]!;
  }

  commit(): void {
    const columns: StoredColumn[] = [];
    const dictionaries: Record<string, string[]> = {};
    this.specs.forEach((s, i) => {
      const width = s.width ?? 1;
      columns.push({ name: s.name, type: s.type, width, offset: 0, bytes: this.rows * width * SIZE[s.type] });
      const d = this.dictionaries[i];
      if (d) dictionaries[s.name] = d.values;
    });
    // Offsets depend on the metadata's length, which depends on the offsets' digits: repeat until the length holds still.
    let metaBytes = Buffer.alloc(0);
    for (let length = 0; ;) {
      let at = pad8(PREFIX + length);
      for (const c of columns) {
        c.offset = at;
        at = pad8(at + c.bytes);
      }
      const meta: Meta = { schema: this.schema, rows: this.rows, columns, dictionaries };
      metaBytes = Buffer.from(JSON.stringify(meta), 'utf8');
      if (metaBytes.length === length) break;
      length = metaBytes.length;
    }
    const head = Buffer.alloc(pad8(PREFIX + metaBytes.length));
    COLUMNS_MAGIC.copy(head, 0);
    head.writeUInt32LE(COLUMNS_VERSION, 8);
    head.writeUInt32LE(metaBytes.length, 12);
    metaBytes.copy(head, PREFIX);
    const out = new AtomicWriter(this.file);
    try {
      out.writeBytes(head);
      let at = head.length;
      columns.forEach((c, i) => {
        const data = this.cols[i]!;
        const bytes = new Uint8Array(data.buffer, data.byteOffset, c.bytes);
        out.writeBytes(bytes);
        at += c.bytes;
        const padded = pad8(at);
        // The last column ends the file: no padding after it.
        if (i < columns.length - 1 && padded > at) {
          out.writeBytes(new Uint8Array(padded - at));
          at = padded;
        }
      });
      out.commit();
    } catch (e) {
      out.abort();
      throw e;
    }
  }

  abort(): void {
    this.cols = [];
  }
}

/** Where a column file came from, for messages: its shown path and the command that rewrites it. */
export interface ColumnFileLabel {
  label: string;
  writtenBy: string;
}

/** A column file read into memory: typed-array views over one buffer. */
export class ColumnFile {
  private constructor(
    readonly rows: number, private readonly byName: Map<string, Typed>, private readonly dicts: Record<string, string[]>,
    private readonly stored: readonly StoredColumn[], private readonly damaged: (why: string) => InputError,
  ) {}

  /** Check that the file holds `specs` (name, type, width; a loaded dictionary column's ids inside its dictionary). */
  check(specs: readonly ColumnSpec[]): void {
    for (const s of specs) {
      const c = this.stored.find((x) => x.name === s.name);
      if (!c || c.type !== s.type || c.width !== (s.width ?? 1)) throw this.damaged(`no ${s.type} column ${JSON.stringify(s.name)}`);
      if (s.dictionary) {
        const d = this.dicts[s.name];
        if (!Array.isArray(d)) throw this.damaged(`no dictionary for column ${JSON.stringify(s.name)}`);
        const ids = this.byName.get(s.name) as Uint32Array | undefined;
        if (ids) for (let i = 0; i < ids.length; i++) if (ids[i]! >= d.length) throw this.damaged(`column ${JSON.stringify(s.name)} row ${i + 1} has id ${ids[i]} past its dictionary`);
      }
    }
  }

  /** The file's column names, in its order (loaded or not). */
  get names(): string[] {
    return this.stored.map((c) => c.name);
  }

  /**
   * Read `file` and check it holds `specs` (by name, type and width) under `schema`. With
   * `only`, just the columns it accepts are read (each with its own read at its offset): a reader
   * that needs the ports of a joined file skips the UUIDs and times, most of its bytes.
   * The layout is checked in full either way.
   */
  static read(file: string, at: ColumnFileLabel, schema: string, specs: readonly ColumnSpec[], only?: (name: string) => boolean): ColumnFile {
    checkHost();
    const damaged = (why: string) => new InputError(at.label, undefined, `${why}: the file is damaged or not a natatlas column file; rerun \`natatlas ${at.writtenBy}\``);
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw asUserError(e, file);
    }
    try {
      const size = fs.fstatSync(fd).size;
      const readAt = (bytes: Uint8Array, position: number): void => {
        let got = 0;
        while (got < bytes.length) {
          const n = fs.readSync(fd, bytes, got, bytes.length - got, position + got);
          if (n === 0) break;
          got += n;
        }
        if (got !== bytes.length) throw damaged(`read ${position + got} of ${size} bytes`);
      };
      if (only === undefined) {
        const buf = new ArrayBuffer(size);
        readAt(new Uint8Array(buf), 0);
        return ColumnFile.parse(buf, size, at, schema, specs, damaged, (c) => ({ buf, offset: c.offset }));
      }
      const prefix = Buffer.alloc(Math.min(size, PREFIX));
      readAt(prefix, 0);
      const metaLength = size >= PREFIX && prefix.subarray(0, 8).equals(COLUMNS_MAGIC) ? prefix.readUInt32LE(12) : 0;
      const head = new ArrayBuffer(Math.min(size, PREFIX + metaLength));
      readAt(new Uint8Array(head), 0);
      return ColumnFile.parse(head, size, at, schema, specs, damaged, (c) => {
        if (!only(c.name)) return null;
        const buf = new ArrayBuffer(c.bytes);
        readAt(new Uint8Array(buf), c.offset);
        return { buf, offset: 0 };
      });
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw asUserError(e, file);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The header in `head` (the file's first bytes, or all of them), checked against a file of `size` bytes; `load` gives each column's bytes (null: not wanted). */
  private static parse(
    head: ArrayBuffer, size: number, at: ColumnFileLabel, schema: string, specs: readonly ColumnSpec[], damaged: (why: string) => InputError,
    load: (c: StoredColumn) => { buf: ArrayBuffer; offset: number } | null,
  ): ColumnFile {
    const bytes = Buffer.from(head);
    if (bytes.length < PREFIX || !bytes.subarray(0, 8).equals(COLUMNS_MAGIC)) throw damaged('no NATCOLS header');
    const version = bytes.readUInt32LE(8);
    if (version !== COLUMNS_VERSION) throw damaged(`column layout version ${version}, expected ${COLUMNS_VERSION}`);
    const metaLength = bytes.readUInt32LE(12);
    if (PREFIX + metaLength > size || PREFIX + metaLength > bytes.length) throw damaged('truncated in its header');
    let meta: Meta;
    try {
      meta = JSON.parse(bytes.toString('utf8', PREFIX, PREFIX + metaLength)) as Meta;
    } catch {
      throw damaged('unreadable header');
    }
    if (meta.schema !== schema) throw new InputError(at.label, undefined, `holds ${JSON.stringify(meta.schema)}, expected ${JSON.stringify(schema)}: written by another natatlas; rerun \`natatlas ${at.writtenBy}\``);
    if (!Number.isSafeInteger(meta.rows) || meta.rows < 0 || !Array.isArray(meta.columns)) throw damaged('bad row count');
    let end = pad8(PREFIX + metaLength);
    for (const c of meta.columns) {
      const width = SIZE[c.type];
      if (width === undefined || c.offset !== end || c.bytes !== meta.rows * c.width * width) throw damaged(`column ${JSON.stringify(c.name)} does not fit the layout`);
      if (c.offset + c.bytes > size) throw damaged(`truncated (column ${JSON.stringify(c.name)} needs ${c.offset + c.bytes} bytes, the file has ${size})`);
      end = pad8(c.offset + c.bytes);
    }
    const last = meta.columns.at(-1);
    const fileEnd = last ? last.offset + last.bytes : pad8(PREFIX + metaLength);
    if (fileEnd !== size) throw damaged(`${size - fileEnd} bytes after its last column`);
    const byName = new Map<string, Typed>();
    for (const c of meta.columns) {
      const got = load(c);
      if (got) byName.set(c.name, view(c.type, got.buf, got.offset, c.bytes / SIZE[c.type]));
    }
    const read = new ColumnFile(meta.rows, byName, meta.dictionaries ?? {}, meta.columns, damaged);
    read.check(specs);
    return read;
  }

  u8(name: string): Uint8Array {
    return this.byName.get(name) as Uint8Array;
  }

  u16(name: string): Uint16Array {
    return this.byName.get(name) as Uint16Array;
  }

  u32(name: string): Uint32Array {
    return this.byName.get(name) as Uint32Array;
  }

  f64(name: string): Float64Array {
    return this.byName.get(name) as Float64Array;
  }

  dictionary(name: string): string[] {
    return this.dicts[name] ?? [];
  }
}
