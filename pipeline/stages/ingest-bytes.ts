/**
 * ingest's byte path for capture rows (issue 13 item 1): a client or server row that is
 * plain ASCII, has the file's column count, a UUID (or, server side, the end marker),
 * digit-only time and ports inside their domains, is read straight from the file's
 * bytes and written as its normalized row without a string per row. Any other line
 * (a header, blank, quoted, malformed or rejected one, a time the file's unit check
 * refuses) is declined and takes ingest's string path, which therefore alone decides
 * every reject and its message. tests/stages/ingest-bytes.test.ts runs both paths over
 * every capture file it can find and over hand-made edge lines.
 */
import { ByteFields } from '../io/byte-fields.ts';
import type { ByteLines } from '../io/byte-lines.ts';
import { END_MARKER, type ColumnMap, type FileTimes } from '../raw/formats.ts';
import type { CarrierIngest } from '../derived/ingested.ts';

/** What the byte path made of a line: not read (take the string path), a data row, or an end marker (a control row). */
export const ByteRow = { Declined: 0, Data: 1, Control: 2 } as const;
export type ByteRow = (typeof ByteRow)[keyof typeof ByteRow];

export type ByteRowHandler = (buf: Buffer, start: number, end: number, lineNo: number) => ByteRow;

/** Capture rows are ~70 bytes; a longer line (extras aside) goes the string path, which also owns the line-length cap. */
const MAX_LINE_BYTES = 4096;

const COMMA = 44;
const END_BYTES = Buffer.from(END_MARKER, 'latin1');
const PACKET = Buffer.from('packet', 'latin1');
const MARKER = Buffer.from('end-marker', 'latin1');

const declined: ByteRowHandler = () => ByteRow.Declined;

/**
 * The extras field (ingest's extrasJson: csvField of the JSON object) as the bytes
 * around each value: `"{""name"":""` value `"",""next"":""` value `""}"`. A value the
 * byte path passes is printable ASCII without quotes or backslashes, so JSON writes it
 * as it is. Null when the names would not come out in column order (numeric names come
 * first in a JS object; a repeated name keeps one value): such files take the string path.
 */
function extrasPieces(map: ColumnMap): Buffer[] | null {
  if (map.extras.length === 0) return [];
  const names = map.extras.map((e) => e.name);
  if (new Set(names).size !== names.length || names.some((n) => /^\d+$/.test(n))) return null;
  const key = (n: string) => JSON.stringify(n).replaceAll('"', '""');
  const pieces = names.map((n, i) => `${i === 0 ? '"{' : '"",'}${key(n)}:""`);
  pieces.push('""}"');
  return pieces.map((p) => Buffer.from(p, 'utf8'));
}

function writeExtras(out: ByteLines, pieces: Buffer[], map: ColumnMap, f: ByteFields): void {
  if (pieces.length === 0) return;
  for (let k = 0; k < map.extras.length; k++) {
    const piece = pieces[k]!;
    const i = map.extras[k]!.index;
    out.bytes(piece, 0, piece.length).bytes(f.buf, f.starts[i]!, f.ends[i]!);
  }
  const last = pieces[pieces.length - 1]!;
  out.bytes(last, 0, last.length);
}

function isEndMarker(f: ByteFields, i: number): boolean {
  return f.length(i) === END_BYTES.length && f.buf.compare(END_BYTES, 0, END_BYTES.length, f.starts[i]!, f.ends[i]!) === 0;
}

/** A port field's value when the string path would accept it as one (digits only), else -1. */
function port(f: ByteFields, i: number, lo: number): number {
  const v = f.digits(i, 9);
  return v >= lo && v <= 65535 ? v : -1;
}

/** Success `S`/`F` in either case, as the upper-case character code; 0 for anything else. */
function status(f: ByteFields, i: number): number {
  if (f.length(i) !== 1) return 0;
  const c = f.buf[f.starts[i]!]! & ~32;
  return c === 83 || c === 70 ? c : 0;
}

/** A time field's milliseconds when the string path would accept it, counting it in `times`; -1 to decline. Call last, once the row is otherwise good. */
function takeTime(f: ByteFields, i: number, times: FileTimes, lineNo: number): number {
  const v = f.digits(i, 15);
  if (v < 0) return -1;
  const unit = times.fits(v);
  if (unit === null) return -1;
  return times.take(v, unit, lineNo, times.first === null ? f.text(i) : '');
}

/** The byte path of ingest's client handler: the same normalized row, from bytes. */
export function clientBytes(map: ColumnMap, out: ByteLines, counts: CarrierIngest, times: FileTimes, runField: string): ByteRowHandler {
  const pieces = extrasPieces(map);
  if (pieces === null) return declined;
  const [iId, iTime, iLocal, iDest, iStatus] = map.known as [number, number, number, number, number];
  const f = new ByteFields(map.width);
  const runBytes = Buffer.from(runField, 'utf8');
  return (buf, start, end, lineNo) => {
    if (end - start > MAX_LINE_BYTES || !f.split(buf, start, end, true) || f.count !== map.width || !f.isUuid(iId)) return ByteRow.Declined;
    const local = port(f, iLocal, 0);
    const dest = port(f, iDest, 1);
    const s = status(f, iStatus);
    if (local < 0 || dest < 0 || s === 0) return ByteRow.Declined;
    const time = takeTime(f, iTime, times, lineNo);
    if (time < 0) return ByteRow.Declined;
    if (s === 83) counts.sent += 1;
    else counts.failed += 1;
    counts.clientRows += 1;
    out.bytes(runBytes, 0, runBytes.length).byte(COMMA).int(lineNo).byte(COMMA).lowerAscii(buf, f.starts[iId]!, f.ends[iId]!).byte(COMMA)
      .num(time).byte(COMMA).int(local).byte(COMMA).int(dest).byte(COMMA).byte(s).byte(COMMA);
    writeExtras(out, pieces, map, f);
    out.end();
    return ByteRow.Data;
  };
}

/** The byte path of ingest's server handler, end markers included. */
export function serverBytes(map: ColumnMap, out: ByteLines, counts: CarrierIngest, times: FileTimes, runField: string): ByteRowHandler {
  const pieces = extrasPieces(map);
  if (pieces === null) return declined;
  const [iId, iTime, iExt, iPort] = map.known as [number, number, number, number];
  const f = new ByteFields(map.width);
  const runBytes = Buffer.from(runField, 'utf8');
  return (buf, start, end, lineNo) => {
    if (end - start > MAX_LINE_BYTES || !f.split(buf, start, end, true) || f.count !== map.width) return ByteRow.Declined;
    const marker = !f.isUuid(iId);
    if (marker && !isEndMarker(f, iId)) return ByteRow.Declined;
    const ext = port(f, iExt, 1);
    const serverPort = port(f, iPort, 1);
    if (ext < 0 || serverPort < 0) return ByteRow.Declined;
    const time = takeTime(f, iTime, times, lineNo);
    if (time < 0) return ByteRow.Declined;
    out.bytes(runBytes, 0, runBytes.length).byte(COMMA).int(lineNo).byte(COMMA);
    if (marker) out.bytes(MARKER, 0, MARKER.length).byte(COMMA);
    else {
      counts.serverRows += 1;
      out.bytes(PACKET, 0, PACKET.length).byte(COMMA).lowerAscii(buf, f.starts[iId]!, f.ends[iId]!);
    }
    out.byte(COMMA).num(time).byte(COMMA).int(ext).byte(COMMA).int(serverPort).byte(COMMA);
    writeExtras(out, pieces, map, f);
    out.end();
    return marker ? ByteRow.Control : ByteRow.Data;
  };
}
