/**
 * The command line runs natatlas's compiled JavaScript (pipeline/bin/build.js): on a copy
 * of the package, a missing build is made, a current one is left alone, the bin runs
 * dist/cli.js (not the TypeScript), an edited source reaches dist/ before anything runs,
 * and the compiled worker modules answer a referee job and a figure as the sources do.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildIsCurrent, ENTRIES, ensureBuild } from '../../pipeline/bin/build.js';
import { refereeSpec } from '../../pipeline/evaluate/referee/index.ts';
import { runTrials } from '../../pipeline/evaluate/referee/trial.ts';
import { figureFilesHere } from '../../pipeline/report/figures/figure-files.ts';
import { AGENT, agentArgs } from '../../pipeline/lab/sh.ts';
import { tempDir } from '../helpers/tempdir.ts';

/** A copy of the package's code (pipeline/, package.json) beside the real node_modules. */
function packageCopy(): string {
  const root = tempDir('build');
  fs.cpSync('pipeline', path.join(root, 'pipeline'), { recursive: true, preserveTimestamps: true });
  fs.copyFileSync('package.json', path.join(root, 'package.json'));
  fs.symlinkSync(path.resolve('node_modules'), path.join(root, 'node_modules'));
  return root;
}

const bin = (root: string, ...args: string[]) => spawnSync(process.execPath, [path.join(root, 'pipeline', 'bin', 'natatlas.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });

/** Give `file` new text, dated `seconds` ahead (a checkout's update is newer than the last build). */
function edit(file: string, text: string, seconds: number): void {
  fs.writeFileSync(file, text);
  const later = new Date(Date.now() + seconds * 1000);
  fs.utimesSync(file, later, later);
}

describe('the compiled command line', () => {
  const root = packageCopy();

  it('builds when missing, skips when current, and the bin runs the build', async () => {
    expect(buildIsCurrent(root)).toBe(false);
    expect(await ensureBuild(root)).toBe(true);
    expect(buildIsCurrent(root)).toBe(true);
    expect(await ensureBuild(root)).toBe(false);
    const cli = path.join(root, 'dist', 'cli.js');
    // No machine path is baked in: import.meta.url is rebuilt relative to dist/.
    expect(fs.readFileSync(cli, 'utf8')).not.toContain(root);
    // A mark only the compiled file carries: the bin must print it.
    fs.appendFileSync(cli, '\nprocess.stderr.write("ran dist/cli.js\\n");\n');
    const r = bin(root, '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^natatlas: NAT traversal measurements/);
    expect(r.stderr).toContain('ran dist/cli.js');
  });

  it('rebuilds after a source edit, before running', () => {
    const src = path.join(root, 'pipeline', 'cli.ts');
    edit(src, fs.readFileSync(src, 'utf8').replace('natatlas: NAT traversal measurements', 'natatlas (edited): NAT traversal measurements'), 5);
    expect(buildIsCurrent(root)).toBe(false);
    const r = bin(root, '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^natatlas \(edited\): NAT traversal/);
    expect(r.stderr).not.toContain('ran dist/cli.js');
    expect(buildIsCurrent(root)).toBe(true);
  });

  it('refuses a source that does not compile, with esbuild\'s message naming the file', () => {
    edit(path.join(root, 'pipeline', 'errors.ts'), 'export const broken = ;\n', 10);
    const r = bin(root, '--help');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/dist\/ is older than pipeline\/ and rebuilding it failed; run `npm install`[\s\S]*pipeline\/errors\.ts:1:\d+: /);
  });

  it('boots the compiled referee worker, which gives the sources\' trials', () => {
    const side = { nat: { allocator: { kind: 'ports', segments: [[20000, 20999, 1]] }, mapping: 'endpoint-dependent', timeoutS: null, mappingLimit: null }, plan: { sockets: 'fresh', report: 'never', aim: { kind: 'segments', segments: [[20000, 20999, 1]] } } };
    const spec = refereeSpec({ a: side, b: side, ratePps: 100, budget: 2000, trials: 30, seed: 'build-test' } as never);
    const worker = path.join(root, 'dist', 'worker.js');
    const script = `import { Worker } from 'node:worker_threads';
const w = new Worker(${JSON.stringify(worker)}, { execArgv: [] });
w.on('message', (m) => { process.stdout.write(JSON.stringify({ packets: Array.from(m.result.packets, (x) => (x === Infinity ? null : x)) })); w.terminate(); });
w.postMessage({ id: 0, job: { spec: ${JSON.stringify(spec)}, from: 0, to: 30 } });`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    const expected = Array.from(runTrials(spec, 0, 30).packets, (x) => (x === Infinity ? null : x));
    expect(expected.some((x) => x !== null)).toBe(true);
    expect(JSON.parse(r.stdout).packets).toEqual(expected);
  });

  it('builds every module a worker pool boots (a compiled worker is dist/<its basename>.js)', () => {
    const sources = fs.readdirSync('pipeline', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.includes('node_modules'));
    const booted = new Set<string>();
    for (const rel of sources) {
      const text = fs.readFileSync(path.join('pipeline', rel), 'utf8');
      for (const m of text.matchAll(/new URL\(\s*'([^']+-?worker\.ts)'\s*,\s*import\.meta\.url\s*\)/g)) {
        booted.add(path.posix.join(path.posix.dirname(rel.split(path.sep).join('/')), m[1]!));
      }
    }
    expect(booted.size).toBeGreaterThanOrEqual(3);
    const built = new Map(Object.entries(ENTRIES).map(([name, file]) => [file, name]));
    for (const file of booted) {
      expect({ file, entry: built.get(file) }).toEqual({ file, entry: path.posix.basename(file, '.ts') });
    }
  });

  it('builds every lab program spawnAgent starts (dist/<its basename>.js), and the agents start from it', () => {
    // The scripts handed to spawnAgent: lab/sh.ts's AGENT and each `pipeline/<dir>/<name>.ts` path constant.
    const sources = fs.readdirSync('pipeline', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const started = new Set<string>();
    for (const rel of sources) {
      for (const m of fs.readFileSync(path.join('pipeline', rel), 'utf8').matchAll(/path\.join\(REPO_ROOT, 'pipeline\/([^']+\.ts)'\)/g)) started.add(m[1]!);
    }
    expect([...started].sort()).toEqual(['lab/agent.ts', 'punch/peer.ts']);
    const built = new Map(Object.entries(ENTRIES).map(([name, file]) => [file, name]));
    for (const file of started) expect({ file, entry: built.get(file) }).toEqual({ file, entry: path.posix.basename(file, '.ts') });
    // npm test builds first (pretest), so the agents run compiled.
    if (buildIsCurrent()) expect(agentArgs(AGENT)).toEqual([path.resolve('dist', 'agent.js')]);
  });

  it('boots the compiled figure worker, which draws the PDF and PNG bytes the sources draw', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect x="2" y="2" width="60" height="20" fill="#4c78a8"/><text x="4" y="34" font-family="DejaVu Sans" font-size="12">port 4631</text></svg>';
    const worker = path.join(root, 'dist', 'figure-worker.js');
    const script = `import { Worker } from 'node:worker_threads';
const w = new Worker(${JSON.stringify(worker)}, { execArgv: [] });
w.on('message', (m) => { process.stdout.write(JSON.stringify(m.error ?? { pdf: Buffer.from(m.result.pdf).toString('base64'), png: Buffer.from(m.result.png).toString('base64') })); w.terminate(); });
w.postMessage({ id: 0, job: ${JSON.stringify(svg)} });`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    const here = await figureFilesHere(svg);
    const there = JSON.parse(r.stdout) as { pdf: string; png: string };
    expect(Buffer.from(here.png).subarray(1, 4).toString()).toBe('PNG');
    expect(there.pdf).toBe(Buffer.from(here.pdf).toString('base64'));
    expect(there.png).toBe(Buffer.from(here.png).toString('base64'));
  });
});
