/**
 * Issue 13's acceptance test for "beyond one machine": the fit partials computed by
 * pipeline/sql/partials.sql in DuckDB from the raw sample campaign, fitted with
 * `natatlas fit --partials`, then evaluated and turned into bias tables, give the same
 * bytes as a plain natatlas run of the same campaign with the same settings.
 */
import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../pipeline/cli.ts';
import { duckdbPartials } from '../../pipeline/sql/duckdb.ts';
import { snapshot, tempProject } from '../helpers/tmp.ts';

const SAMPLE = fileURLToPath(new URL('../../raw/sample', import.meta.url));

/** `natatlas <args>` in this process, quietly; the exit code and natatlas's errors and warnings (node's own notices left out). */
async function natatlas(...args: string[]): Promise<{ code: number; said: string[] }> {
  let stderr = '';
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main([...args, '--quiet']);
    return { code, said: stderr.split('\n').filter((l) => /^(natatlas|warning)/.test(l)) };
  } finally {
    spy.mockRestore();
  }
}

/**
 * Give KPN a duplicate of each kind whose winner matters: a packet of run 01 logged
 * again by the phone in run 02 from another local port (the first client row wins), and
 * seen again by the server in run 02 from another external port (the first copy joins).
 * Either rule reversed moves the packet or its port, and the fit with it.
 */
function addDuplicates(campaign: string): void {
  const kpn = path.join(campaign, 'KPN');
  fs.appendFileSync(path.join(kpn, 'client-02.csv'), '4c2b6f77-d445-4973-986c-890af18dbc46, 1677665119999, 2222, 10471, S\n');
  fs.appendFileSync(path.join(kpn, 'server-02.csv'), '4c2b6f77-d445-4973-986c-890af18dbc46, 1677665123000, 1111, 10471, 198.51.100.196\n');
}

describe('partials.sql in DuckDB -> natatlas fit --partials', () => {
  it('gives byte-identical fits and bias tables to a plain natatlas run of the sample campaign (plus two duplicates)', async () => {
    const p = tempProject();
    fs.cpSync(SAMPLE, path.join(p.raw, 'sample'), { recursive: true });
    addDuplicates(path.join(p.raw, 'sample'));
    const at = ['--raw', p.raw, '--derived', p.derived, '--campaign', 'sample'];

    for (const stage of ['ingest', 'join', 'fit', 'evaluate', 'bias']) {
      expect(await natatlas(stage, ...at, ...(stage === 'evaluate' ? ['--no-montecarlo'] : []))).toEqual({ code: 0, said: [] });
    }
    const want = { fit: snapshot(path.join(p.derived, 'sample', 'fit')), bias: snapshot(path.join(p.derived, 'sample', 'bias')) };
    fs.rmSync(path.join(p.derived, 'sample', 'fit'), { recursive: true });
    expect(Object.keys(want.fit)).toHaveLength(6); // five carriers and the folder marker
    expect(Object.keys(want.bias).filter((f) => f.endsWith('.json'))).toHaveLength(6); // five tables and the index

    const partials = path.join(p.root, 'partials');
    await duckdbPartials({ campaignDir: path.join(p.raw, 'sample'), out: partials });
    for (const stage of ['fit', 'evaluate', 'bias']) {
      const extra = stage === 'fit' ? ['--partials', partials] : stage === 'evaluate' ? ['--no-montecarlo'] : [];
      expect(await natatlas(stage, ...at, ...extra)).toEqual({ code: 0, said: [] });
    }
    expect(snapshot(path.join(p.derived, 'sample', 'fit'))).toEqual(want.fit);
    expect(snapshot(path.join(p.derived, 'sample', 'bias'))).toEqual(want.bias);
  });
});
