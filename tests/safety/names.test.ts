/**
 * Names are data, files are ours (issue 10, item 2): carrier folders named `index`,
 * `__proto__`, with a newline, 240 characters long, holding an ANSI escape, and `kpn`
 * beside `KPN` all run end to end, each keeps its own outputs under a bounded, portable
 * file name, and the real name stays inside the files.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { FileNames, fileStem, printable } from '../../pipeline/io/names.ts';
import { preset, simulateCampaign } from '../../pipeline/simulate/index.ts';
import { natatlas, Temps, walk } from './helpers.ts';

const sha8 = (name: string) => crypto.createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 8);
const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

describe('file names for data-given names', () => {
  it('keeps plain names as they are', () => {
    for (const n of ['KPN', 'VodafoneNL', 'masq-preserve', 'masq_narrow', 'Odido.v2', 'a']) expect(fileStem(n)).toBe(n);
    expect(new FileNames(['KPN', 'Odido', 'VodafoneNL']).stem('KPN')).toBe('KPN');
  });

  it('gives unsafe, reserved and overlong names a slug and the first 8 hex digits of their sha256', () => {
    const long = 'L'.repeat(240);
    for (const n of ['index', 'INDEX', 'index.v2', 'figures', 'con', 'LPT1.x', '__proto__', '.', '..', '.hidden', 'a..b', 'trailing.', 'new\nline', '\u001b[31mred', 'a b', 'é', long, 'abc-0123abcd']) {
      const stem = fileStem(n);
      expect(stem).not.toBe(n);
      expect(stem).toMatch(SAFE);
      expect(stem.endsWith(`-${sha8(n)}`)).toBe(true);
      expect(Buffer.byteLength(stem)).toBeLessThanOrEqual(64);
    }
  });

  it('keeps names that differ only in case apart, for case-insensitive file systems', () => {
    const names = new FileNames(['KPN', 'kpn', 'Odido']);
    expect(names.stem('KPN')).toBe(`KPN-${sha8('KPN')}`);
    expect(names.stem('kpn')).toBe(`kpn-${sha8('kpn')}`);
    expect(names.stem('Odido')).toBe('Odido');
  });

  it('is injective up to case, portable and bounded over arbitrary names (fast-check, fixed seed)', () => {
    const plainish = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,12}$/);
    const cased = plainish.chain((s) => fc.constantFrom(s, s.toUpperCase(), s.toLowerCase()));
    const anything = fc.string({ unit: 'binary', maxLength: 300 });
    const reserved = fc.constantFrom('index', 'Index', 'INDEX.json', '__proto__', 'constructor', '.', '..', 'figures', 'nul');
    fc.assert(
      fc.property(fc.uniqueArray(fc.oneof(cased, anything, reserved), { maxLength: 12 }), (list) => {
        const names = new FileNames(list);
        const folded = new Set<string>();
        for (const n of list) {
          const stem = names.stem(n);
          expect(stem).toMatch(SAFE);
          expect(Buffer.byteLength(stem)).toBeLessThanOrEqual(64);
          expect(['index', 'figures', 'con', 'nul']).not.toContain(stem.split('.')[0]!.toLowerCase());
          folded.add(stem.toLowerCase());
        }
        expect(folded.size).toBe(list.length);
      }),
      { seed: 10, numRuns: 400 },
    );
  });

  it('shows control characters as escapes on the terminal', () => {
    expect(printable('\u001b[31mred\nline\ttab\u202e')).toBe('\\x1b[31mred\\nline\\ttab\\u202e');
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => !/[\u0000-\u001f\u007f-\u009f]/.test(printable(s))), { seed: 10, numRuns: 300 });
  });
});

describe('carriers with hostile folder names, end to end through the CLI', () => {
  const temps = new Temps();
  afterAll(() => temps.cleanup());

  // One folder name that is 240 characters long, holds an ANSI escape and a newline (each broke a run before).
  const NASTY = `\u001b[31mnew\nline-${'x'.repeat(226)}`;
  const NAMES = ['KPN', 'kpn', 'index', '__proto__', NASTY];

  it('runs every stage (exit 0), one set of outputs per carrier, real names inside, bounded and case-distinct file names', async () => {
    const root = temps.make();
    await simulateCampaign({ outDir: path.join(root, 'raw'), campaign: 'c', carriers: [preset('KPN')], runs: 2, packets: 300, seed: 3 });
    const kpnDir = path.join(root, 'raw', 'c', 'KPN');
    for (const n of NAMES.slice(1)) fs.cpSync(kpnDir, path.join(root, 'raw', 'c', n), { recursive: true });

    // A draft: every figure's PDF and PNG take the name its SVG and CSV get (registry.ts),
    // and drawing them for five carriers was two thirds of this file's CPU.
    const r = await natatlas(['run', '--no-montecarlo', '--draft'], root);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    // Names reach the terminal escaped: no raw ESC, and the newline name stays on one line.
    expect(r.stderr + r.stdout).not.toContain('\u001b');
    expect(NASTY).toHaveLength(240);
    expect(r.stderr).toContain(`join c/\\x1b[31mnew\\nline-${'x'.repeat(226)}:`);

    const derived = path.join(root, 'derived', 'c');
    const manifest = JSON.parse(fs.readFileSync(path.join(derived, 'ingest', 'manifest.json'), 'utf8')) as { carriers: Record<string, unknown> };
    expect(Object.keys(manifest.carriers).sort()).toEqual([...NAMES].sort());

    // bias/index.json lists every carrier with its own table; each hash is of that file's bytes.
    const index = JSON.parse(fs.readFileSync(path.join(derived, 'bias', 'index.json'), 'utf8')) as { schema: string; tables: { carrier: string; file: string; sha256: string }[] };
    expect(index.schema).toBe('natatlas.bias-index/1');
    expect(index.tables.map((t) => t.carrier).sort()).toEqual([...NAMES].sort());
    expect(new Set(index.tables.map((t) => t.file)).size).toBe(NAMES.length);
    const kpnTable = JSON.parse(fs.readFileSync(path.join(derived, 'bias', index.tables.find((t) => t.carrier === 'KPN')!.file), 'utf8')) as Record<string, unknown>;
    for (const t of index.tables) {
      expect(t.file).not.toBe('index.json');
      const bytes = fs.readFileSync(path.join(derived, 'bias', t.file));
      expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(t.sha256);
      const table = JSON.parse(bytes.toString('utf8')) as { carrier: string; source: { files: { path: string }[] } } & Record<string, unknown>;
      expect(table.carrier).toBe(t.carrier);
      // Every folder holds a copy of KPN's captures: the same model, whatever the name.
      expect(table.source.files.map((f) => f.path)).toEqual((kpnTable.source as typeof table.source).files.map((f) => f.path.replace('c/KPN/', `c/${t.carrier}/`)));
      expect({ ...table, carrier: null, source: { ...table.source, files: null } }).toEqual({ ...kpnTable, carrier: null, source: { ...(kpnTable.source as object), files: null } });
    }

    // One report page per carrier besides index.html.
    const pages = fs.readdirSync(path.join(root, 'reports', 'c')).filter((f) => f.endsWith('.html'));
    expect(pages).toHaveLength(NAMES.length + 1);
    expect(pages).toContain('index.html');

    // Every name natatlas wrote: bounded, and no two in one folder equal ignoring case.
    for (const tree of [path.join(root, 'derived'), path.join(root, 'reports')]) {
      const rels = walk(tree);
      for (const rel of rels) for (const part of rel.split(path.sep)) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(100);
      const byFolder = new Map<string, string[]>();
      for (const rel of rels) byFolder.set(path.dirname(rel), [...(byFolder.get(path.dirname(rel)) ?? []), path.basename(rel).toLowerCase()]);
      for (const [folder, names] of byFolder) expect({ folder, dupes: names.filter((n, i) => names.indexOf(n) !== i) }).toEqual({ folder, dupes: [] });
    }
  });
});
