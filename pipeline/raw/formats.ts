/**
 * The raw file formats of docs/design.md as column lists plus one row validator each.
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
  trials: { kind: 'trials', columns: ['carrier_a', 'carrier_b', 'strategy', 'trial', 'outcome', 'packets', 'rate_pps'], optional: 2 },
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

/**
 * The domains of the numbers in raw files, checked at ingest (a value outside its domain
 * is a rejects row, never a silent clamp). README "What natatlas does with bad input"
 * lists them.
 */
export const DOMAINS = {
  /** Plausible capture times, epoch ms: 2000-01-01T00:00:00Z (inclusive) to 2100-01-01T00:00:00Z. */
  epochMs: [946_684_800_000, 4_102_444_800_000],
  /** Timeout probe delays, seconds: a NAT mapping that lives longer than a day is not measured by probes. */
  maxDelayS: 86_400,
  /** Packets per side in one punch trial: 1e9 is 116 days at 100 packets/s, far past any real trial. */
  maxTrialPackets: 1_000_000_000,
  /** Trial numbers: whole numbers a double holds exactly, so trial order is exact. */
  maxTrial: Number.MAX_SAFE_INTEGER,
  /**
   * A trial's send rate, packets per second per side: above 0 (a rate of 0 sends nothing)
   * and at most 10 million, under a 10 GbE link's 14.9 million minimum-size frames a
   * second; a punch from a phone or a lab namespace runs orders of magnitude below.
   */
  maxRatePps: 10_000_000,
} as const;

/**
 * A port, or a reason. Port 0 is only a value where the format gives it a meaning: the
 * phone's local port, where 0 means "any" (the real port is unknown); a packet never
 * travels from or to port 0, so every other port is 1..65535.
 */
export function parsePort(s: string, what: string, zeroMeansAny = false): number | string {
  if (!INT_RE.test(s)) return `${what} ${JSON.stringify(s)} is not an integer`;
  const v = Number(s);
  const lo = zeroMeansAny ? 0 : 1;
  if (v < lo || v > 65535) return `${what} ${s} is outside ${lo}..65535`;
  return v;
}

/** How a time is written: epoch milliseconds, epoch seconds, or milliseconds since the capture started. */
export type TimeUnit = 'ms' | 's' | 'relative-ms';

const [EPOCH_MIN_MS, EPOCH_MAX_MS] = DOMAINS.epochMs;
const EPOCH_MIN_S = EPOCH_MIN_MS / 1000;
const EPOCH_MAX_S = EPOCH_MAX_MS / 1000;

/** The unit a time's magnitude says it is in (the bands do not overlap), or null for none. */
export function timeUnitOf(v: number): TimeUnit | null {
  if (v >= EPOCH_MIN_MS && v < EPOCH_MAX_MS) return 'ms';
  if (v >= EPOCH_MIN_S && v < EPOCH_MAX_S) return 's';
  if (v >= 0 && v < EPOCH_MIN_S) return 'relative-ms';
  return null;
}

/**
 * The times of one capture file. The capture tools write epoch milliseconds; some write
 * epoch seconds, and hand-made or relative captures write small numbers. The three bands
 * do not overlap in magnitude, so each time says its own unit:
 *
 * - 946,684,800,000 to 4,102,444,800,000 (2000 to 2100 as epoch ms): milliseconds;
 * - 946,684,800 to 4,102,444,800 (2000 to 2100 as epoch seconds): seconds, converted to
 *   milliseconds (to the microsecond);
 * - 0 to 946,684,800 (under 11 days as elapsed ms): milliseconds since the capture
 *   started, kept as they are.
 *
 * Anything else (1e300, microseconds, negative, the gap between the bands) is rejected.
 * Epoch and relative times cannot be compared, so the first readable time of a file says
 * which of the two it holds, and a later time of the other kind is rejected. The counts
 * per unit let ingest warn about files in seconds.
 */
export class FileTimes {
  readonly counts: Record<TimeUnit, number> = { ms: 0, s: 0, 'relative-ms': 0 };
  /** The first readable time: whether the file is epoch or relative, and where that was decided. */
  first: { unit: TimeUnit; line: number; value: string } | null = null;

  /** Epoch (or relative) milliseconds, or a reason. */
  parse(s: string, lineNo: number): number | string {
    if (!NUM_RE.test(s)) return `time ${JSON.stringify(s)} is not a number`;
    const v = Number(s);
    const unit = timeUnitOf(v);
    if (unit === null) return `time ${s} is neither epoch milliseconds nor epoch seconds between 2000 and 2100 (nor elapsed milliseconds under ${EPOCH_MIN_S})`;
    if (this.fits(v) === null) {
      const kind = this.first!.unit === 'relative-ms' ? 'milliseconds since the capture started' : 'epoch times';
      return `time ${s} does not fit this file's times (${kind}, from line ${this.first!.line}: ${this.first!.value})`;
    }
    return this.take(v, unit, lineNo, s);
  }

  /** The unit of time `v` when `parse` would accept it (the file's first time, or one of its kind); null otherwise. Changes nothing. */
  fits(v: number): TimeUnit | null {
    const unit = timeUnitOf(v);
    if (unit === null) return null;
    if (this.first !== null && (unit === 'relative-ms') !== (this.first.unit === 'relative-ms')) return null;
    return unit;
  }

  /** Count a time that `fits` said is `unit` (written `text` on line `lineNo`); returns it in milliseconds. */
  take(v: number, unit: TimeUnit, lineNo: number, text: string): number {
    this.first ??= { unit, line: lineNo, value: text };
    this.counts[unit] += 1;
    return unit === 's' ? Math.round(v * 1e6) / 1e3 : v;
  }
}

/** A timeout probe delay: seconds, 0 to one day, or a reason. */
export function parseDelay(s: string, what: string): number | string {
  if (!NUM_RE.test(s)) return `${what} ${JSON.stringify(s)} is not a number`;
  const v = Number(s);
  if (!(v >= 0 && v <= DOMAINS.maxDelayS)) return `${what} ${s} is outside 0..${DOMAINS.maxDelayS} seconds (one day)`;
  return v;
}

/** A send rate in packets per second (decimals allowed: 0.5 is one packet every 2 s), or a reason. */
export function parseRate(s: string, what: string): number | string {
  if (!NUM_RE.test(s)) return `${what} ${JSON.stringify(s)} is not a number`;
  const v = Number(s);
  if (!(v > 0 && v <= DOMAINS.maxRatePps)) return `${what} ${s} is outside 0 (exclusive)..${DOMAINS.maxRatePps.toLocaleString('en-US')} packets per second`;
  return v;
}

/** A whole number 0..max, or a reason. */
export function parseCount(s: string, what: string, max: number): number | string {
  if (!/^\d+$/.test(s)) return `${what} ${JSON.stringify(s)} is not a whole number`;
  const v = Number(s);
  if (v > max) return `${what} ${s} is over ${max.toLocaleString('en-US')}`;
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
