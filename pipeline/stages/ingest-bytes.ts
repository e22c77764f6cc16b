/**
 * ingest's byte path for capture rows (issue 13 item 1): a client or server row that is
 * plain ASCII, has the file's column count, a UUID (or, server side, the end marker),
 * digit-only time and ports inside their domains, is read straight from the file's
 * bytes and handed to the contract's byte-level writer (contracts/ingest-rows.ts
 * `writeBytes`) without a string per row. Any other line (a header, blank, quoted,
 * malformed or rejected one, a time the file's unit check refuses) is declined and takes
 * ingest's string path, which therefore alone decides every reject and its message.
 * tests/stages/ingest-bytes.test.ts runs both paths over every capture file it can find
 * and over hand-made edge lines.
 */
import { ByteFields } from '../io/byte-fields.ts';
import { END_MARKER, type ColumnMap, type FileTimes } from '../raw/formats.ts';
import type { CarrierIngest } from '../contracts/manifest.ts';
import {
  ExtrasBytes, type ClientRowFromBytes, type ClientRowWriter, type ServerRowFromBytes, type ServerRowWriter,
} from '../contracts/ingest-rows.ts';

/** What the byte path made of a line: not read (take the string path), a data row, or an end marker (a control row). */
export const ByteRow = { Declined: 0, Data: 1, Control: 2 } as const;
export type ByteRow = (typeof ByteRow)[keyof typeof ByteRow];

export type ByteRowHandler = (buf: Buffer, start: number, end: number, lineNo: number) => ByteRow;

/** Capture rows are ~70 bytes; a longer line (extras aside) goes the string path, which also owns the line-length cap. */
const MAX_LINE_BYTES = 4096;

const END_BYTES = Buffer.from(END_MARKER, 'latin1');

const declined: ByteRowHandler = () => ByteRow.Declined;

function extrasOf(map: ColumnMap): ExtrasBytes | null {
  return ExtrasBytes.of(map.extras.map((e) => e.name), map.extras.map((e) => e.index));
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
export function clientBytes(map: ColumnMap, out: ClientRowWriter, counts: CarrierIngest, times: FileTimes): ByteRowHandler {
  const extras = extrasOf(map);
  if (extras === null) return declined;
  const [iId, iTime, iLocal, iDest, iStatus] = map.known as [number, number, number, number, number];
  const f = new ByteFields(map.width);
  const row: ClientRowFromBytes = { line: 0, time: 0, f, uuidField: iId, extras, localPort: 0, destPort: 0, status: 'S' };
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
    row.line = lineNo;
    row.time = time;
    row.localPort = local;
    row.destPort = dest;
    row.status = s === 83 ? 'S' : 'F';
    out.writeBytes(row);
    return ByteRow.Data;
  };
}

/** The byte path of ingest's server handler, end markers included. */
export function serverBytes(map: ColumnMap, out: ServerRowWriter, counts: CarrierIngest, times: FileTimes): ByteRowHandler {
  const extras = extrasOf(map);
  if (extras === null) return declined;
  const [iId, iTime, iExt, iPort] = map.known as [number, number, number, number];
  const f = new ByteFields(map.width);
  const row: ServerRowFromBytes = { line: 0, time: 0, f, uuidField: iId, extras, marker: false, externalPort: 0, serverPort: 0 };
  return (buf, start, end, lineNo) => {
    if (end - start > MAX_LINE_BYTES || !f.split(buf, start, end, true) || f.count !== map.width) return ByteRow.Declined;
    const marker = !f.isUuid(iId);
    if (marker && !f.equals(iId, END_BYTES)) return ByteRow.Declined;
    const ext = port(f, iExt, 1);
    const serverPort = port(f, iPort, 1);
    if (ext < 0 || serverPort < 0) return ByteRow.Declined;
    const time = takeTime(f, iTime, times, lineNo);
    if (time < 0) return ByteRow.Declined;
    if (!marker) counts.serverRows += 1;
    row.line = lineNo;
    row.time = time;
    row.marker = marker;
    row.externalPort = ext;
    row.serverPort = serverPort;
    out.writeBytes(row);
    return marker ? ByteRow.Control : ByteRow.Data;
  };
}
