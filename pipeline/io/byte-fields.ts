/**
 * CSV fields of one line found as byte ranges, for the byte paths of ingest and join.
 * A line is split only when its fields mean exactly what splitFields (io/csv.ts) would
 * make of it; otherwise `split` returns false and the caller decodes the line and takes
 * the string path. So the byte path is a speed-up, never a second reading of the format.
 *
 * - `strict` (raw captures): printable ASCII only, no quotes or backslashes; spaces
 *   around a field are trimmed as the capture app's `, ` separator needs.
 * - otherwise (files natatlas wrote, io/csv.ts's csvField): a field is either plain,
 *   with no quote and nothing trim() would remove at its edges, or quoted whole.
 */

const COMMA = 44;
const QUOTE = 34;
const SPACE = 32;
const BACKSLASH = 92;

export class ByteFields {
  /** The line's bytes (valid until the next split). */
  buf: Buffer = Buffer.alloc(0);
  count = 0;
  /** Field i is buf[starts[i], ends[i]), quotes excluded for a quoted field. */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** 1 where field i was quoted (its `""` need unescaping). */
  readonly quoted: Uint8Array;

  constructor(readonly capacity = 64) {
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
    this.quoted = new Uint8Array(capacity);
  }

  /** Fields the string path split (io/csv.ts), held as bytes so readers use one interface for both paths. */
  static of(texts: string[]): ByteFields {
    const f = new ByteFields(Math.max(1, texts.length));
    const lengths = texts.map((t) => Buffer.byteLength(t, 'utf8'));
    f.buf = Buffer.from(texts.join(''), 'utf8');
    let at = 0;
    for (let i = 0; i < texts.length; i++) {
      f.starts[i] = at;
      at += lengths[i]!;
      f.ends[i] = at;
    }
    f.count = texts.length;
    return f;
  }

  /** Split `buf[start, end)`; false when the line must take the string path. */
  split(buf: Buffer, start: number, end: number, strict: boolean): boolean {
    this.buf = buf;
    let n = 0;
    let i = start;
    for (;;) {
      if (n === this.capacity) return false;
      if (strict) {
        while (i < end && buf[i] === SPACE) i++;
        const s = i;
        let last = i;
        for (; i < end; i++) {
          const c = buf[i]!;
          if (c === COMMA) break;
          if (c < SPACE || c > 126 || c === QUOTE || c === BACKSLASH) return false;
          if (c !== SPACE) last = i + 1;
        }
        this.starts[n] = s;
        this.ends[n] = last;
        this.quoted[n] = 0;
      } else if (i < end && buf[i] === QUOTE) {
        const s = i + 1;
        for (i = s; ; i++) {
          if (i >= end) return false;
          if (buf[i] === QUOTE) {
            if (i + 1 < end && buf[i + 1] === QUOTE) i++;
            else break;
          }
        }
        this.starts[n] = s;
        this.ends[n] = i;
        this.quoted[n] = 1;
        i++;
        if (i < end && buf[i] !== COMMA) return false;
      } else {
        const s = i;
        for (; i < end; i++) {
          const c = buf[i]!;
          if (c === COMMA) break;
          if (c === QUOTE) return false;
        }
        // trim() would remove ASCII whitespace, and some characters beyond ASCII, at the edges.
        if (i > s && (edgeUnsafe(buf[s]!) || edgeUnsafe(buf[i - 1]!))) return false;
        this.starts[n] = s;
        this.ends[n] = i;
        this.quoted[n] = 0;
      }
      n++;
      if (i >= end) break;
      i++;
    }
    this.count = n;
    return true;
  }

  /** Field i as splitFields would give it. */
  text(i: number): string {
    const s = this.buf.toString('utf8', this.starts[i], this.ends[i]);
    return this.quoted[i] === 1 ? s.replaceAll('""', '"') : s;
  }

  length(i: number): number {
    return this.ends[i]! - this.starts[i]!;
  }

  /** Whether field i is exactly the one ASCII character `c`. */
  isChar(i: number, c: number): boolean {
    return this.ends[i]! - this.starts[i]! === 1 && this.buf[this.starts[i]!] === c;
  }

  /** Whether field i's text is `ascii` (a word with no quote in it). */
  equals(i: number, ascii: Buffer): boolean {
    const s = this.starts[i]!;
    return this.ends[i]! - s === ascii.length && this.buf.compare(ascii, 0, ascii.length, s, this.ends[i]!) === 0;
  }

  /** Field i as a number, exactly as `Number(text)` (digits read straight from the bytes when that is all it holds). */
  number(i: number): number {
    const v = this.digits(i, 15);
    return v >= 0 ? v : Number(this.text(i));
  }

  /** Field i's value when it is 1 to `maxDigits` (at most 15) ASCII digits, else -1. */
  digits(i: number, maxDigits: number): number {
    const s = this.starts[i]!;
    const e = this.ends[i]!;
    if (e === s || e - s > maxDigits || this.quoted[i] === 1) return -1;
    let v = 0;
    for (let k = s; k < e; k++) {
      const d = this.buf[k]! - 48;
      if (d < 0 || d > 9) return -1;
      v = v * 10 + d;
    }
    return v;
  }

  /** Whether field i is a UUID in 8-4-4-4-12 hex (either case), the shape isUuid (raw/formats.ts) accepts. */
  isUuid(i: number): boolean {
    const s = this.starts[i]!;
    if (this.ends[i]! - s !== 36 || this.quoted[i] === 1) return false;
    const buf = this.buf;
    for (let k = 0; k < 36; k++) {
      const c = buf[s + k]!;
      if (k === 8 || k === 13 || k === 18 || k === 23) {
        if (c !== 45) return false;
      } else if (HEX_VALUE[c] === NOT_HEX) return false;
    }
    return true;
  }

  /**
   * The UUID in field i as four 32-bit words (the layout of UuidIndex), read in the same
   * pass that checks its shape; false (words undefined) when it is not one.
   */
  uuidWords(i: number, out: Uint32Array, at: number): boolean {
    const s = this.starts[i]!;
    if (this.ends[i]! - s !== 36 || this.quoted[i] === 1) return false;
    const buf = this.buf;
    if (buf[s + 8] !== 45 || buf[s + 13] !== 45 || buf[s + 18] !== 45 || buf[s + 23] !== 45) return false;
    const a = hexWord(buf, s, s + 8);
    const b = hexWord(buf, s + 9, s + 13) * 65536 + hexWord(buf, s + 14, s + 18);
    const c = hexWord(buf, s + 19, s + 23) * 65536 + hexWord(buf, s + 24, s + 28);
    const d = hexWord(buf, s + 28, s + 36);
    // A non-hex character puts its word past 32 bits.
    if (!(a <= 0xffffffff && b <= 0xffffffff && c <= 0xffffffff && d <= 0xffffffff)) return false;
    out[at] = a;
    out[at + 1] = b;
    out[at + 2] = c;
    out[at + 3] = d;
    return true;
  }
}

function edgeUnsafe(c: number): boolean {
  return c <= SPACE || c >= 0x80;
}

/** Hex digit values by character code; NOT_HEX (2^32, so any word holding one is past 32 bits) for other characters. */
const NOT_HEX = 2 ** 32;
const HEX_VALUE = new Float64Array(256).fill(NOT_HEX);
for (let d = 0; d < 10; d++) HEX_VALUE[48 + d] = d;
for (let d = 0; d < 6; d++) {
  HEX_VALUE[65 + d] = 10 + d;
  HEX_VALUE[97 + d] = 10 + d;
}

/** The hex digits `buf[start, end)` (at most 8) as a number; past 0xffffffff when one is not a hex digit (NOT_HEX). */
function hexWord(buf: Uint8Array, start: number, end: number): number {
  let v = 0;
  for (let k = start; k < end; k++) v = v * 16 + HEX_VALUE[buf[k]!]!;
  return v;
}
