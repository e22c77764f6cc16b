/**
 * Streaming line reader: the file is read in 1 MiB chunks and each line handed to a
 * synchronous callback, so a capture of any size is never held as one string and no
 * per-line promise is paid (an async iterator per line measured 3x slower here).
 */
import fs from 'node:fs';

export type LineHandler = (line: string, lineNo: number) => void;

/** Read `file` line by line; strips a UTF-8 BOM and CR of CRLF. Returns the line count. */
export async function readLines(file: string, onLine: LineHandler): Promise<number> {
  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  let lineNo = 0;
  let first = true;
  for await (const chunk of stream as AsyncIterable<string>) {
    let text = rest + chunk;
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      lineNo += 1;
      onLine(text.slice(start, end), lineNo);
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest.length > 0) {
    lineNo += 1;
    onLine(rest.endsWith('\r') ? rest.slice(0, -1) : rest, lineNo);
  }
  return lineNo;
}
