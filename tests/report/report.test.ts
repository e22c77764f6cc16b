import fs from 'node:fs';
import path from 'node:path';
import { report, ReportFailed } from '../../pipeline/report/index.ts';
import { fileStem } from '../../pipeline/report/names.ts';
import { recordingLogger, snapshot } from '../helpers/tmp.ts';
import { buildFixture, CAMPAIGN, HOSTILE, listTree, type Fixture } from './fixture.ts';

let fx: Fixture;
let out: string;
let log: ReturnType<typeof recordingLogger>;
let result: Awaited<ReturnType<typeof report>>;

beforeAll(async () => {
  fx = await buildFixture();
  log = recordingLogger();
  result = await report({ campaign: CAMPAIGN, paths: fx, log });
  out = path.join(fx.reports, CAMPAIGN);
});

const read = (rel: string) => fs.readFileSync(path.join(out, rel), 'utf8');
const hostileStem = () => fileStem(HOSTILE);

describe('report stage', () => {
  it('writes index.html, one page per carrier, figures and LaTeX tables under stable names', () => {
    const files = listTree(out);
    const stem = hostileStem();
    expect(stem).toMatch(/^img-src-x-onerror-alert-1-[0-9a-f]{8}$/);
    expect(files).toEqual(expect.arrayContaining([
      'index.html', 'KPN.html', `${stem}.html`,
      'figures/KPN-port-histogram.svg', 'figures/KPN-port-histogram.png', 'figures/KPN-port-histogram.csv',
      'figures/KPN-port-ecdf.svg', 'figures/KPN-send-order.svg', 'figures/KPN-local-vs-external.svg', 'figures/KPN-timeouts.svg', 'figures/KPN-attack-success.svg',
      `figures/${stem}-port-histogram.png`,
      'figures/attack-gain-p99.svg', 'figures/attack-gain-p99.png', 'figures/attack-gain-p99.csv',
      'figures/attack-success-KPN-x-KPN.svg', 'figures/attack-success-KPN-x-KPN.png', 'figures/attack-success-KPN-x-KPN.csv',
      'figures/success-matrix.svg', 'figures/success-matrix.png', 'figures/success-matrix.csv',
      'figures/success-matrix.tex', 'figures/success-matrix-naive.tex', 'figures/success-matrix-biased.tex',
      'figures/model-parameters.tex', 'figures/attack-costs.tex',
    ]));
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(result.outputs).toEqual([out]);
    // Campaign pages first, then carrier pages in carrier (folder name) order.
    expect(result.pages.map((p) => p.file)).toEqual(['index.html', ...fx.carriers.map((c) => `${fileStem(c)}.html`)]);
  });

  it('renders every cell without error on a complete campaign', () => {
    for (const page of result.pages) expect(page.cells.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(log.warnings).toEqual([]);
  });

  it('makes PNGs of a real size with text (fonts loaded)', () => {
    for (const f of ['figures/KPN-port-histogram.png', 'figures/success-matrix.png', 'figures/attack-success-KPN-x-KPN.png']) {
      const png = fs.readFileSync(path.join(out, f));
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(png.length).toBeGreaterThan(15_000);
    }
    // The same chart at the same size without text would be far smaller; text glyphs are paths in the PNG only.
    expect(read('figures/KPN-port-histogram.svg')).toMatch(/<text[^>]*>external port<\/text>/);
  });

  it('writes a vector PDF of every figure, the size of its SVG, with the fonts embedded', () => {
    const figs = listTree(path.join(out, 'figures'));
    const svgs = figs.filter((f) => f.endsWith('.svg'));
    expect(figs.filter((f) => f.endsWith('.pdf')).map((f) => f.replace(/\.pdf$/, ''))).toEqual(svgs.map((f) => f.replace(/\.svg$/, '')));
    for (const f of ['KPN-port-histogram', 'attack-gain-p99', 'success-matrix']) {
      const pdf = fs.readFileSync(path.join(out, 'figures', `${f}.pdf`)).toString('latin1');
      const [, w, h] = /<svg\b[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(read(`figures/${f}.svg`))!;
      expect(pdf.startsWith('%PDF-')).toBe(true);
      expect(pdf.trimEnd().endsWith('%%EOF')).toBe(true);
      expect(pdf).toContain(`/MediaBox [0 0 ${w} ${h}]`);
      expect(pdf).toMatch(/\/FontName \/[A-Z]{6}\+DejaVuSans/);
      expect(pdf).toContain('/FontFile2');
      // No raster image inside: the figure stays vector.
      expect(pdf).not.toContain('/Subtype /Image');
    }
  });

  it('escapes a hostile carrier folder name everywhere it appears', () => {
    const pages = ['index.html', 'KPN.html', `${hostileStem()}.html`];
    for (const page of pages) {
      const text = read(page);
      expect(text).not.toContain(HOSTILE);
      expect(text).not.toMatch(/<img\b/i);
    }
    const own = read(`${hostileStem()}.html`);
    expect(own).toContain('<title>Carrier &lt;img src=x onerror=alert(1)&gt;</title>');
    expect(own).toContain('<h1>Carrier &lt;img src=x onerror=alert(1)&gt;</h1>');
    // The inline charts draw it as escaped SVG text; no chart spec or data block ships with the page.
    expect(own).toMatch(/<text[^>]*>[^<]*&lt;img src=x onerror=alert\(1\)&gt;[^<]*<\/text>/);
    expect(own).not.toContain('application/json');
    // LaTeX and CSV carry it as text.
    expect(read('figures/model-parameters.tex')).toContain('\\textless{}img src=x onerror=alert(1)\\textgreater{}');
    expect(read(`figures/${hostileStem()}-port-histogram.csv`)).toContain(`"${HOSTILE}"`.replace(/^"|"$/g, ''));
  });

  it('links carrier pages by their file stem', () => {
    expect(read('index.html')).toContain(`href="${hostileStem()}.html"`);
  });

  it('puts a strict CSP, a table of contents and a provenance footer without clock time in every page', () => {
    for (const p of result.pages) {
      const text = read(p.file);
      const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(text)?.[1] ?? '';
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/script-src 'sha256-[^']+'(;|$)/);
      expect(csp).not.toMatch(/unsafe-eval|unsafe-inline|https?:/);
      expect(text).toContain('<nav class="toc"');
      expect(text).toMatch(/Built by natatlas \d+\.\d+\.\d+/);
      expect(text).not.toMatch(/\b20\d\d-\d\d-\d\dT\d\d:\d\d/);
      expect(text).not.toContain(fx.root);
      expect(text).not.toMatch(/src="https?:|href="https?:\/\/(?!vega)/);
    }
    // Raw input hashes come from the ingest manifest.
    const manifest = JSON.parse(fs.readFileSync(path.join(fx.derived, CAMPAIGN, 'ingest', 'manifest.json'), 'utf8')) as { files: { sha256: string }[] };
    expect(read('index.html')).toContain(manifest.files[0]!.sha256);
  });

  it('shows the success matrix with counts, rates and Wilson intervals', () => {
    const index = read('index.html');
    expect(index).toContain('<strong>4/10</strong> · 40%');
    expect(index).toContain('95% CI 17–69%');
    expect(read('figures/success-matrix.csv').split('\n')[0]).toBe('a,b,strategy,trials,successes,failures,outcomes,rate,wilson_low,wilson_high,mean_packets,predicted_budget,predicted_p,predicted_inside');
  });

  it('rebuilds byte-identical output from the same inputs', async () => {
    const before = snapshot(out);
    await report({ campaign: CAMPAIGN, paths: fx, log: recordingLogger() });
    const after = snapshot(out);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const k of Object.keys(before)) expect([k, after[k] === before[k]]).toEqual([k, true]);
  });
});

describe('report stage without evaluate outputs', () => {
  it('writes every page with the evaluate sections marked "stage not run yet", then fails naming each', async () => {
    const bare = await buildFixture({ evaluate: false, packets: 600 });
    const l = recordingLogger();
    const err = await report({ campaign: CAMPAIGN, paths: bare, log: l }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ReportFailed);
    const failed = err as ReportFailed;
    expect(failed.message).toMatch(/^report rt: \d+ failures \(pages written to .*, each error shown where it happened\): /);
    expect(failed.message).not.toContain('\n');
    expect(failed.message).toContain('the evaluate stage has not run yet for campaign rt (derived/rt/evaluate/matrix.json is missing): run `natatlas evaluate --campaign rt` or `natatlas run`');
    expect(failed.message).toMatch(/notebooks\/overview\.md:\d+ \(cell-[0-9a-f]{8}\): the evaluate stage has not run yet/);
    // Every failure is listed: the LaTeX attack table, the pair figures, and each cell that read evaluate/ on every page.
    const cells = failed.result.pages.flatMap((p) => p.cells.filter((c) => c.status !== 'ok').map((c) => ({ page: p.file, kind: c.kind })));
    expect(cells.length).toBeGreaterThanOrEqual(5);
    expect(new Set(cells.map((c) => c.kind))).toEqual(new Set(['stage not run yet']));
    expect(failed.result.failures).toHaveLength(cells.length + 3);
    const index = fs.readFileSync(path.join(bare.reports, CAMPAIGN, 'index.html'), 'utf8');
    expect(index).toContain('<div class="cell-error" role="alert" data-kind="stage not run yet"><strong>This cell has no data</strong> (stage not run yet)');
    const files = listTree(path.join(bare.reports, CAMPAIGN));
    expect(files).toContain('figures/model-parameters.tex');
    expect(files).not.toContain('figures/success-matrix.tex');
  });
});
