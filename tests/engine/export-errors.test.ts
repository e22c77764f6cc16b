/**
 * `natatlas export` on bad input: one line naming the file and the reason, exit 1, and
 * nothing written. Tables here are hand-made (valid ones pass @natatlas/bias).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import type { BiasTable } from '@natatlas/bias';
import { main } from '../../pipeline/cli.ts';
import { tempProject } from '../helpers/tmp.ts';
import { uniformTable } from './table.ts';

const table = (carrier: string): BiasTable => uniformTable({ carrier });

/** A campaign `c` with the given table texts, indexed with their true sha256 unless `indexSha` overrides it. */
function campaign(derived: string, texts: Record<string, string>, indexSha: Record<string, string> = {}): void {
  const dir = path.join(derived, 'c', 'bias');
  fs.mkdirSync(dir, { recursive: true });
  const tables = Object.entries(texts).map(([carrier, text]) => {
    fs.writeFileSync(path.join(dir, `${carrier}.json`), text);
    return { carrier, file: `${carrier}.json`, sha256: indexSha[carrier] ?? crypto.createHash('sha256').update(text).digest('hex'), family: 'uniform', behavior: 'unknown' };
  });
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schema: 'natatlas.bias-index/1', campaign: 'c', tables, skipped: [] }));
}

async function exportErr(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(['export', ...args]), stderr };
  } finally {
    spy.mockRestore();
  }
}

describe('natatlas export on bad input', () => {
  it('exits 1 with one line naming the file and the reason, writing nothing', async () => {
    const p = tempProject();
    const out = path.join(p.root, 'out');
    const args = ['--campaign', 'c', '--derived', p.derived, '--out', out];
    try {
      expect(await exportErr(args)).toEqual({ code: 1, stderr: 'natatlas export: derived/c/bias/index.json: no bias index: run `natatlas run --campaign c` (or the bias stage) first\n' });

      campaign(p.derived, { A: JSON.stringify(table('A')), B: JSON.stringify({ ...table('B'), schema: 'natatlas.bias/3' }) });
      expect(await exportErr(args)).toEqual({ code: 1, stderr: 'natatlas export: derived/c/bias/B.json: contract version "natatlas.bias/3" (major 3) is not supported: this reader reads "natatlas.bias/2" only; install a @natatlas/bias release that reads major version 3\n' });

      campaign(p.derived, { A: JSON.stringify(table('A')) }, { A: '0'.repeat(64) });
      expect((await exportErr(args)).stderr).toMatch(/^natatlas export: derived\/c\/bias\/A\.json: sha256 [0-9a-f]{64} differs from bias\/index\.json's 0{64}: .*rerun it\n$/);

      campaign(p.derived, { A: '{\n  "schema": "natatlas.bias/2",\n  oops\n}\n' });
      expect((await exportErr(args)).stderr).toMatch(/^natatlas export: derived\/c\/bias\/A\.json:3: not valid JSON \(/);

      campaign(p.derived, { A: JSON.stringify(table('Z')) });
      expect((await exportErr(args)).stderr).toBe('natatlas export: derived/c/bias/A.json: its carrier "Z" is not the index\'s "A"\n');

      campaign(p.derived, { A: JSON.stringify(table('A')) });
      expect(await exportErr([...args, '--kotlin-package', 'my.class.x'])).toEqual({ code: 1, stderr: 'natatlas export: --kotlin-package "my.class.x": "class" is a Kotlin keyword\n' });
      expect((await exportErr(['--campaign', 'c', '--derived', p.derived])).stderr).toBe('natatlas export: --out DIR is required (see natatlas export --help)\n');

      expect(fs.existsSync(out)).toBe(false);
    } finally {
      fs.rmSync(p.root, { recursive: true, force: true });
    }
  });
});
