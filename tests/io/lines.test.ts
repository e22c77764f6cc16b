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
