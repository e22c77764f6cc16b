import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { runPipeline, type StageRun } from '../pipeline/run.ts';
import { settled, wallClockNs, type CacheEntry } from '../pipeline/io/hash.ts';
import type { CarrierSummary } from '../pipeline/contracts/summary.ts';
import type { IngestManifest } from '../pipeline/contracts/manifest.ts';
import { recordingLogger, tempProject, writeFiles, FAST_RUN } from './helpers/tmp.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'pipeline', 'bin', 'natatlas.js');
const digest = (bytes: string | Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');
const U = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
/** A whole-second mtime, as an archived capture has, so it can be set back exactly. */
const CAPTURED = 1_700_000_000;
const CLIENT = 'camp/C/client-1.csv';

/** One carrier, one run of 40 sent packets (all S), every one seen by the server. */
function campaign(raw: string): string[] {
  const client = ['Message id, Time, Sender Port, Receiver Port, Success'];
  const server = ['Message id, Time, Sender Port, Receiver Port'];
  for (let i = 1; i <= 40; i++) {
    client.push(`${U(i)}, ${1000 + 20 * i}, ${40000 + i}, 5000, S`);
    server.push(`${U(i)}, ${1400 + 20 * i}, ${50000 + 7 * i}, 5000`);
  }
  const files = { [CLIENT]: `${client.join('\n')}\n`, 'camp/C/server-1.csv': `${server.join('\n')}\n` };
  writeFiles(raw, files);
  const abs = Object.keys(files).map((f) => path.join(raw, f));
  for (const f of abs) fs.utimesSync(f, CAPTURED, CAPTURED);
  return abs;
}

/** Wait until no file changed within the last clock tick, as old captures are (a hash taken sooner is rechecked next run). */
async function settle(files: string[]): Promise<void> {
  while (!files.every((f) => settled(fs.statSync(f, { bigint: true }), wallClockNs()))) await new Promise((r) => setTimeout(r, 5));
}

/** "S" -> "F" on the last row, then the mtime set back: same size, same mtime. */
function failLastSend(file: string): string {
  const text = fs.readFileSync(file, 'utf8');
  const at = text.lastIndexOf('S');
  const edited = `${text.slice(0, at)}F${text.slice(at + 1)}`;
  fs.writeFileSync(file, edited);
  fs.utimesSync(file, CAPTURED, CAPTURED);
  expect(fs.statSync(file).size).toBe(Buffer.byteLength(text));
  expect(fs.statSync(file, { bigint: true }).mtimeNs).toBe(BigInt(CAPTURED) * 1_000_000_000n);
  return edited;
}

const ran = (r: StageRun[]) => Object.fromEntries(r.map((s) => [s.stage, s.ran]));
const readJson = <T>(...parts: string[]) => JSON.parse(fs.readFileSync(path.join(...parts), 'utf8')) as T;

/** Files under `dir` opened for streaming (how hashing and ingest read) during `fn`. */
async function streamedUnder<T>(dir: string, fn: () => Promise<T>): Promise<{ value: T; files: string[] }> {
  const spy = jest.spyOn(fs, 'createReadStream');
  try {
    const value = await fn();
    return { value, files: spy.mock.calls.map((c) => String(c[0])).filter((f) => f.startsWith(dir + path.sep)) };
  } finally {
    spy.mockRestore();
  }
}

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

/** A temp project this file removes when done. */
function project(): ReturnType<typeof tempProject> {
  const p = tempProject();
  roots.push(p.root);
  return p;
}

describe('freshness', () => {
  it('reads no capture data on a rerun with nothing changed', async () => {
    const p = project();
    await settle(campaign(p.raw));
    await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    const log = recordingLogger();
    const { value, files } = await streamedUnder(p.raw, () => runPipeline({ paths: p, ...FAST_RUN }, log));
    expect(Object.values(ran(value))).toEqual([false, false, false, false, false]);
    expect(log.lines.at(-1)).toMatch(/nothing to do/);
    expect(files).toEqual([]);
  });

  it('sees a same-size edit whose mtime was set back (S -> F, touch -r) on a plain run', async () => {
    const p = project();
    await settle(campaign(p.raw));
    await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    expect(readJson<CarrierSummary>(p.derived, 'camp', 'summary', 'C.json').counts).toMatchObject({ sent: 40, failed: 0, joined: 40 });
    const edited = failLastSend(path.join(p.raw, CLIENT));
    const log = recordingLogger();
    const again = await runPipeline({ paths: p, ...FAST_RUN }, log);
    expect(ran(again)).toMatchObject({ ingest: true, join: true });
    expect(log.lines).toContain(`[stale] camp: ingest (input raw/${CLIENT} changed)`);
    expect(readJson<CarrierSummary>(p.derived, 'camp', 'summary', 'C.json').counts).toMatchObject({ sent: 39, failed: 1, failedSeen: 1, joined: 39 });
    const manifest = readJson<IngestManifest>(p.derived, 'camp', 'ingest', 'manifest.json');
    expect(manifest.files.find((f) => f.path === CLIENT)?.sha256).toBe(digest(edited));
    const stamps = readJson<Record<string, { inputs: Record<string, string> }>>(p.derived, 'camp', '.natatlas', 'stamps.json');
    expect(stamps.ingest!.inputs[`raw/${CLIENT}`]).toBe(digest(edited));
  });

  it('--verify hashes every file again, catching what a cached hash would hide', async () => {
    const p = project();
    await settle(campaign(p.raw));
    await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    const file = path.join(p.raw, CLIENT);
    const oldSha = digest(fs.readFileSync(file));
    const edited = failLastSend(file);
    // The cache entry a file system without a change time would leave: the file's stat now, the old hash.
    const hashesFile = path.join(p.derived, 'camp', '.natatlas', 'hashes.json');
    const hashes = readJson<Record<string, CacheEntry>>(hashesFile);
    const st = fs.statSync(file, { bigint: true });
    hashes[`raw/${CLIENT}`] = { size: Number(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), ino: String(st.ino), sha256: oldSha };
    fs.writeFileSync(hashesFile, JSON.stringify(hashes));
    await settle([file]);

    // A plain run trusts the entry, as README says it does...
    const plain = await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    expect(ran(plain).ingest).toBe(false);
    // ...and --verify does not: every raw file is read again, the edit is seen.
    const log = recordingLogger();
    const { value, files } = await streamedUnder(p.raw, () => runPipeline({ paths: p, ...FAST_RUN, verify: true }, log));
    expect(ran(value)).toMatchObject({ ingest: true, join: true });
    expect(log.lines).toContain(`[stale] camp: ingest (input raw/${CLIENT} changed)`);
    expect(files).toEqual(expect.arrayContaining([file, path.join(p.raw, 'camp/C/server-1.csv')]));
    expect(readJson<IngestManifest>(p.derived, 'camp', 'ingest', 'manifest.json').files.find((f) => f.path === CLIENT)?.sha256).toBe(digest(edited));
    expect(readJson<CarrierSummary>(p.derived, 'camp', 'summary', 'C.json').counts).toMatchObject({ sent: 39, failed: 1 });
  });

  it('natatlas run --verify is a flag of the CLI that reaches the stamps', async () => {
    const p = project();
    await settle(campaign(p.raw));
    // Every stage, with the settings --no-montecarlo gives, so the CLI finds them all fresh.
    await runPipeline({ paths: p, settings: FAST_RUN.settings }, recordingLogger());
    // A stamp and a cache that agree with each other but not with the file: only reading the file tells.
    const wrong = digest('bytes this file never held');
    const natatlas = path.join(p.derived, 'camp', '.natatlas');
    const stamps = readJson<Record<string, { inputs: Record<string, string> }>>(natatlas, 'stamps.json');
    const hashes = readJson<Record<string, CacheEntry>>(natatlas, 'hashes.json');
    stamps.ingest!.inputs[`raw/${CLIENT}`] = wrong;
    hashes[`raw/${CLIENT}`]!.sha256 = wrong;
    fs.writeFileSync(path.join(natatlas, 'stamps.json'), JSON.stringify(stamps));
    fs.writeFileSync(path.join(natatlas, 'hashes.json'), JSON.stringify(hashes));
    const plain = await runPipeline({ paths: p, settings: FAST_RUN.settings }, recordingLogger());
    expect(plain.every((r) => !r.ran)).toBe(true);
    const args = ['run', '--verify', '--raw', p.raw, '--derived', p.derived, '--reports', p.reports, '--no-montecarlo'];
    const verify = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: p.root });
    expect(verify.status).toBe(0);
    expect(verify.stderr).toContain(`[stale] camp: ingest (input raw/${CLIENT} changed)`);
    // Ingest wrote the same bytes again, so nothing downstream reran.
    expect(verify.stderr).toContain('[fresh] camp: report');
    expect(readJson<typeof stamps>(natatlas, 'stamps.json').ingest!.inputs[`raw/${CLIENT}`]).toBe(digest(fs.readFileSync(path.join(p.raw, CLIENT))));
  });
});
