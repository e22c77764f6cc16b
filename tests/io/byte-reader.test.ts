/**
 * readLineBytes against readLines (tests/io/lines.test.ts checks that one by hand): on
 * files whose lines cross the 1 MiB read boundary, with multi-byte and invalid UTF-8,
 * CRLF, a BOM and lines over the cap, both must give the same lines with the same
 * numbers, whether the byte handler takes every ASCII line or declines them all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readLines } from '../../pipeline/io/lines.ts';
import { readLineBytes } from '../../pipeline/io/byte-reader.ts';
import { tempDir } from '../helpers/tmp.ts';

type Seen = [kind: 'line' | 'overlong', text: string, length: number, lineNo: number];

async function viaText(file: string, max: number): Promise<Seen[]> {
  const seen: Seen[] = [];
  await readLines(file, (l, n) => seen.push(['line', l, l.length, n]), { maxLineLength: max, onOverlong: (h, len, n) => seen.push(['overlong', h, len, n]) });
  return seen;
}

async function viaBytes(file: string, max: number, takeAscii: boolean): Promise<Seen[]> {
  const seen: Seen[] = [];
  const onBytes = (buf: Buffer, start: number, end: number, n: number): boolean => {
    if (!takeAscii || end - start > max) return false;
    for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return false;
    const l = buf.toString('latin1', start, end);
    seen.push(['line', l, l.length, n]);
    return true;
  };
  await readLineBytes(file, onBytes, (l, n) => seen.push(['line', l, l.length, n]), { maxLineLength: max, onOverlong: (h, len, n) => seen.push(['overlong', h, len, n]) });
  return seen;
}

/** A deterministic file of ~4 MiB: short lines, and every 1000th line 40k-100k characters long, crossing read boundaries. */
function messyFile(dir: string): string {
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const parts: Buffer[] = [Buffer.from([0xef, 0xbb, 0xbf])];
  const pieces = ['abc', ', ', '\u00e9', '\u20ac', '\ud83d\ude00', ' ', '"', '9'];
  const short = (n: number) => Array.from({ length: n }, () => pieces[Math.floor(rand() * pieces.length)]).join('');
  for (let i = 0; i < 40_000; i++) {
    // A long line: a random block repeated (its length in UTF-16 units straddles the 65,536 cap).
    const s = i % 1000 === 500 ? short(50).repeat(400 + Math.floor(rand() * 1000)) : short(Math.floor(rand() * 30));
    parts.push(Buffer.from(s, 'utf8'));
    // Invalid UTF-8 now and then: a lone continuation byte, a cut-off three-byte character.
    if (i % 53 === 0) parts.push(Buffer.from([0x80]));
    if (i % 59 === 0 || i % 2000 === 500) parts.push(Buffer.from([0xe2, 0x82]));
    parts.push(Buffer.from(i % 3 === 0 ? '\r\n' : '\n'));
  }
  parts.push(Buffer.from('last line without a newline \u00e9'));
  const file = path.join(dir, 'messy.csv');
  fs.writeFileSync(file, Buffer.concat(parts));
  return file;
}

describe('readLineBytes', () => {
  it('gives the lines readLines gives, across read boundaries, with and without the byte path', async () => {
    const file = messyFile(tempDir('byte-reader'));
    expect(fs.statSync(file).size).toBeGreaterThan(3 * (1 << 20));
    for (const max of [Infinity, 65_536]) {
      const expected = await viaText(file, max);
      const overlong = expected.filter((s) => s[0] === 'overlong').length;
      if (max === Infinity) expect(overlong).toBe(0);
      else expect(overlong).toBeGreaterThan(5);
      expect(await viaBytes(file, max, false)).toEqual(expected);
      expect(await viaBytes(file, max, true)).toEqual(expected);
    }
  });
});
