import fs from 'node:fs';
import { tempDir } from '../helpers/tempdir.ts';
import path from 'node:path';
import { readLines } from '../../pipeline/io/lines.ts';

async function linesOf(text: string | Buffer): Promise<[string, number][]> {
  const file = path.join(tempDir('lines'), 'f.csv');
  fs.writeFileSync(file, text);
  const out: [string, number][] = [];
  await readLines(file, (line, n) => out.push([line, n]));
  return out;
}

describe('readLines', () => {
  it('strips a BOM and CRLF and numbers lines from 1', async () => {
    expect(await linesOf('\uFEFFa, b\r\nc, d\r\n')).toEqual([['a, b', 1], ['c, d', 2]]);
  });

  it('keeps a last line without a newline and counts blank lines', async () => {
    expect(await linesOf('x\n\ny')).toEqual([['x', 1], ['', 2], ['y', 3]]);
  });

  it('splits lines and multi-byte characters correctly across 1 MiB chunk boundaries', async () => {
    const row = 'é€,0123456789';
    const n = 200_000;
    const text = Array.from({ length: n }, (_, i) => `${row},${i}`).join('\r\n');
    const lines = await linesOf(Buffer.from(text, 'utf8'));
    expect(lines.length).toBe(n);
    expect(lines.every(([l, k]) => l === `${row},${k - 1}`)).toBe(true);
  });
});

describe('readLines with a line-length cap', () => {
  async function read(text: string | Buffer, max: number) {
    const file = path.join(tempDir('lines'), 'f.csv');
    fs.writeFileSync(file, text);
    const lines: [string, number][] = [];
    const overlong: [string, number, number][] = [];
    const stats = { chunks: 0, scanned: 0, copied: 0 };
    const count = await readLines(file, (line, n) => lines.push([line, n]), {
      maxLineLength: max, onOverlong: (head, length, n) => overlong.push([head, length, n]), stats,
    });
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    return { lines, overlong, stats, count };
  }

  it('hands a line over the cap to onOverlong with its head and length, and reads on', async () => {
    const r = await read(`ab\n${'x'.repeat(11)}\r\ncd\n${'y'.repeat(10)}\r\n`, 10);
    expect(r.lines).toEqual([['ab', 1], ['cd', 3], ['y'.repeat(10), 4]]);
    // 11 characters (the CR of CRLF is not part of the line): one over the cap of 10.
    expect(r.overlong).toEqual([['x'.repeat(10), 11, 2]]);
    expect(r.count).toBe(4);
  });

  it('caps lines that span chunks, a CR split from its LF included', async () => {
    const MiB = 1 << 20;
    // Line 1 ends exactly at the first chunk's end with a CR; its LF opens the second chunk.
    const first = `${'a'.repeat(MiB - 1)}\r`;
    const r1 = await read(`${first}\nnext\n`, MiB - 1);
    expect(r1.overlong).toEqual([]);
    expect(r1.lines.map(([l, n]) => [l.length, n])).toEqual([[MiB - 1, 1], [4, 2]]);
    const r2 = await read(`${first}\nnext\n`, MiB - 2);
    expect(r2.overlong.map(([h, len, n]) => [h.length, len, n])).toEqual([[MiB - 2, MiB - 1, 1]]);
    expect(r2.lines).toEqual([['next', 2]]);
  });

  it('reads a 20 MB single line in linear work, holding only the cap of it', async () => {
    const total = 20 * 1000 * 1000;
    const cap = 65536;
    const r = await read(`${'z'.repeat(total)}\nlast, line\n`, cap);
    expect(r.overlong).toHaveLength(1);
    expect(r.overlong[0]![0]).toBe('z'.repeat(cap));
    expect(r.overlong[0]![1]).toBe(total);
    expect(r.lines).toEqual([['last, line', 2]]);
    // Every character searched for a newline once; at most one chunk plus the cap ever assembled.
    expect(r.stats.scanned).toBe(total + 12);
    expect(r.stats.copied).toBeLessThanOrEqual(cap + 2 * (1 << 20));
  });

  it('assembles an uncapped line spanning many chunks with each character copied once', async () => {
    const total = 5 * 1000 * 1000;
    const file = path.join(tempDir('lines'), 'f.csv');
    fs.writeFileSync(file, `${'q'.repeat(total)}\r\nend`);
    const stats = { chunks: 0, scanned: 0, copied: 0 };
    const got: number[] = [];
    await readLines(file, (line) => got.push(line.length), { stats });
    expect(got).toEqual([total, 3]);
    expect(stats.chunks).toBeGreaterThan(4);
    expect(stats.scanned).toBe(total + 5);
    expect(stats.copied).toBe(total + 1);
  });
});
