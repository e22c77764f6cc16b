import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir, tempProject, writeFiles } from './helpers/tmp.ts';

const BIN = path.resolve('pipeline/bin/natatlas.js');

// Every run starts in an empty temp folder: a default path (raw/, derived/, reports/)
// a test forgot to pass lands there, never in the checkout, and the last test checks it.
const CWD = tempDir('cli-cwd');

function natatlas(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: CWD, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('natatlas CLI', () => {
  it('lists its commands with --help and exits 0', () => {
    const r = natatlas(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['run', 'ingest', 'join', 'simulate']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
  });

  it('has --help on every command', () => {
    for (const c of ['run', 'ingest', 'join', 'simulate']) {
      const r = natatlas([c, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: natatlas ${c}`));
    }
  });

  it('rejects an unknown flag in one line with exit 1', () => {
    const r = natatlas(['run', '--bogus']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--bogus/);
  });

  it('names file, line and reason for unreadable input, without a stack trace', () => {
    const p = tempProject();
    writeFiles(p.raw, { 'c/K/client-1.csv': 'id, when\n', 'c/K/server-1.csv': 'Message id, Time, Sender Port, Receiver Port\n' });
    const r = natatlas(['run', '--raw', p.raw, '--derived', p.derived, '--reports', p.reports, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('natatlas run: c/K/client-1.csv:1: header does not name the columns "Message id", "Time", "Sender Port", "Receiver Port", "Success"; expected Message id, Time, Sender Port, Receiver Port, Success');
  });

  it('says which folder is missing', () => {
    const p = tempProject();
    const r = natatlas(['run', '--raw', path.join(p.root, 'nope')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/raw folder .*nope not found/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('runs, then says nothing to do; no progress escapes when stderr is not a terminal', () => {
    const p = tempProject();
    writeFiles(p.raw, {
      'c/K/client-1.csv': 'Message id, Time, Sender Port, Receiver Port, Success\n00000000-0000-4000-8000-000000000001, 1, 40000, 5000, S\n',
      'c/K/server-1.csv': 'Message id, Time, Sender Port, Receiver Port\n00000000-0000-4000-8000-000000000001, 5, 50000, 5000\n',
    });
    const paths = ['--raw', p.raw, '--derived', p.derived, '--reports', p.reports];
    const first = natatlas(['run', ...paths]);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/\[stale\] c: ingest/);
    expect(first.stderr).not.toMatch(/\r/);
    expect(fs.existsSync(path.join(p.reports, 'c', 'index.html'))).toBe(true);
    const second = natatlas(['run', ...paths]);
    expect(second.stderr).toMatch(/nothing to do/);
    expect(natatlas(['run', ...paths, '--quiet']).stderr).toBe('');
  });

  it('wrote nothing outside the folders it was given', () => {
    expect(fs.readdirSync(CWD)).toEqual([]);
  });
});
