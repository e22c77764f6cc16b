/**
 * Rows assembled byte by byte in a reused Buffer and handed to an AtomicWriter in 1 MiB
 * pieces. Building millions of short rows as JS strings spent most of the simulator's
 * and ingest's time in the garbage collector, rope flattening and `writeSync` of the
 * flattened strings; this path allocates nothing per row.
 */
import type { AtomicWriter } from './atomic.ts';

const HEX_CODES = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  const h = i.toString(16).padStart(2, '0');
  HEX_CODES[2 * i] = h.charCodeAt(0);
  HEX_CODES[2 * i + 1] = h.charCodeAt(1);
}

const CHUNK = 1 << 20;

export class ByteLines {
  private buf = Buffer.allocUnsafe(CHUNK * 2);
  private pos = 0;

  constructor(private readonly out: AtomicWriter) {}

  /** Append text (ASCII / latin1). */
  text(s: string): this {
    if (this.pos + s.length > this.buf.length) {
      this.flush();
      if (s.length > this.buf.length) {
        this.out.write(s);
        return this;
      }
    }
    this.pos += this.buf.write(s, this.pos, 'latin1');
    return this;
  }

  /** Append text that may hold any character (UTF-8). */
  utf8(s: string): this {
    // Three bytes per UTF-16 unit at most.
    if (this.pos + 3 * s.length > this.buf.length) {
      this.flush();
      if (3 * s.length > this.buf.length) {
        this.out.write(s);
        return this;
      }
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
    return this;
  }

  /** Append `src[start, end)` as it is. */
  bytes(src: Uint8Array, start: number, end: number): this {
    if (this.pos + (end - start) > this.buf.length) {
      this.flush();
      if (end - start > this.buf.length) {
        this.out.writeBytes(src.subarray(start, end));
        return this;
      }
    }
    // Most pieces are a few bytes (a run name, a Sender IP): a loop beats making a view to copy from.
    if (end - start > 64) this.buf.set(src.subarray(start, end), this.pos);
    else for (let i = start, p = this.pos; i < end; i++, p++) this.buf[p] = src[i]!;
    this.pos += end - start;
    return this;
  }

  /** Append `src[start, end)` with ASCII A-Z lowercased (a UUID as the normalized files spell it). */
  lowerAscii(src: Uint8Array, start: number, end: number): this {
    const buf = this.buf;
    let p = this.pos;
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      buf[p++] = c >= 65 && c <= 90 ? c + 32 : c;
    }
    this.pos = p;
    return this;
  }

  /** One byte (an ASCII character code). */
  byte(c: number): this {
    this.buf[this.pos++] = c;
    return this;
  }

  /** `, ` — the capture tools' separator. */
  sep(): this {
    this.buf[this.pos++] = 44;
    this.buf[this.pos++] = 32;
    return this;
  }

  /** An integer in decimal (|n| < 2^53). */
  int(n: number): this {
    if (n < 0) {
      this.buf[this.pos++] = 45;
      n = -n;
    }
    // Epoch milliseconds pass 2^31: write the part above 10^9, then nine digits, each in int32 arithmetic.
    if (n >= 1e9) {
      const high = Math.floor(n / 1e9);
      return this.int(high).digits(n - high * 1e9, 9);
    }
    let len = 1;
    for (let m = n; m >= 10; m = (m / 10) | 0) len++;
    return this.digits(n, len);
  }

  /** `n` (0 <= n < 10^9) in exactly `len` digits, zero-padded. */
  private digits(n: number, len: number): this {
    const buf = this.buf;
    let p = this.pos + len;
    this.pos = p;
    for (let k = 0; k < len; k++) {
      const q = (n / 10) | 0;
      buf[--p] = 48 + (n - q * 10);
      n = q;
    }
    return this;
  }

  /** A number as `${n}` writes it (integers without building a string). */
  num(n: number): this {
    return Number.isSafeInteger(n) ? this.int(n) : this.text(String(n));
  }

  /** A UUID of four words as UuidIndex (stages/uuid-index.ts) keeps it: `words[at..at+3]`, lowercase. */
  uuidWords(w: Uint32Array, at: number): this {
    const a = w[at]!;
    const b = w[at + 1]!;
    const c = w[at + 2]!;
    const d = w[at + 3]!;
    this.hexByte(a >>> 24).hexByte((a >>> 16) & 255).hexByte((a >>> 8) & 255).hexByte(a & 255);
    this.buf[this.pos++] = 45;
    this.hexByte(b >>> 24).hexByte((b >>> 16) & 255);
    this.buf[this.pos++] = 45;
    this.hexByte((b >>> 8) & 255).hexByte(b & 255);
    this.buf[this.pos++] = 45;
    this.hexByte(c >>> 24).hexByte((c >>> 16) & 255);
    this.buf[this.pos++] = 45;
    this.hexByte((c >>> 8) & 255).hexByte(c & 255);
    this.hexByte(d >>> 24).hexByte((d >>> 16) & 255).hexByte((d >>> 8) & 255).hexByte(d & 255);
    return this;
  }

  private hexByte(b: number): this {
    this.buf[this.pos++] = HEX_CODES[2 * b]!;
    this.buf[this.pos++] = HEX_CODES[2 * b + 1]!;
    return this;
  }

  /** The UUID of four words, byte for byte what `uuidFromWords` (random.ts) returns. */
  uuid(a: number, b: number, c: number, d: number): this {
    const v = (b & 0x0fff) | 0x4000;
    const w = ((c >>> 16) & 0x3fff) | 0x8000;
    this.hexByte(a >>> 24);
    this.hexByte((a >>> 16) & 255);
    this.hexByte((a >>> 8) & 255);
    this.hexByte(a & 255);
    this.buf[this.pos++] = 45;
    this.hexByte(b >>> 24);
    this.hexByte((b >>> 16) & 255);
    this.buf[this.pos++] = 45;
    this.hexByte(v >>> 8);
    this.hexByte(v & 255);
    this.buf[this.pos++] = 45;
    this.hexByte(w >>> 8);
    this.hexByte(w & 255);
    this.buf[this.pos++] = 45;
    this.hexByte((c >>> 8) & 255);
    this.hexByte(c & 255);
    this.hexByte(d >>> 24);
    this.hexByte((d >>> 16) & 255);
    this.hexByte((d >>> 8) & 255);
    this.hexByte(d & 255);
    return this;
  }

  /**
   * End the row; hands a full chunk to the writer. A row must fit the buffer's spare
   * half (1 MiB) except through text/utf8/bytes, which check room themselves.
   */
  end(): void {
    this.buf[this.pos++] = 10;
    if (this.pos >= CHUNK) this.flush();
  }

  /** Hand everything so far to the writer (before the writer is committed or written to directly). */
  flush(): void {
    if (this.pos === 0) return;
    this.out.writeBytes(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }
}
