/**
 * `natatlas export`, checked by running what it generates. The sample campaign's tables
 * (written by the pipeline) are exported twice (byte-identical), then the Kotlin file is
 * compiled with Debian's kotlinc and run on the JVM, and the TypeScript module is run
 * with tsx, each drawing 100k ports per carrier from a fixed seed (harness/). The ports
 * must fit the table's marginal (chi-square over the segments, cut into sub-ranges; the
 * test's own p-value, chi-square.ts), and block carriers' next ports must stay in the
 * last port's block as often as the table's pSameBlock says. A second campaign whose
 * carrier names are hostile strings checks that identifiers are valid, distinct and
 * that the real names survive. kotlinc is compiled once for everything (it is slow to start).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BiasTable, PortSegment } from '@natatlas/bias';
import { main } from '../../pipeline/cli.ts';
import { segmentFit } from './chi-square.ts';
import { REPO, run, sampleTables, type SampleTables } from './sample-tables.ts';

const DRAWS = 100_000;
const SEED = 20240611;
const TSX = path.join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** Carrier names no identifier rule survives unchanged; two pairs differ only by case or by sanitising. */
const NAMES = ['KPN', 'kpn', 'a b', 'a_b', 'class', 'String', 'PortSampler', '1x', 'Odido/\u00dc "$x" \\ */ /*', '\u00e9\u00e9', '\u{1f600}', 'x\ny', '', 'lone \ud800'];

const DELTA = { kind: 'delta', segments: [[1, 4, 0.25], [5, 8, 0.75]] };

function findOnPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, command);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not in this folder
    }
  }
  return null;
}

const KOTLINC = findOnPath('kotlinc');
const JAVA = findOnPath('java');
if (!KOTLINC && !process.env.CI) console.warn('skipping the Kotlin half of tests/engine/export.test.ts: kotlinc not found (Debian: apt-get install kotlin; .ci/run installs it)');
const kotlinIt = KOTLINC || process.env.CI ? it : it.skip;

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

interface Draws {
  name: string;
  lookupOk: boolean;
  ports: number[];
  pairs: number[];
}

/** The harness output, by table sha256. */
function parseDraws(text: string): Map<string, Draws> {
  const out = new Map<string, Draws>();
  const lines = text.trim().split('\n');
  for (let i = 0; i < lines.length; i += 3) {
    const [tag, sha, hex, ok] = lines[i]!.split(' ');
    expect(tag).toBe('carrier');
    const name = String.fromCharCode(...(hex!.match(/.{4}/g) ?? []).map((h) => parseInt(h, 16)));
    const numbers = (line: string, head: string) => {
      const [first, ...rest] = line.split(' ');
      expect(first).toBe(head);
      return rest.map(Number);
    };
    out.set(sha!, { name, lookupOk: ok === 'ok', ports: numbers(lines[i + 1]!, 'ports'), pairs: numbers(lines[i + 2]!, 'pairs') });
  }
  return out;
}

/** P(next port in the last port's aligned block) when last ~ marginal: p + (1 - p) * sum over blocks of mass^2. */
function sameBlockProbability(marginal: readonly PortSegment[], blockSize: number, pSame: number): number {
  const blockMass = new Map<number, number>();
  for (const [from, to, mass] of marginal) {
    for (let b = from - (from % blockSize); b <= to; b += blockSize) {
      const overlap = Math.min(to, b + blockSize - 1) - Math.max(from, b) + 1;
      blockMass.set(b, (blockMass.get(b) ?? 0) + (mass * overlap) / (to - from + 1));
    }
  }
  let collide = 0;
  for (const m of blockMass.values()) collide += m * m;
  return pSame + (1 - pSame) * collide;
}

function checkDraws(draws: Map<string, Draws>, sample: SampleTables): void {
  for (const { carrier, file } of sample.tables) {
    const table: BiasTable = JSON.parse(fs.readFileSync(file, 'utf8'));
    const d = draws.get(sha256(file));
    expect(d?.name).toBe(carrier);
    expect(d!.lookupOk).toBe(true);
    expect(d!.ports).toHaveLength(DRAWS);
    const fit = segmentFit(d!.ports, table.marginal);
    expect({ carrier, outside: fit.outside }).toEqual({ carrier, outside: 0 });
    expect({ carrier, p: fit.p > 1e-3 }).toEqual({ carrier, p: true });
    const nexts = d!.pairs.filter((_, i) => i % 2 === 1);
    const lasts = d!.pairs.filter((_, i) => i % 2 === 0);
    const c = table.conditional;
    if (c === null) {
      // No conditional model: the next port is a fresh marginal draw.
      expect({ carrier, p: segmentFit(nexts, table.marginal).p > 1e-3 }).toEqual({ carrier, p: true });
    } else if (c.kind === 'block') {
      const same = nexts.filter((n, i) => Math.floor(n / c.blockSize) === Math.floor(lasts[i]! / c.blockSize)).length / DRAWS;
      const expected = sameBlockProbability(table.marginal, c.blockSize, c.pSameBlock);
      const sd = Math.sqrt((expected * (1 - expected)) / DRAWS);
      expect({ carrier, z: Math.abs(same - expected) / sd < 4 }).toEqual({ carrier, z: true });
    }
  }
}

/** Every hostile name came back, found by lookup; the delta carrier's next ports are the last plus 1..8. */
function checkNames(draws: Map<string, Draws>): void {
  const names = [...draws.values()].filter((d) => d.ports.length === 10);
  expect(names.map((d) => d.name).sort()).toEqual([...NAMES].sort());
  expect(names.every((d) => d.lookupOk)).toBe(true);
  const delta = names.find((d) => d.name === NAMES[1])!;
  const gaps = delta.pairs.filter((_, i) => i % 2 === 1).map((next, i) => next - delta.pairs[2 * i]!);
  expect(gaps.every((g) => g >= 1 && g <= 8)).toBe(true);
}

/** The names campaign: copies of the sample's tables under hostile carrier names, with their index. */
function namesCampaign(sample: SampleTables, derived: string): void {
  const dir = path.join(derived, 'names', 'bias');
  fs.mkdirSync(dir, { recursive: true });
  const tables = NAMES.map((carrier, i) => {
    const table = JSON.parse(fs.readFileSync(sample.tables[i % sample.tables.length]!.file, 'utf8'));
    table.carrier = carrier;
    // The sample has no sequential carrier: one copy gets a delta model, so its code compiles and runs too.
    if (i === 1) table.conditional = DELTA;
    const file = `t${i}.json`;
    const text = JSON.stringify(table);
    fs.writeFileSync(path.join(dir, file), text);
    return { carrier, file, sha256: crypto.createHash('sha256').update(text).digest('hex'), family: table.model.family, behavior: table.mapping.behavior };
  });
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schema: 'natatlas.bias-index/1', campaign: 'names', tables, skipped: [] }));
}

async function exportTo(derived: string, campaign: string, out: string, pkg: string): Promise<void> {
  expect(await main(['export', '--campaign', campaign, '--derived', derived, '--out', out, '--kotlin-package', pkg, '--quiet'])).toBe(0);
}

describe('natatlas export', () => {
  let sample: SampleTables;
  let work: string;
  let kotlin: string | Error;

  beforeAll(async () => {
    sample = await sampleTables();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'natatlas-export-'));
    const namesDerived = path.join(work, 'derived');
    namesCampaign(sample, namesDerived);
    await exportTo(sample.derived, 'sample', path.join(work, 'sample'), 'engine.sample');
    await exportTo(sample.derived, 'sample', path.join(work, 'again'), 'engine.sample');
    await exportTo(namesDerived, 'names', path.join(work, 'names'), 'engine.names');
    fs.copyFileSync(path.join(REPO, 'tests', 'engine', 'harness', 'draw-ports.ts'), path.join(work, 'draw-ports.ts'));
    fs.copyFileSync(path.join(REPO, 'tests', 'engine', 'harness', 'DrawPorts.kt'), path.join(work, 'DrawPorts.kt'));
    if (KOTLINC && JAVA) {
      try {
        const jar = path.join(work, 'draw.jar');
        run(KOTLINC, [path.join(work, 'sample', 'BiasTables.kt'), path.join(work, 'names', 'BiasTables.kt'), path.join(work, 'DrawPorts.kt'), '-include-runtime', '-d', jar], work, 300_000);
        kotlin = run(JAVA, ['-cp', jar, 'DrawPortsKt', String(DRAWS), String(SEED)], work);
      } catch (e) {
        kotlin = e instanceof Error ? e : new Error(String(e));
      }
    } else {
      kotlin = new Error('kotlinc or java not found on PATH: .ci/run installs Debian\'s kotlin (apt-get install kotlin)');
    }
  }, 400_000);

  afterAll(() => {
    for (const dir of [work, sample?.root]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the same bytes every run, ASCII only, with the contract and each input hash in the header', () => {
    for (const f of ['bias-tables.ts', 'BiasTables.kt']) {
      const text = fs.readFileSync(path.join(work, 'sample', f), 'utf8');
      expect(fs.readFileSync(path.join(work, 'again', f), 'utf8') === text).toBe(true);
      expect(/^[\x20-\x7e\n]*$/.test(text)).toBe(true);
      const head = text.slice(0, text.indexOf('\n\n'));
      expect(head).toMatch(/natatlas\.bias\/2/);
      for (const t of sample.tables) expect(head).toContain(`"${path.basename(t.file)}"`);
      for (const t of sample.tables) expect(head).toContain(sha256(t.file));
      expect(head).not.toMatch(/\d{4}-\d\d-\d\dT/);
    }
    expect(fs.readdirSync(path.join(work, 'sample')).sort()).toEqual(['BiasTables.kt', 'bias-tables.ts']);
  });

  it('gives every carrier a distinct identifier, the same in both languages, keeping plain names', () => {
    const kt = [...fs.readFileSync(path.join(work, 'names', 'BiasTables.kt'), 'utf8').matchAll(/^object (\w+) : TablePortSampler\(/gm)].map((m) => m[1]!);
    const ts = [...fs.readFileSync(path.join(work, 'names', 'bias-tables.ts'), 'utf8').matchAll(/^export const (\w+): CarrierTable = /gm)].map((m) => m[1]!);
    expect(kt).toHaveLength(NAMES.length);
    expect(ts).toEqual(kt);
    expect(new Set(kt.map((id) => id.toLowerCase())).size).toBe(NAMES.length);
    expect(kt).toContain('a_b');
    expect(kt.filter((id) => /^a_b_[0-9a-f]{8}$/.test(id))).toHaveLength(1);
    expect(kt).not.toContain('KPN');
    expect(kt).not.toContain('class');
    const sampleIds = [...fs.readFileSync(path.join(work, 'sample', 'BiasTables.kt'), 'utf8').matchAll(/^object (\w+) : /gm)].map((m) => m[1]);
    expect(sampleIds).toEqual(sample.tables.map((t) => t.carrier).sort());
  });

  kotlinIt('compiles with kotlinc; on the JVM 100k draws per carrier fit the marginal and the block model', () => {
    if (kotlin instanceof Error) throw kotlin;
    const draws = parseDraws(kotlin);
    checkDraws(draws, sample);
    checkNames(draws);
  });

  it('runs under tsx; 100k draws per carrier fit the marginal and the block model', () => {
    const draws = parseDraws(run(process.execPath, [TSX, 'draw-ports.ts', String(DRAWS), String(SEED)], work));
    checkDraws(draws, sample);
    checkNames(draws);
  });
});
