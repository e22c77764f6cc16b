/**
 * `natatlas export --joined csv`: the joined rows of a hand-made campaign as the CSV
 * worked out by hand (run names quoted where they need it, extra columns last), one file
 * per carrier with --out, one carrier on stdout without, and clear errors otherwise.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { main } from '../../pipeline/cli.ts';
import { silentLogger } from '../../pipeline/context.ts';
import { ingest } from '../../pipeline/stages/ingest.ts';
import { join } from '../../pipeline/stages/join.ts';
import { tempProject, writeFiles } from '../helpers/tmp.ts';

const BIN = fileURLToPath(new URL('../../pipeline/bin/natatlas.js', import.meta.url));
const U = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

const EXPECTED_K = [
  'uuid,run,send_seq,send_time,recv_time,local_port,dest_port,external_port,server_port,Sender IP',
  // Send order; U3 failed (F), so it has no send_seq and is not joined; U4 was lost.
  `${U(1)},"a,b",0,1000,1400,40000,5000,50001,5000,198.51.100.7`,
  `${U(2)},"a,b",1,1020,1390.5,40001,5001,50002,5000,198.51.100.8`,
  `${U(5)},"a,b",3,1080,1480,40004,5000,50005,5000,198.51.100.7`,
  '',
].join('\n');

async function campaign() {
  const p = tempProject();
  writeFiles(p.raw, {
    'camp/K/client-a,b.csv': [
      'Message id, Time, Sender Port, Receiver Port, Success',
      `${U(1)}, 1000, 40000, 5000, S`, `${U(2)}, 1020, 40001, 5001, S`, `${U(3)}, 1040, 80, 5000, F`, `${U(4)}, 1060, 40003, 5000, S`, `${U(5)}, 1080, 40004, 5000, S`, '',
    ].join('\n'),
    'camp/K/server-a,b.csv': [
      'Message id, Time, Sender Port, Receiver Port, Sender IP',
      `${U(2)}, 1390.5, 50002, 5000, 198.51.100.8`, `${U(1)}, 1400, 50001, 5000, 198.51.100.7`, `${U(5)}, 1480, 50005, 5000, 198.51.100.7`, '',
    ].join('\n'),
    'camp/L/client-1.csv': `Message id, Time, Sender Port, Receiver Port, Success\n${U(9)}, 1000, 40000, 5000, S\n`,
    'camp/L/server-1.csv': `Message id, Time, Sender Port, Receiver Port\n${U(9)}, 1100, 50009, 5000\n`,
  });
  const ctx = { campaign: 'camp', paths: p, log: silentLogger };
  await ingest(ctx);
  await join(ctx);
  return p;
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((c) => { stdout += String(c); return true; });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((c) => { stderr += String(c); return true; });
  try {
    return { code: await main(['export', ...args]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('natatlas export --joined csv', () => {
  it('writes one <carrier>.csv per carrier with --out, as computed by hand', async () => {
    const p = await campaign();
    const out = path.join(p.root, 'csv');
    const r = await run(['--joined', 'csv', '--campaign', 'camp', '--derived', p.derived, '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['K.csv', 'L.csv']);
    expect(fs.readFileSync(path.join(out, 'K.csv'), 'utf8')).toBe(EXPECTED_K);
    expect(fs.readFileSync(path.join(out, 'L.csv'), 'utf8')).toBe(
      `uuid,run,send_seq,send_time,recv_time,local_port,dest_port,external_port,server_port\n${U(9)},1,0,1000,1100,40000,5000,50009,5000\n`);
    expect(r.stdout.trim().split('\n').map((l) => path.basename(l))).toEqual(['K.csv', 'L.csv']);
  });

  it('writes one carrier to stdout', async () => {
    const p = await campaign();
    const r = spawnSync(process.execPath, [BIN, 'export', '--joined', 'csv', '--campaign', 'camp', '--carrier', 'K', '--derived', p.derived], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(EXPECTED_K);
  });

  it('refuses an unknown format, an unknown carrier, or several carriers on stdout', async () => {
    const p = await campaign();
    const base = ['--campaign', 'camp', '--derived', p.derived];
    expect(await run(['--joined', 'parquet', ...base])).toMatchObject({ code: 1, stderr: expect.stringContaining('--joined "parquet": the only format is csv') });
    expect(await run(['--joined', 'csv', '--carrier', 'M', ...base])).toMatchObject({ code: 1, stderr: expect.stringContaining('--carrier "M": not a carrier of camp (K, L)') });
    expect(await run(['--joined', 'csv', ...base])).toMatchObject({ code: 1, stderr: expect.stringContaining('camp has 2 carriers: name one with --carrier NAME') });
  });
});
