/**
 * Freshness per stage: a stage's stamp hashes the code it imports (code-closure.ts),
 * not all of pipeline/. Checked on the real sources (which files each stage's closure
 * holds) and end to end on a temp copy of natatlas, whose code the test edits: the
 * checkout is never modified.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importClosure, referencesOf } from '../../pipeline/code-closure.ts';
import { keyOf } from '../../pipeline/freshness.ts';
import { STAGES } from '../../pipeline/stages/index.ts';
import { silentLogger } from '../../pipeline/context.ts';
import { tempDir } from '../helpers/tempdir.ts';
import { writeFiles } from '../helpers/tmp.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PIPELINE = path.join(REPO, 'pipeline');

/** The closure of a stage's module, as paths relative to pipeline/. */
function closureOf(stage: string, root = PIPELINE): string[] {
  const s = STAGES.find((x) => x.name === stage)!;
  const entry = path.join(root, path.relative(PIPELINE, fileURLToPath(s.code)));
  return importClosure(entry, root).map((f) => path.relative(root, f).split(path.sep).join('/'));
}

describe('a stage module\'s import closure', () => {
  it('follows static, dynamic and URL references, but not type-only imports or comments', () => {
    const source = [
      "import fs from 'node:fs';",
      "import type { CarrierFit } from '../contracts/fit.ts';",
      "import { a, type B } from './a.ts';",
      'import {',
      '  c,',
      "} from './c.ts';",
      "export { d } from './d.ts';",
      "export type { E } from './e.ts';",
      "const f = await import('./f.ts');",
      "const w = new URL('./worker.ts', import.meta.url);",
      "// import { g } from './g.ts';",
      "/* const h = await import('./h.ts'); */",
    ].join('\n');
    expect(referencesOf(source).sort()).toEqual(['./a.ts', './c.ts', './d.ts', './f.ts', './worker.ts', 'node:fs']);
  });

  it('holds the report code behind the report stage\'s lazy import, and only the report stage does', () => {
    const report = closureOf('report');
    expect(report).toEqual(expect.arrayContaining(['stages/report.ts', 'report/index.ts', 'report/charts/port-histogram.ts', 'report/html/style.css']));
    for (const stage of ['ingest', 'join', 'fit', 'evaluate', 'bias']) expect(closureOf(stage).filter((f) => f.startsWith('report/'))).toEqual([]);
  });

  it('holds fit code in the fit stage only, the referee worker in evaluate, and @natatlas/bias\'s sources in bias', () => {
    expect(closureOf('fit')).toEqual(expect.arrayContaining(['fit/families.ts', 'fit/block.ts', 'contracts/fit.ts', 'contracts/schemas/fit.schema.json']));
    for (const stage of ['ingest', 'join']) expect(closureOf(stage).filter((f) => f.startsWith('fit/'))).toEqual([]);
    expect(closureOf('evaluate')).toContain('evaluate/referee/worker.ts');
    expect(closureOf('bias')).toEqual(expect.arrayContaining(['bias/src/index.ts', 'bias/src/validate.ts', 'bias/bias-table.schema.json']));
    expect(closureOf('ingest')).not.toContain('stages/join.ts');
  });
});

describe('stamps', () => {
  it('name a --notebooks folder outside the roots by its own root, and any other outside file by a hash, never by its path', () => {
    const base = tempDir('keys');
    const paths = { raw: path.join(base, 'raw'), derived: path.join(base, 'derived'), reports: path.join(base, 'reports') };
    const notebooks = path.join(base, 'elsewhere', 'nb');
    const ctx = { campaign: 'c', paths, log: silentLogger, settings: { notebooks } };
    expect(keyOf(ctx, path.join(notebooks, 'overview.md'))).toBe('notebooks/overview.md');
    expect(keyOf(ctx, path.join(paths.raw, 'c', 'K', 'client-1.csv'))).toBe('raw/c/K/client-1.csv');
    const outside = keyOf({ ...ctx, settings: {} }, path.join(notebooks, 'overview.md'));
    expect(outside).toMatch(/^outside\/[0-9a-f]{16}$/);
    expect(outside).not.toBe(keyOf({ ...ctx, settings: {} }, path.join(notebooks, 'carrier.md')));
  });
});

const U = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** natatlas's code, notebooks and package.json in a temp folder, with the checkout's installed packages. */
function copyOfNatatlas(): string {
  const root = path.join(tempDir('code'), 'natatlas');
  fs.mkdirSync(root);
  // With the bias package's built dist/: the copy's own @natatlas/bias (a workspace package) resolves to it.
  fs.cpSync(PIPELINE, path.join(root, 'pipeline'), { recursive: true });
  fs.cpSync(path.join(REPO, 'notebooks'), path.join(root, 'notebooks'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) fs.copyFileSync(path.join(REPO, f), path.join(root, f));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  return root;
}

describe('editing natatlas\'s code (on a temp copy of it)', () => {
  it('reruns only the report after a chart module edit, and fit and what follows after a fit edit that changes its output', () => {
    const natatlas = copyOfNatatlas();
    const project = tempDir('code-run');
    const client = ['Message id, Time, Sender Port, Receiver Port, Success'];
    const server = ['Message id, Time, Sender Port, Receiver Port'];
    for (let i = 1; i <= 60; i++) {
      client.push(`${U(i)}, ${1000 + 20 * i}, ${40000 + i}, ${i % 2 === 0 ? 5000 : 5001}, S`);
      server.push(`${U(i)}, ${1400 + 20 * i}, ${50000 + ((i * 7919) % 9000)}, ${i % 2 === 0 ? 5000 : 5001}`);
    }
    writeFiles(path.join(project, 'raw'), { 'camp/C/client-1.csv': `${client.join('\n')}\n`, 'camp/C/server-1.csv': `${server.join('\n')}\n` });
    const run = (): Record<string, string> => {
      const r = spawnSync(process.execPath, [path.join(natatlas, 'pipeline', 'bin', 'natatlas.js'), 'run', '--no-montecarlo', '--draft', '--raw', 'raw', '--derived', 'derived', '--reports', 'reports'], { cwd: project, encoding: 'utf8' });
      expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
      // `[stale] camp: fit (natatlas code changed)` / `[fresh] camp: ingest`, per stage.
      return Object.fromEntries([...r.stderr.matchAll(/^\[(fresh|stale)\] camp: (\w+)(?: \((.*)\))?$/gm)].map((m) => [m[2]!, m[1] === 'fresh' ? 'fresh' : m[3]!]));
    };
    const edit = (rel: string, from: string | null, to: string) => {
      const file = path.join(natatlas, 'pipeline', rel);
      const text = fs.readFileSync(file, 'utf8');
      if (from !== null) expect(text).toContain(from);
      fs.writeFileSync(file, from === null ? `${text}${to}` : text.replace(from, to));
    };
    const fresh = { ingest: 'fresh', join: 'fresh', fit: 'fresh', evaluate: 'fresh', bias: 'fresh', report: 'fresh' };

    expect(Object.values(run())).toEqual(Array(6).fill('never run'));
    expect(run()).toEqual(fresh);

    edit('report/charts/port-histogram.ts', null, '\n// An edit to one chart module.\n');
    expect(run()).toEqual({ ...fresh, report: 'natatlas code changed' });

    // The window is recorded in the fit (mapping.evidence.windowS): the fit's output changes.
    edit('fit/carrier.ts', 'export const DEFAULT_MAPPING_WINDOW_S = 10;', 'export const DEFAULT_MAPPING_WINDOW_S = 11;');
    expect(run()).toEqual({ ...fresh, fit: 'natatlas code changed', evaluate: 'input derived/camp/fit/C.json changed', bias: 'input derived/camp/fit/C.json changed', report: 'input derived/camp/fit/C.json changed' });

    // A fit edit that leaves its output as it was: fit reruns, and what follows is still fresh.
    edit('fit/families.ts', null, '\n// A comment: same output.\n');
    expect(run()).toEqual({ ...fresh, fit: 'natatlas code changed' });
  });
});
