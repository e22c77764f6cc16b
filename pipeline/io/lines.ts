/**
 * Streaming line reader: the file is read in 1 MiB chunks and each line handed to a
 * synchronous callback, so a capture of any size is never held as one string and no
 * per-line promise is paid (an async iterator per line measured 3x slower here).
 *
 * Work is linear in the file's size whatever its line lengths: each chunk is scanned for
 * newlines once, and a line spanning chunks is kept as a list of pieces joined once at
 * its end (re-concatenating and re-scanning a growing remainder made one 200 MB line
 * take 99 s). With `maxLineLength`, a longer line is never assembled: only its first
 * `maxLineLength` characters are kept and it goes to `onOverlong` instead of `onLine`.
 */
import fs from 'node:fs';

export type LineHandler = (line: string, lineNo: number) => void;

export interface LineStats {
  /** Chunks read. */
  chunks: number;
  /** Characters searched for a newline (each character of the file once). */
  scanned: number;
  /** Characters copied to assemble lines that spanned chunks. */
  copied: number;
}

export interface ReadLinesOptions {
  /** Lines longer than this many characters (UTF-16 code units, CR excluded) go to `onOverlong`. */
  maxLineLength?: number;
  /** An overlong line: its first `maxLineLength` characters and its full length. */
  onOverlong?: (head: string, length: number, lineNo: number) => void;
  /** Work counters, filled in as the file is read (for tests of linearity). */
  stats?: LineStats;
}

const CR = 13;

/**
 * Read `file` line by line; strips a UTF-8 BOM and CR of CRLF. Returns the line count
 * (overlong lines included).
 */
export async function readLines(file: string, onLine: LineHandler, options: ReadLinesOptions = {}): Promise<number> {
  const max = options.maxLineLength ?? Infinity;
  const onOverlong = options.onOverlong ?? ((_head: string, length: number, lineNo: number) => {
    throw new RangeError(`${file}:${lineNo}: line of ${length} characters is over the ${max}-character limit`);
  });
  const stats = options.stats ?? { chunks: 0, scanned: 0, copied: 0 };
  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let lineNo = 0;
  let first = true;
  // The line in progress across chunks: its pieces, or once over the cap only its head and length.
  let pieces: string[] = [];
  let pending = 0;
  let overlong = false;
  let head = '';
  let endsWithCr = false;

  const emit = (line: string) => {
    lineNo += 1;
    const length = line.length > 0 && line.charCodeAt(line.length - 1) === CR ? line.length - 1 : line.length;
    if (length > max) onOverlong(line.slice(0, max), length, lineNo);
    else onLine(length === line.length ? line : line.slice(0, length), lineNo);
  };
  const append = (piece: string) => {
    if (piece.length === 0) return;
    endsWithCr = piece.charCodeAt(piece.length - 1) === CR;
    pending += piece.length;
    if (overlong) return;
    pieces.push(piece);
    // Allow one more character: a CR that the end of the line strips.
    if (pending > max + 1) {
      const joined = pieces.join('');
      stats.copied += joined.length;
      head = joined.slice(0, max);
      pieces = [];
      overlong = true;
    }
  };
  const finishPending = () => {
    if (overlong) {
      lineNo += 1;
      onOverlong(head, endsWithCr ? pending - 1 : pending, lineNo);
    } else {
      const line = pieces.length === 1 ? pieces[0]! : pieces.join('');
      if (pieces.length > 1) stats.copied += line.length;
      emit(line);
    }
    pieces = [];
    pending = 0;
    overlong = false;
    head = '';
    endsWithCr = false;
  };

  for await (const chunk of stream as AsyncIterable<string>) {
    let text = chunk;
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    stats.chunks += 1;
    stats.scanned += text.length;
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      if (pending === 0) {
        // The common case, a line inside one chunk: one slice, CR of CRLF left out.
        const end = nl > start && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
        lineNo += 1;
        if (end - start > max) onOverlong(text.slice(start, start + max), end - start, lineNo);
        else onLine(text.slice(start, end), lineNo);
      } else {
        append(text.slice(start, nl));
        finishPending();
      }
      start = nl + 1;
    }
    if (start < text.length) append(start === 0 ? text : text.slice(start));
  }
  if (pending > 0) finishPending();
  return lineNo;
}
