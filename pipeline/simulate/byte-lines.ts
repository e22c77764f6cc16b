/**
 * ASCII rows assembled byte by byte in a reused Buffer and handed to an AtomicWriter
 * in 1 MiB strings. Building millions of short rows as JS strings spent most of the
 * simulator's time in the garbage collector and rope flattening; this path allocates
 * one string per chunk instead of several per row.
 */
import type { AtomicWriter } from '../io/atomic.ts';

const HEX_CODES = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  const h = i.toString(16).padStart(2, '0');
  HEX_CODES[2 * i] = h.charCodeAt(0);
  HEX_CODES[2 * i + 1] = h.charCodeAt(1);
}

/** AtomicWriter flushes at 1 MiB: handing it whole 1 MiB chunks spares it a join (one copy less). */
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

  /** `, ` — the capture tools' separator. */
  sep(): this {
    this.buf[this.pos++] = 44;
    this.buf[this.pos++] = 32;
    return this;
  }

  /** An integer in decimal (|n| < 2^53). */
  int(n: number): this {
    const buf = this.buf;
    if (n < 0) {
      buf[this.pos++] = 45;
      n = -n;
    }
    let len = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) len++;
    let p = this.pos + len;
    this.pos = p;
    while (n >= 10) {
      const q = Math.floor(n / 10);
      buf[--p] = 48 + (n - q * 10);
      n = q;
    }
    buf[--p] = 48 + n;
    return this;
  }

  private hexByte(b: number): void {
    this.buf[this.pos++] = HEX_CODES[2 * b]!;
    this.buf[this.pos++] = HEX_CODES[2 * b + 1]!;
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

  /** End the row; hands a full chunk to the writer. */
  end(): void {
    this.buf[this.pos++] = 10;
    if (this.pos >= CHUNK) this.flush();
  }

  flush(): void {
    if (this.pos === 0) return;
    this.out.write(this.buf.toString('latin1', 0, this.pos));
    this.pos = 0;
  }
}
