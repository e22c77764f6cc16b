/**
 * An engine build as a new user would make it: the fixture project in consumer/ (its own
 * package.json and strict NodeNext tsconfig.json) installs @natatlas/bias from the
 * `npm pack` tarball of pipeline/bias (built from the checkout's sources by its prepare
 * script; no overrides, no path mapping), adds the TypeScript that `natatlas export`
 * generates, type-checks with tsc, and runs against a bias table the pipeline wrote for
 * the sample campaign. Needs the npm registry (or npm's cache) for ajv.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../pipeline/cli.ts';
import { REPO, run, sampleTables, type SampleTables } from './sample-tables.ts';

const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const PACKAGE = path.join(REPO, 'pipeline', 'bias');

interface EngineReport {
  contract: string;
  carrier: string;
  schema: string;
  family: string;
  segments: number;
  importMatches: boolean;
  drawsInside: boolean;
  generatedCarriers: string[];
  generatedMarginalMatches: boolean;
  generatedAttackMatches: boolean;
  v2: string;
  broken: string;
}

/** The package's sources (not its local dist/) in a temp folder, packed as npm publishes it. */
function pack(work: string): string {
  const pkg = path.join(work, 'package');
  fs.cpSync(PACKAGE, pkg, { recursive: true, filter: (src) => !/[\\/](dist|node_modules)$/.test(src) });
  // The build tools (tsc, @types/node) come from the checkout's install, as in a workspace.
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
  run('npm', ['pack', '--pack-destination', work, '--loglevel', 'error'], pkg);
  const tarballs = fs.readdirSync(work).filter((f) => f.endsWith('.tgz'));
  expect(tarballs).toEqual(['natatlas-bias-0.2.0.tgz']);
  return path.join(work, tarballs[0]!);
}

describe('an engine build installs @natatlas/bias from its tarball', () => {
  let sample: SampleTables;
  let work: string;
  let consumer: string;
  let table: { carrier: string; file: string };
  let report: EngineReport;

  beforeAll(async () => {
    sample = await sampleTables();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'natatlas-engine-'));
    const tarball = pack(work);
    consumer = path.join(work, 'consumer');
    fs.cpSync(path.join(REPO, 'tests', 'engine', 'consumer'), consumer, { recursive: true });
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel', 'error', tarball], consumer);

    // The table the pipeline wrote, a copy claiming the next major version, and one that breaks an invariant.
    table = sample.tables.find((t) => t.carrier === 'VodafoneNL')!;
    const text = fs.readFileSync(table.file, 'utf8');
    fs.mkdirSync(path.join(consumer, 'tables'));
    fs.writeFileSync(path.join(consumer, 'tables', 'table.json'), text);
    fs.writeFileSync(path.join(consumer, 'tables', 'v2.json'), text.replace('"natatlas.bias/2"', '"natatlas.bias/3"'));
    const broken = JSON.parse(text);
    broken.marginal[0][2] += 0.25;
    fs.writeFileSync(path.join(consumer, 'tables', 'broken.json'), JSON.stringify(broken));

    // The generated TypeScript goes into the engine's sources and is checked with them.
    const code = await main(['export', '--campaign', 'sample', '--derived', sample.derived, '--out', path.join(consumer, 'src', 'generated'), '--ts', '--quiet']);
    expect(code).toBe(0);
    run(process.execPath, [TSC, '-p', '.'], consumer);
    report = JSON.parse(run(process.execPath, ['out/src/engine.js'], consumer));
  }, 240_000);

  afterAll(() => {
    for (const dir of [work, sample?.root]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('installs with ajv as its only dependency: no arquero, vega or resvg', () => {
    const installed = JSON.parse(fs.readFileSync(path.join(consumer, 'node_modules', '@natatlas', 'bias', 'package.json'), 'utf8'));
    expect(Object.keys(installed.dependencies)).toEqual(['ajv']);
    const top = fs.readdirSync(path.join(consumer, 'node_modules')).filter((n) => !n.startsWith('.'));
    for (const heavy of ['arquero', 'vega', 'vega-lite', '@resvg', '@uwdata']) expect(top).not.toContain(heavy);
    const shipped = fs.readdirSync(path.join(consumer, 'node_modules', '@natatlas', 'bias', 'dist'));
    expect(shipped).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'read.js', 'sample.js', 'validate.js']));
    expect(fs.existsSync(path.join(consumer, 'node_modules', '@natatlas', 'bias', 'bias-table.schema.json'))).toBe(true);
  });

  it('type-checks under strict NodeNext and reads the pipeline-written table as a BiasTable', () => {
    const written = JSON.parse(fs.readFileSync(table.file, 'utf8'));
    expect(report.contract).toBe('natatlas.bias/2');
    expect(report.carrier).toBe('VodafoneNL');
    expect(report.schema).toBe('natatlas.bias/2');
    expect(report.family).toBe(written.model.family);
    expect(report.segments).toBe(written.marginal.length);
    expect(report.segments).toBeGreaterThan(1);
    expect(report.importMatches).toBe(true);
    expect(report.drawsInside).toBe(true);
  });

  it('compiles the generated module with the engine and it holds the same tables', () => {
    expect(report.generatedCarriers).toEqual(sample.tables.map((t) => t.carrier).sort());
    expect(report.generatedMarginalMatches).toBe(true);
    expect(report.generatedAttackMatches).toBe(true);
  });

  it('refuses an unknown major version and a table that breaks the contract, naming the file', () => {
    expect(report.v2).toBe('tables/v2.json: contract version "natatlas.bias/3" (major 3) is not supported: this reader reads "natatlas.bias/2" only; install a @natatlas/bias release that reads major version 3');
    expect(report.broken).toMatch(/^tables\/broken\.json: fails the natatlas\.bias\/2 contract: marginal: masses sum to 1\.2[45]\d*, not 1$/);
  });
});
