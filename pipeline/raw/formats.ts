/**
 * The raw file formats of DESIGN.md as column lists plus one row validator each.
 * Headers are matched loosely (case, spaces and underscores ignored, so `Message id`
 * and `message_id` agree); columns past the known ones are kept as extras by name.
 * A validator returns the parsed row or a reason string that becomes a rejects row.
 */

export type FileKind = 'client' | 'server' | 'timeouts' | 'trials';

export interface FormatSpec {
  kind: FileKind;
  /** Display names, in the order the capture tools write them. */
  columns: readonly string[];
  /** Trailing known columns that may be missing from a file (header and rows). */
  optional: number;
}

export const FORMATS: Record<FileKind, FormatSpec> = {
  client: { kind: 'client', columns: ['Message id', 'Time', 'Sender Port', 'Receiver Port', 'Success'], optional: 0 },
  server: { kind: 'server', columns: ['Message id', 'Time', 'Sender Port', 'Receiver Port'], optional: 0 },
  timeouts: { kind: 'timeouts', columns: ['probe_id', 'kind', 'delay_s', 'replied'], optional: 0 },
  trials: { kind: 'trials', columns: ['carrier_a', 'carrier_b', 'strategy', 'trial', 'outcome', 'packets'], optional: 1 },
};

/** The message id the phone's end-of-run markers carry. */
export const END_MARKER = 'END OF MESSAGE';

export function headerKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export interface ColumnMap {
  /** Index in the row of each known column (-1 when an optional column is absent). */
  known: number[];
  /** Extra columns: original header name and index. */
  extras: { name: string; index: number }[];
  width: number;
  hasHeader: boolean;
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isUuid(s: string): boolean {
  return s.length === 36 && UUID_RE.test(s);
}

/**
 * Read the first line of a file as its header. Returns a reason when the line is
 * neither a header naming the columns nor (for captures) a data row, in which case
 * the whole file is unreadable.
 */
export function mapColumns(spec: FormatSpec, fields: string[]): ColumnMap | string {
  const keys = fields.map(headerKey);
  const known = spec.columns.map((c) => keys.indexOf(headerKey(c)));
  const required = spec.columns.length - spec.optional;
  const missing = spec.columns.filter((_, i) => i < required && known[i] === -1);
  if (missing.length === 0) {
    const used = new Set(known.filter((i) => i >= 0));
    const extras = fields.map((name, index) => ({ name, index })).filter((c) => !used.has(c.index));
    return { known, extras, width: fields.length, hasHeader: true };
  }
  // Some capture logs start without a header: accept them positionally when the first line is data.
  if ((spec.kind === 'client' || spec.kind === 'server') && (isUuid(fields[0] ?? '') || fields[0] === END_MARKER) && fields.length >= spec.columns.length) {
    const extras = fields.slice(spec.columns.length).map((_, i) => ({ name: `extra_${spec.columns.length + i + 1}`, index: spec.columns.length + i }));
    return { known: spec.columns.map((_, i) => i), extras, width: fields.length, hasHeader: false };
  }
  return `header does not name the column${missing.length > 1 ? 's' : ''} ${missing.map((m) => JSON.stringify(m)).join(', ')}; expected ${spec.columns.join(', ')}`;
}

const INT_RE = /^-?\d+$/;
const NUM_RE = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** A port 0..65535, or a reason. */
export function parsePort(s: string, what: string): number | string {
  if (!INT_RE.test(s)) return `${what} ${JSON.stringify(s)} is not an integer`;
  const v = Number(s);
  if (v < 0 || v > 65535) return `${what} ${s} is outside 0..65535`;
  return v;
}

/** Epoch milliseconds, or a reason. */
export function parseTime(s: string): number | string {
  if (!NUM_RE.test(s)) return `time ${JSON.stringify(s)} is not a number`;
  const v = Number(s);
  if (!Number.isFinite(v) || v < 0) return `time ${s} is not a non-negative number`;
  return v;
}

export function parseNonNegative(s: string, what: string): number | string {
  if (!NUM_RE.test(s)) return `${what} ${JSON.stringify(s)} is not a number`;
  const v = Number(s);
  if (!Number.isFinite(v) || v < 0) return `${what} ${s} is negative`;
  return v;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 's', 'replied']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'f', 'timeout']);

export function parseBool(s: string, what: string): boolean | string {
  const k = s.toLowerCase();
  if (TRUE_WORDS.has(k)) return true;
  if (FALSE_WORDS.has(k)) return false;
  return `${what} ${JSON.stringify(s)} is not true/false`;
}

/** Reason for a message id that is neither a UUID nor an end marker. */
export function badMessageId(fields: string[]): string {
  const id = fields[0] ?? '';
  if (/^failed$/i.test(id) && fields.length >= 4 && /^to$/i.test(fields[1] ?? '')) {
    return `server log line, not a packet: could not bind port ${fields[fields.length - 1]}`;
  }
  return `message id ${JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}...` : id)} is not a UUID`;
}
