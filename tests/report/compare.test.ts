/**
 * natatlas compare: two simulated campaigns that differ only in one carrier's Beta
 * parameters flag exactly that carrier; two captures of the same NATs with different
 * seeds flag none (block NATs included, whose ports inside a block are not independent
 * draws, and a sequential one). Fixed seeds.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { compareCampaigns, COMPARE_CSV_COLUMNS } from '../../pipeline/compare/index.ts';
import { ksTwoSample } from '../../pipeline/compare/stats.ts';
import { blockVisits } from '../../pipeline/compare/samples.ts';
import { runPipeline } from '../../pipeline/run.ts';
import { preset, simulateCampaign, type CarrierSim } from '../../pipeline/simulate/index.ts';
import { FAST_RUN, recordingLogger, tempProject } from '../helpers/tmp.ts';
import type { Allocations } from '../../pipeline/fit/allocations.ts';

const BIN = path.resolve('pipeline/bin/natatlas.js');
const NAMES = ['VodafoneNL', 'Odido', 'KPN', 'SeqCarrier'];

function carriers(beta?: { alpha: number; beta: number }): CarrierSim[] {
  return NAMES.map((n) => {
    const c = preset(n);
    if (beta && n === 'VodafoneNL') c.nat.model = { ...c.nat.model, ...beta } as CarrierSim['nat']['model'];
    return c;
  });
}

describe('two-sample pieces', () => {
  it('KS statistic and p-value match hand-computed values', () => {
    // F_a and F_b differ most after 3: 3/4 against 0/4, so D = 0.75; effective n = 2; P(K > 0.75 sqrt(2)).
    const r = ksTwoSample([1, 2, 3, 4], [4, 5, 6, 7]);
    expect(r.d).toBeCloseTo(0.75, 12);
    expect(r.at).toBe(3);
    // Kolmogorov tail at t = 1.06066: 2 sum (-1)^{k-1} e^{-2k²t²} = 0.2106 (tabulated).
    expect(r.p).toBeCloseTo(0.2106, 3);
    expect(ksTwoSample([5, 5, 5], [5, 5]).d).toBe(0);
  });

  it('keeps one port per block visit', () => {
    const port = Uint16Array.from([256, 300, 511, 1024, 1100, 300, 2048, 2050]);
    const run = Uint32Array.from([0, 0, 0, 0, 0, 0, 1, 1]);
    const a = { n: 8, port, run } as unknown as Allocations;
    // Blocks of 256: 1,1,1,4,4,1 | 8,8: visits start at 256, 1024, 300 and (new run) 2048.
    expect(blockVisits(a, 256)).toEqual([256, 1024, 300, 2048]);
  });
});

describe('natatlas compare', () => {
  let paths: ReturnType<typeof tempProject>;

  beforeAll(async () => {
    paths = tempProject();
    await simulateCampaign({ outDir: paths.raw, campaign: 'march', carriers: carriers(), runs: 4, packets: 3200, seed: 'compare-march' });
    await simulateCampaign({ outDir: paths.raw, campaign: 'june', carriers: carriers({ alpha: 3.0, beta: 5.0 }), runs: 4, packets: 3200, seed: 'compare-june' });
    await simulateCampaign({ outDir: paths.raw, campaign: 'rerun', carriers: carriers(), runs: 4, packets: 3200, seed: 'compare-rerun' });
    await runPipeline({ paths, ...FAST_RUN }, recordingLogger());
  }, 300_000);

  it('flags exactly the carrier whose Beta parameters changed', async () => {
    const r = await compareCampaigns({ paths, a: 'march', b: 'june', draft: true }, recordingLogger());
    expect(r.carriers.map((c) => [c.carrier, c.verdict])).toEqual([['KPN', 'same'], ['Odido', 'same'], ['SeqCarrier', 'same'], ['VodafoneNL', 'changed']]);
    const v = r.carriers.find((c) => c.carrier === 'VodafoneNL')!;
    expect(v.test!.kind).toBe('ports');
    expect(v.test!.p).toBeLessThan(1e-10);
    expect(v.line).toMatch(/^VodafoneNL: changed: allocations differ \(KS D = [\d.]+ on ports, p = [\d.]+e-\d+\) \(beta\)$/);
    // The parameters side by side: alpha moved by far more than its standard errors, loc and scale did not.
    const alpha = v.params.find((p) => p.name === 'alpha')!;
    expect([alpha.a! < 2.6, alpha.b! > 2.6, Math.abs(alpha.z!) > 3]).toEqual([true, true, true]);
    expect(Math.abs(v.params.find((p) => p.name === 'scale')!.z!)).toBeLessThan(3);
    // Block NATs are tested on their block visits, the sequential one on its steps.
    expect(r.carriers.find((c) => c.carrier === 'KPN')!.test!.kind).toBe('block visits');
    expect(r.carriers.find((c) => c.carrier === 'SeqCarrier')!.test!.kind).toBe('steps');
    const csv = fs.readFileSync(path.join(r.out, 'compare.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe(COMPARE_CSV_COLUMNS.join(','));
    expect(csv.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['KPN,same', 'Odido,same', 'SeqCarrier,same', 'VodafoneNL,changed']);
    const page = fs.readFileSync(path.join(r.out, 'index.html'), 'utf8');
    expect(page).toContain('<strong class="changed">changed</strong>');
    // The notebook draws each carrier's two samples; the changed one's ECDFs are far apart.
    for (const n of NAMES) expect(fs.existsSync(path.join(r.out, 'figures', `${n}-compare-ecdf.svg`))).toBe(true);
    // A draft (the command line's run below draws them): no PDF or PNG.
    expect(fs.readdirSync(path.join(r.out, 'figures')).filter((f) => /\.(pdf|png)$/.test(f))).toEqual([]);
    const ecdf = fs.readFileSync(path.join(r.out, 'figures', 'VodafoneNL-compare-ecdf.csv'), 'utf8').trim().split('\n');
    expect(ecdf[0]).toBe('carrier,sample,x,cdf_march,cdf_june');
    const gap = Math.max(...ecdf.slice(1).map((l) => { const c = l.split(','); return Math.abs(Number(c[3]) - Number(c[4])); }));
    // Read on a grid that includes the supremum's location, so the drawn gap is the test's D.
    expect(gap).toBeCloseTo(v.test!.d, 5);
    expect(page).toMatch(/id="fig-VodafoneNL-compare-ecdf"/);
    // Every carrier's attack line says a cost, the success reached within the budget, or that nothing was priced; never a bare dash.
    const costs = [...page.matchAll(/Biased packets per side for 99% success \([^)]*\): (.*?) in march, (.*?) in june/g)].flatMap((m) => [m[1]!, m[2]!]);
    expect(costs).toHaveLength(2 * NAMES.length);
    for (const c of costs) expect(c).toMatch(/^(\d[\d,]*|not reached \(\d+(\.\d)?% within [\d,]+\)|not priced)$/);
    expect(page).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;|default-src 'none'/);
    expect(page).not.toMatch(/src="https?:/);
  });

  it('flags none for the same NATs captured again with another seed', async () => {
    const r = await compareCampaigns({ paths, a: 'march', b: 'rerun', draft: true }, recordingLogger());
    expect(r.carriers.map((c) => [c.carrier, c.verdict, c.reasons])).toEqual(NAMES.slice().sort().map((n) => [n, 'same', []]));
  });

  it('runs from the command line: one verdict line per carrier on stdout, then the page', () => {
    const out = path.join(paths.root, 'cmp');
    const r = spawnSync(process.execPath, [BIN, 'compare', 'march', 'june', '--derived', paths.derived, '--out', out, '--quiet'], { encoding: 'utf8', timeout: 120_000 });
    expect([r.status, r.stderr]).toEqual([0, '']);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[3]).toMatch(/^VodafoneNL: changed/);
    expect(lines[4]).toBe(path.relative(process.cwd(), path.join(out, 'index.html')));
    for (const n of NAMES) for (const ext of ['pdf', 'png']) expect(fs.existsSync(path.join(out, 'figures', `${n}-compare-ecdf.${ext}`))).toBe(true);
    const bad = spawnSync(process.execPath, [BIN, 'compare', 'march', '--derived', paths.derived], { encoding: 'utf8', timeout: 60_000 });
    expect([bad.status, bad.stderr.trim()]).toEqual([1, 'natatlas compare: compare takes two campaign names, got "march" (see natatlas compare --help)']);
    // An analyst's comparison notebook whose cell throws: the page shows it, the command fails naming the line.
    const nbDir = path.join(paths.root, 'my-notebooks');
    fs.mkdirSync(nbDir, { recursive: true });
    fs.writeFileSync(path.join(nbDir, 'mine.md'), '---\ntitle: Mine {a} {b}\nfor: comparison\n---\n\n```js\ncompare.verdicts()\n```\n\n```js\ncompare.carrier("NoSuchCarrier")\n```\n');
    const failing = spawnSync(process.execPath, [BIN, 'compare', 'march', 'june', '--derived', paths.derived, '--out', path.join(paths.root, 'cmp-mine'), '--notebooks', nbDir, '--quiet'], { encoding: 'utf8', timeout: 120_000 });
    expect(failing.status).toBe(1);
    expect(failing.stderr.trim()).toMatch(/^natatlas compare: compare march vs june: 1 notebook failure \(pages written to .*\): my-notebooks\/mine.md:11 \(cell-[0-9a-f]{8}\): NatatlasError: NoSuchCarrier is not compared \(compared: KPN, Odido, SeqCarrier, VodafoneNL\)$/);
    const minePage = fs.readFileSync(path.join(paths.root, 'cmp-mine', 'mine.html'), 'utf8');
    expect(minePage).toContain('<strong class="changed">changed</strong>');
    expect(minePage).toMatch(/class="cell-error"/);
    const missing = spawnSync(process.execPath, [BIN, 'compare', 'march', 'nope', '--derived', paths.derived], { encoding: 'utf8', timeout: 60_000 });
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^natatlas compare: campaign nope: no derived data under .*: run `natatlas run --campaign nope` first$/);
  });
});
