/**
 * readLines (io/lines.ts) for callers that can parse most lines from bytes: each line
 * inside a 1 MiB chunk is first offered as a byte range, and only a line the caller
 * declines (returns false) is decoded to a string and handed to `onLine`, with the same
 * cap, BOM and CRLF handling as readLines. A line spanning two chunks is always decoded
 * (one per chunk, so the string path costs nothing measurable). On captures the byte
 * path builds no string per line, which is where the text reader spent its time
 * (UTF-8 decoding, slicing, and the garbage collector behind both).
 */
import fsp from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { CR, SpanningLine, lineLimits, type LineHandler, type ReadLinesOptions } from './lines.ts';

/** A line as bytes `buf[start, end)` (CR of CRLF excluded); false to have it decoded and sent to the string handler. */
export type ByteLineHandler = (buf: Buffer, start: number, end: number, lineNo: number) => boolean;

const LF = 10;

/** Returns the line count, overlong lines included (as readLines). */
export async function readLineBytes(file: string, onBytes: ByteLineHandler, onLine: LineHandler, options: ReadLinesOptions = {}): Promise<number> {
  const { max, onOverlong } = lineLimits(file, options);
  const stats = options.stats ?? { chunks: 0, scanned: 0, copied: 0 };
  const spanning = new SpanningLine(max, onLine, onOverlong, stats);
  // The spanning line's bytes are decoded piece by piece, so a character split by a chunk boundary stays whole.
  let decoder: StringDecoder | null = null;
  let lineNo = 0;
  let first = true;
  // One buffer for the whole file: a fresh 1 MiB chunk per read was garbage the collector kept chasing.
  const chunk = Buffer.allocUnsafe(1 << 20);
  const fh = await fsp.open(file, 'r');
  try {
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      lineNo = scan(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead), lineNo);
    }
  } finally {
    await fh.close();
  }
  // (scan sets decoder, which the compiler cannot see from here.)
  const open = decoder as StringDecoder | null;
  if (open !== null) {
    spanning.append(open.end());
    spanning.finish(++lineNo);
  }
  return lineNo;

  /** The lines of one chunk; nothing of `buf` is kept past the call (a spanning line's bytes are decoded). */
  function scan(buf: Buffer, lineNo: number): number {
    let start = 0;
    if (first) {
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
      first = false;
    }
    stats.chunks += 1;
    let nl: number;
    while ((nl = buf.indexOf(LF, start)) !== -1) {
      lineNo += 1;
      if (decoder === null) {
        const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
        if (!onBytes(buf, start, end, lineNo)) {
          const line = buf.toString('utf8', start, end);
          if (line.length > max) onOverlong(line.slice(0, max), line.length, lineNo);
          else onLine(line, lineNo);
        }
      } else {
        spanning.append(decoder.write(buf.subarray(start, nl)));
        spanning.append(decoder.end());
        decoder = null;
        spanning.finish(lineNo);
      }
      start = nl + 1;
    }
    if (start < buf.length) {
      decoder ??= new StringDecoder('utf8');
      spanning.append(decoder.write(buf.subarray(start)));
    }
    return lineNo;
  }
}
