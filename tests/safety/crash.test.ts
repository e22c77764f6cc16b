/**
 * Crash safety (issue 10, item 4): one run per output root, stale locks taken over,
 * temp files of killed runs removed at the next start (kill -9 used to leave them
 * forever), and a full disk or a permission problem is a one-line user error naming
 * the path (a full disk used to exit 2, "internal error").
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NatatlasError } from '../../pipeline/errors.ts';
import { removeDeadTemps } from '../../pipeline/io/lock.ts';
import { runPipeline } from '../../pipeline/run.ts';
import { preset, simulateCampaign } from '../../pipeline/simulate/index.ts';
import { FAST_RUN, recordingLogger } from '../helpers/tmp.ts';
import { filesOf, natatlas, project, start, Temps, waitFor, walk } from './helpers.ts';

const temps = new Temps();
/**
 * A campaign big enough that ingest writes for a while (about 9 MB of captures). Runs
 * here are drafts (`--draft`, no PDF or PNG per figure): what is at stake is ingest's
 * temp files and the locks, and the figures' drawing was a third of this file's CPU.
 */
let bigRaw: string;
let smallRaw: string;
/** A clean `run` of bigRaw, made by the concurrency test and compared with the run after kill -9. */
let reference: string | null = null;

beforeAll(async () => {
  bigRaw = path.join(temps.make(), 'raw');
  await simulateCampaign({ outDir: bigRaw, campaign: 'c', carriers: [preset('KPN')], runs: 2, packets: 60_000, seed: 7 });
  smallRaw = path.join(temps.make(), 'raw');
  await simulateCampaign({ outDir: smallRaw, campaign: 'c', carriers: [preset('KPN')], runs: 2, packets: 300, seed: 7 });
});
afterAll(() => temps.cleanup());

const tempsIn = (dir: string) => walk(dir).filter((rel) => path.basename(rel).includes('.tmp-'));
/** Whether ingest is writing in `root`: its temp folder or its rejects temp file exists. */
const ingestWriting = (root: string) => tempsIn(root).some((rel) => /^derived\/c\/(ingest|rejects\.csv)\.tmp-\d+-\d+$/.test(rel));
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;
/** Outputs that must match byte for byte between runs: all but the size/mtime hash cache. */
const outputs = (root: string) => new Map([...filesOf(path.join(root, 'derived')), ...[...filesOf(path.join(root, 'reports'))].map(([k, v]) => [`reports/${k}`, v] as [string, string])]
  .filter(([rel]) => !rel.endsWith(path.join('.natatlas', 'hashes.json'))));

describe('one run per output root', () => {
  it('a second run on the same derived/ exits 1 naming the first run\'s pid; the first completes', async () => {
    const root = project(temps, bigRaw);
    const first = start(['run', '--no-montecarlo', '--draft', '-q'], root);
    const lock = path.join(root, 'derived', '.natatlas.lock');
    let firstEnded = false;
    void first.done.then(() => (firstEnded = true));
    await waitFor(() => fs.existsSync(lock) || firstEnded, 'the first run to take its lock');
    expect(JSON.parse(fs.readFileSync(lock, 'utf8')).pid).toBe(first.pid);

    const second = await natatlas(['ingest', '-q'], root);
    expect(firstEnded).toBe(false); // the first run still held the lock when the second was refused
    expect(second.code).toBe(1);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toContain(`in use by another natatlas run (pid ${first.pid}`);

    const done = await first.done;
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(fs.existsSync(lock)).toBe(false);
    expect(fs.existsSync(path.join(root, 'reports', '.natatlas.lock'))).toBe(false);
    const index = JSON.parse(fs.readFileSync(path.join(root, 'derived', 'c', 'bias', 'index.json'), 'utf8')) as { tables: { carrier: string }[] };
    expect(index.tables.map((t) => t.carrier)).toEqual(['KPN']);
    expect(tempsIn(root)).toEqual([]);
    reference = root;
  });

  it('takes over a lock whose pid is gone and removes that run\'s temp files, never under raw/; refuses a live holder', async () => {
    const root = project(temps, smallRaw);
    const dead = deadPid();
    const live = process.pid;
    const derived = path.join(root, 'derived');
    fs.mkdirSync(path.join(derived, 'c', `ingest.tmp-${dead}-1`, 'carriers'), { recursive: true });
    fs.writeFileSync(path.join(derived, 'c', `ingest.tmp-${dead}-1`, 'carriers', 'x.csv'), 'partial');
    fs.writeFileSync(path.join(derived, 'c', `rejects.csv.tmp-${dead}-2`), 'partial');
    fs.writeFileSync(path.join(derived, 'c', `other.tmp-${live}-3`), 'a live run\'s');
    fs.writeFileSync(path.join(root, 'raw', 'c', `notes.tmp-${dead}-4`), 'the user\'s');

    fs.writeFileSync(path.join(derived, '.natatlas.lock'), `${JSON.stringify({ pid: live })}\n`);
    const refused = await natatlas(['ingest'], root);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`in use by another natatlas run (pid ${live})`);
    expect(JSON.parse(fs.readFileSync(path.join(derived, '.natatlas.lock'), 'utf8')).pid).toBe(live);
    expect(fs.existsSync(path.join(derived, 'c', `rejects.csv.tmp-${dead}-2`))).toBe(true);

    fs.writeFileSync(path.join(derived, '.natatlas.lock'), `${JSON.stringify({ pid: dead })}\n`);
    const r = await natatlas(['ingest'], root);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`took over the lock of natatlas pid ${dead}`);
    expect(r.stderr).toContain('removed 2 temp files left by interrupted runs');
    expect(fs.existsSync(path.join(derived, '.natatlas.lock'))).toBe(false);
    expect(tempsIn(root).sort()).toEqual([path.join('derived', 'c', `other.tmp-${live}-3`), path.join('raw', 'c', `notes.tmp-${dead}-4`)].sort());
  });

  it('removes dead runs\' temp files only in the campaign folders and lock of an output root', () => {
    const root = temps.make();
    const dead = deadPid();
    const make = (rel: string, dir = false) => {
      const full = path.join(root, rel);
      fs.mkdirSync(dir ? full : path.dirname(full), { recursive: true });
      if (!dir) fs.writeFileSync(full, 'x');
    };
    make(`c.tmp-${dead}-1`, true); // reports/<campaign> being swapped in
    make(`c/figures/a.svg.tmp-${dead}-2`);
    make(`.natatlas.lock.tmp-${dead}-3`);
    make(`c/keep.tmp-${process.pid}-99`); // not written by this process's current run, but this pid is alive: kept only if active
    make(`unrelated.tmp-${dead}-4`); // not a campaign of this root: not ours to judge
    make(`unrelated/x.tmp-${dead}-5`);
    make('c/x.tmp-notapid-6');
    const removed = removeDeadTemps(root, ['c']);
    expect(walk(root).filter((r) => r.includes('.tmp-')).sort()).toEqual(['c/x.tmp-notapid-6', `unrelated.tmp-${dead}-4`, `unrelated/x.tmp-${dead}-5`].sort());
    expect(removed).toBe(4);
  });
});

describe('kill -9 mid-ingest', () => {
  it('the next run removes every temp file and writes outputs byte-identical to a clean run', async () => {
    if (reference === null) {
      reference = project(temps, bigRaw);
      expect((await natatlas(['run', '--no-montecarlo', '--draft', '-q'], reference)).code).toBe(0);
    }
    const root = project(temps, bigRaw);
    const victim = start(['run', '--no-montecarlo', '--draft', '-q'], root);
    let ended = false;
    void victim.done.then(() => (ended = true));
    await waitFor(() => ended || ingestWriting(root), 'a temp file of the running ingest');
    victim.child.kill('SIGKILL');
    const killed = await victim.done;
    expect(killed.signal).toBe('SIGKILL');
    // Killed while ingest was writing: its temp folder or the rejects temp file is there.
    expect(ingestWriting(root)).toBe(true);
    expect(fs.existsSync(path.join(root, 'derived', '.natatlas.lock'))).toBe(true);

    const rerun = await natatlas(['run', '--no-montecarlo', '--draft'], root);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain(`took over the lock of natatlas pid ${victim.pid}`);
    expect(rerun.stderr).toMatch(/removed \d+ temp files? left by interrupted runs/);
    expect(tempsIn(root)).toEqual([]);
    expect(walk(root).filter((r) => r.endsWith('.natatlas.lock'))).toEqual([]);
    expect(outputs(root)).toEqual(outputs(reference));
  });
});

describe('Ctrl-C', () => {
  it('SIGINT mid-ingest removes the run\'s temp files and its locks, and exits 130', async () => {
    const root = project(temps, bigRaw);
    const run = start(['run', '--no-montecarlo', '--draft', '-q'], root);
    let ended = false;
    void run.done.then(() => (ended = true));
    await waitFor(() => ended || ingestWriting(root), 'a temp file of the running ingest');
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(tempsIn(root)).toEqual([]);
    expect(walk(root).filter((rel) => rel.endsWith('.natatlas.lock'))).toEqual([]);
  });
});

describe('disk and permission failures are user errors naming the path', () => {
  it('a full disk: exit 1, one line naming the file and "no space left", no temp files left', async () => {
    const root = project(temps, bigRaw);
    const disk = path.join(root, 'disk');
    fs.mkdirSync(disk);
    // A 2 MB tmpfs (root). Without the right to mount, a 2 MB file-size limit fails the same
    // writes with EFBIG instead, through the same code path.
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk]).status === 0;
    try {
      const r = await natatlas(['ingest', '-q', '--derived', 'disk/derived'], root, mounted ? undefined : ['sh', '-c', 'ulimit -f 4096; exec "$0" "$@"', process.execPath]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(mounted
        ? /^natatlas ingest: disk\/derived\/c\/\S+: no space left on the device \(writing it\)$/m
        : /^natatlas ingest: disk\/derived\/c\/\S+: file too large for the file system \(writing it\)$/m);
      expect(tempsIn(disk)).toEqual([]);
      expect(fs.existsSync(path.join(disk, 'derived', '.natatlas.lock'))).toBe(false);
    } finally {
      if (mounted) spawnSync('umount', [disk]);
    }
  });

  it('no permission to create the derived folder: exit 1 naming the folder and why', async () => {
    const root = project(temps, smallRaw);
    fs.chmodSync(root, 0o755);
    fs.mkdirSync(path.join(root, 'locked'), { mode: 0o555 });
    fs.chmodSync(path.join(root, 'locked'), 0o555);
    // root ignores file modes: drop to nobody for this run, after loading natatlas as root.
    const asUser = process.getuid?.() === 0 ? [process.execPath, fileURLToPath(new URL('./as-nobody.mjs', import.meta.url))] : undefined;
    const r = await natatlas(['ingest', '--derived', 'locked/derived'], root, asUser);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('natatlas ingest: cannot create folder locked/derived: permission denied (in locked)');
  });

  it('a folder that cannot be made because a parent is a broken link says so, not "no such file"', async () => {
    const root = project(temps, smallRaw);
    fs.symlinkSync(path.join(root, 'gone'), path.join(root, 'dangling'));
    const e = await runPipeline({ paths: { raw: path.join(root, 'raw'), derived: path.join(root, 'dangling', 'derived'), reports: path.join(root, 'reports') }, ...FAST_RUN }, recordingLogger())
      .then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(NatatlasError);
    expect((e as Error).message).toMatch(/^cannot create folder \S+\/dangling\/derived: \S+\/dangling is a link to \S+\/gone, which does not exist$/);
  });
});
