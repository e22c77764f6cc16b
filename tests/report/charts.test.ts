import { JOINED } from '../../pipeline/contracts/joined.ts';
import { replaceFolder } from '../../pipeline/contracts/folder.ts';
import { tempDir } from '../helpers/tempdir.ts';
import path from 'node:path';
import { handAttack, handMatrix } from './fixture.ts';
import { cellView, matrixGrid, matrixOrder, strategiesIn } from '../../pipeline/report/tables/matrix.ts';
import { successMatrix, successMatrixChart, successMatrixSpec } from '../../pipeline/report/charts/success-matrix.ts';
import { binWidthFor, massBetween, portHistogram, portHistogramChart } from '../../pipeline/report/charts/port-histogram.ts';
import { marginalCdf, portEcdf } from '../../pipeline/report/charts/port-ecdf.ts';
import { timeoutProbes } from '../../pipeline/report/charts/timeouts.ts';
import { attackCurves, attackCurvesChart, attackCurvesSpec, attackPairChart } from '../../pipeline/report/charts/attack-curve.ts';
import { localExternal } from '../../pipeline/report/charts/local-external.ts';
import { attackCostsTex, latexEscape, successMatrixGridTex, successMatrixTex } from '../../pipeline/report/figures/latex.ts';
import { rowsToCsv } from '../../pipeline/report/figures/csv.ts';
import { escapeHtml, html, jsonForScript, raw } from '../../pipeline/report/html/escape.ts';
import { md } from '../../pipeline/report/html/markdown.ts';
import { renderTable } from '../../pipeline/report/html/table.ts';
import { anchorHeadings } from '../../pipeline/report/html/page.ts';
import { compactDenseMarks, compileSpec, renderSpec, scopeSvgIds, toSvg, trimSvgNumbers } from '../../pipeline/report/charts/render.ts';
import { attackGain, attackGainChart } from '../../pipeline/report/charts/attack-gain.ts';
import { topLevel } from '../../pipeline/report/charts/chart.ts';
import { fileStem, pairStem } from '../../pipeline/report/names.ts';
import { fmtInt, fmtInterval, fmtPct } from '../../pipeline/report/format.ts';
import { POINT_LIMIT, scanJoined, SEND_ORDER_PER_RUN, type JoinedScan } from '../../pipeline/report/data/joined.ts';
import type { CarrierFit } from '../../pipeline/contracts/fit.ts';
import { silentLogger } from '../../pipeline/context.ts';
import { FileNames } from '../../pipeline/io/names.ts';
import type { PortSegment } from '../../pipeline/bias/types.ts';

/** A scan with the given external ports (send order and local ports made up). */
function scanOf(ports: number[], carrier = 'C'): JoinedScan {
  const counts = new Uint32Array(65536);
  for (const p of ports) counts[p]! += 1;
  return {
    carrier, n: ports.length, externalCounts: counts, min: Math.min(...ports), max: Math.max(...ports), preserved: 0, runs: ['01'],
    sendOrder: ports.map((external, seq) => ({ run: '01', seq, external })), localExternal: ports.map((external, i) => ({ local: 40000 + i, external })),
    localExternalStride: 1, localExternalBins: [], extraColumns: [],
  };
}

describe('success matrix (tables/matrix, charts/success-matrix)', () => {
  const m = handMatrix();

  it('orders carriers so the pairs form a lower triangle, as Table I', () => {
    expect(matrixOrder(m)).toEqual(['Odido', 'Lebara', 'Lyca', 'Vodaphone']);
    const g = matrixGrid(m, 'naive');
    g.rows.forEach((row, i) => row.forEach((c, j) => expect([i, j, c !== null]).toEqual([i, j, j <= i])));
    expect(g.rows[3]![0]!.outcomes).toBe('FFFSFSFFFF');
    expect(strategiesIn(m)).toEqual(['naive', 'biased']);
  });

  it('falls back to the file order when pairs contradict each other', () => {
    const cyc = { carriers: ['A', 'B'], cells: [{ ...m.cells[0]!, a: 'A', b: 'B' }, { ...m.cells[0]!, a: 'B', b: 'A' }] };
    expect(matrixOrder(cyc)).toEqual(['A', 'B']);
  });

  it('gives counts, rates and Wilson intervals as text', () => {
    const vv = cellView(m.cells.find((c) => c.a === 'Vodaphone' && c.b === 'Vodaphone' && c.strategy === 'naive')!);
    expect([vv.countText, vv.rateText, vv.wilsonText, vv.failures]).toEqual(['4/10', '40%', '17–69%', 6]);
    const zero = cellView(m.cells[0]!);
    expect([zero.countText, zero.rateText, zero.wilsonText]).toEqual(['0/11', '0%', '0–26%']);
  });

  it('draws one heat-map cell per pair and strategy with its three labels', () => {
    const s = successMatrix(m);
    const spec = successMatrixSpec(s) as unknown as { data: { values: { a: string; b: string; strategy: string; lines: string[]; rate: number }[] }; facet: { column: { sort: string[] } } };
    expect(spec.data.values).toHaveLength(11);
    expect(spec.data.values.find((v) => v.a === 'Lyca' && v.b === 'Odido')!.lines).toEqual(['1/10', '10%', '[2–40%]']);
    expect(spec.facet.column.sort).toEqual(['naive', 'biased']);
    const chart = successMatrixChart(s);
    expect(chart.name).toBe('success-matrix');
    expect(chart.rows.find((r) => r.strategy === 'biased')).toEqual({ a: 'Vodaphone', b: 'Vodaphone', strategy: 'biased', trials: 10, successes: 9, failures: 1, outcomes: 'SSSSSSSSSF', rate: 0.9, wilson_low: 0.59585, wilson_high: 0.982124, mean_packets: 812.5, predicted_budget: null, predicted_p: null, predicted_inside: null });
  });

  it('writes booktabs LaTeX: a Table I grid and a pair list with intervals', () => {
    const grid = successMatrixGridTex(m, 'naive', '9.9.9');
    expect(grid).toContain('\\begin{tabular}{lcccc}');
    expect(grid).toContain(' & Odido & Lebara & Lyca & Vodaphone \\\\');
    expect(grid).toContain('Vodaphone & 2/10 (20\\%) & 1/10 (10\\%) & 1/10 (10\\%) & 4/10 (40\\%) \\\\');
    expect(grid).toContain('Odido & 0/11 (0\\%) &  &  &  \\\\');
    expect(grid).toMatch(/\\toprule[\s\S]*\\midrule[\s\S]*\\bottomrule/);
    const list = successMatrixTex(m, '9.9.9');
    expect(list).toContain('Vodaphone & Vodaphone & 4/10 & 40\\% & 17--69\\% & 9/10 & 90\\% & 60--98\\% \\\\');
    expect(list).toContain('Lyca & Odido & 1/10 & 10\\% & 2--40\\% & -- & -- & -- \\\\');
    expect(list).not.toMatch(/20\d\d-\d\d-\d\d/);
  });
});

describe('port histogram and ECDF', () => {
  const marginal: PortSegment[] = [[1000, 1999, 0.5], [2000, 3999, 0.5]];

  it('splits a segment\'s mass evenly over its ports', () => {
    expect(massBetween(marginal, 1000, 1499)).toBeCloseTo(0.25, 12);
    expect(massBetween(marginal, 1500, 2999)).toBeCloseTo(0.25 + 0.25, 12);
    expect(massBetween(marginal, 0, 65535)).toBeCloseTo(1, 12);
    expect(binWidthFor(1024, 65535)).toBe(1024);
    expect(binWidthFor(4631, 18568)).toBe(256);
  });

  it('bins every packet once and scales the model to the packets seen', () => {
    const ports = Array.from({ length: 400 }, (_v, i) => 1000 + ((i * 7919) % 3000));
    const h = portHistogram(scanOf(ports), marginal, 'uniform');
    expect(h.bins.reduce((s, b) => s + b.count, 0)).toBe(400);
    expect(h.bins.reduce((s, b) => s + b.expected!, 0)).toBeCloseTo(400, 6);
    expect(h.bins[0]!.from % h.binWidth).toBe(0);
    const chart = portHistogramChart(h);
    expect(chart.name).toBe('C-port-histogram');
    expect(Object.keys(chart.rows[0]!)).toEqual(['carrier', 'from_port', 'to_port', 'packets', 'model_expected']);
  });

  it('finds the exact Kolmogorov–Smirnov distance over all ports', () => {
    // All packets on port 1000 against a model uniform on 1000..1999: D = 1 - 1/1000 at port 1000.
    const e = portEcdf(scanOf([1000, 1000, 1000, 1000]), [[1000, 1999, 1]], 'uniform');
    expect(e.ks!.port).toBe(1000);
    expect(e.ks!.d).toBeCloseTo(0.999, 12);
    expect(marginalCdf([[0, 1, 1]])[0]).toBeCloseTo(0.5, 12);
    expect(portEcdf(scanOf([5]), null, null).ks).toBeNull();
  });

  it('draws points up to the limit and bins beyond it', () => {
    expect(localExternal(scanOf([1, 2, 3])).mode).toBe('points');
    const big = { ...scanOf([1]), n: 10_000, localExternalStride: 4, localExternalBins: [[0, 0, 10_000]] as [number, number, number][] };
    const l = localExternal(big);
    expect([l.mode, l.bins]).toEqual(['bins', [{ local: 0, external: 0, count: 10_000 }]]);
  });
});

describe('timeouts and attack curves', () => {
  it('stacks repeated probes at one delay into a count', () => {
    const t = { seconds: 30, low: 28, high: 32, probes: 4, disagreeing: 0, method: 'bracket', curve: [[20, 1], [40, 0]] as [number, number][], points: [[20, 1], [20, 1], [40, 0], [40, 1]] as [number, number][] };
    const fit = { carrier: 'C', timeouts: { wait: t, idle: null } } as unknown as CarrierFit;
    const d = timeoutProbes(fit);
    expect(d.panels.map((p) => p.kind)).toEqual(['wait']);
    expect(d.panels[0]!.probes).toEqual([{ delay: 20, replied: 1, count: 2 }, { delay: 40, replied: 0, count: 1 }, { delay: 40, replied: 1, count: 1 }]);
  });

  it('keeps positive packet counts only, and draws Monte Carlo marks only where there are any', () => {
    const a = handAttack(['A', 'B']);
    const all = attackCurves(a);
    expect(all.pairs).toEqual(['A × A', 'A × B', 'B × B']);
    expect(all.points.every((p) => p.packets > 0)).toBe(true);
    expect(all.points.filter((p) => p.pair === 'A × B' && p.source === 'Monte Carlo')).toEqual([]);
    const only = attackCurves(a, (p) => p.a === 'A' && p.b === 'B');
    const spec = attackCurvesSpec(only) as unknown as { layer: unknown[] };
    expect(spec.layer).toHaveLength(1);
    expect(attackCurvesChart(only, 'A').name).toBe('A-attack-success');
    expect(attackPairChart(a, a.pairs[1]!).name).toBe('attack-success-A-x-B');
    expect(attackCostsTex(a, '1.0.0')).toContain('A $\\times$ B & 54{,}000 & 162{,}000 & 216{,}000 & 2{,}000 & 6{,}000 & -- & $27.0\\times$ \\\\');
  });
});

describe('thesis figures', () => {
  /** (stroke, dash) of every drawn element inside groups whose class matches `role`. */
  const strokes = (svg: string, role: RegExp) => {
    const out = new Set<string>();
    for (const g of svg.matchAll(/<g class="([^"]*)"[^>]*>/g)) {
      if (!role.test(g[1]!)) continue;
      const start = g.index! + g[0].length;
      for (const p of svg.slice(start, svg.indexOf('</g>', start)).matchAll(/<path [^>]*>/g)) {
        const stroke = /stroke="([^"]+)"/.exec(p[0])?.[1];
        if (stroke && stroke !== 'none' && !/stroke-opacity="0"/.test(p[0])) out.add(`${stroke} ${/stroke-dasharray="([^"]+)"/.exec(p[0])?.[1] ?? 'solid'}`);
      }
    }
    return out;
  };

  it('explains every line style of an attack figure in its legend', async () => {
    const a = handAttack(['A', 'B']);
    const pair = a.pairs[0]!;
    pair.curve.realisticNaive = pair.curve.naive.map((p) => p / 2);
    pair.curve.realisticBiased = pair.curve.biased!.map((p) => p / 2);
    const chart = attackPairChart(a, pair);
    const { svg } = await renderSpec(chart.spec);
    const drawn = strokes(svg, /mark-line role-mark/);
    const legend = strokes(svg, /role-legend-symbol/);
    // Solid, dashed and two dotted styles drawn, and each one has a legend entry.
    expect(drawn.size).toBe(4);
    for (const style of drawn) expect([style, legend.has(style)]).toEqual([style, true]);
    for (const label of ['naive (uniform guessing), closed form', 'biased (bias tables), closed form', 'naive, Monte Carlo with timeout and limits', 'biased, Monte Carlo with timeout and limits']) {
      expect(svg).toContain(`>${label}</text>`);
    }
    // The Monte Carlo check marks have their own legend.
    expect(svg).toContain('Monte Carlo check (closed-form assumptions)');
  });

  it('draws an x axis under every panel of a faceted attack chart', async () => {
    const { svg } = await renderSpec(attackCurvesChart(attackCurves(handAttack(['A', 'B', 'C', 'D']))).spec);
    // 10 pairs in a 3-column grid: ten x axes, not only the bottom row's.
    expect(svg.match(/aria-label="X-axis titled 'packets per side \(log scale\)'/g)).toHaveLength(10);
  });

  it('sums the campaign up as the gain at 99% per pair', () => {
    const g = attackGain(handAttack(['A', 'B']));
    // handAttack: naive p99 = 3000 x 54, biased p99 = 3000 x 2.
    expect(g.cells.map((c) => [c.a, c.b, c.naive, c.biased, c.gain])).toEqual([['A', 'A', 162000, 6000, 27], ['A', 'B', 162000, 6000, 27], ['B', 'B', 162000, 6000, 27]]);
    expect(attackGainChart(g).name).toBe('attack-gain-p99');
  });

  it('gives carrier pairs stems that never collide', () => {
    expect(pairStem('KPN', 'Odido')).toBe('KPN-x-Odido');
    expect(pairStem('a-x-b', 'c')).not.toBe(pairStem('a', 'b-x-c'));
    expect(pairStem('a-x-b', 'c')).toMatch(/^[A-Za-z0-9-]+$/);
  });

  it('draws a dense scatter as one path holding every point where vega put it', async () => {
    // 100 points on a 100 x 100 px plot with domain [0, 100]: point i sits at (i, 100 - i) px;
    // a size-4 square spans 2 px, so its path starts 1 px up and left of the centre.
    const values = Array.from({ length: 100 }, (_v, i) => ({ x: i, y: i }));
    const spec = topLevel({ width: 100, height: 100, data: { values }, mark: { type: 'point', shape: 'square', filled: true, size: 4, aria: false }, encoding: { x: { field: 'x', type: 'quantitative', scale: { domain: [0, 100] } }, y: { field: 'y', type: 'quantitative', scale: { domain: [0, 100] } } } });
    const raw = trimSvgNumbers(await toSvg(compileSpec(spec)));
    const compact = compactDenseMarks(raw);
    const marks = /<g class="mark-symbol role-mark[^"]*" aria-hidden="true">([\s\S]*?)<\/g>/;
    const group = marks.exec(compact)![1]!;
    expect(group.match(/<path /g)).toHaveLength(1);
    const starts = [...group.matchAll(/M(-?[\d.]+),(-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(starts).toHaveLength(100);
    starts.forEach(([x, y], i) => expect([i, x, y]).toEqual([i, i - 1, 100 - i - 1]));
    expect(group.length).toBeLessThan(marks.exec(raw)![1]!.length / 3);
    // Fewer points than the threshold, or labelled marks, stay as vega drew them.
    const few = trimSvgNumbers(await toSvg(compileSpec({ ...spec, data: { values: values.slice(0, 10) } } as typeof spec)));
    expect(compactDenseMarks(few)).toBe(few);
  });
});

describe('escaping and names', () => {
  const hostile = '<img src=x onerror=alert(1)>';

  it('escapes data in HTML, Markdown, JSON blocks, LaTeX and CSV', () => {
    expect(escapeHtml(hostile)).toBe('&lt;img src=x onerror=alert(1)&gt;');
    expect(html`<td>${hostile}</td>${raw('<b>ok</b>')}`.value).toBe('<td>&lt;img src=x onerror=alert(1)&gt;</td><b>ok</b>');
    expect(md`**${hostile}** and ${'[link](javascript:alert(1))'}`.value).toBe('<p><strong>&lt;img src=x onerror=alert(1)&gt;</strong> and [link](javascript:alert(1))</p>\n');
    expect(md`a table: ${raw('<table></table>')}`.value).toContain('<table></table>');
    expect(jsonForScript({ s: '</script><!--' })).toBe('{"s":"\\u003c/script\\u003e\\u003c!--"}');
    expect(latexEscape('a_b & 5% #1 {x} ~^\\')).toBe('a\\_b \\& 5\\% \\#1 \\{x\\} \\textasciitilde{}\\textasciicircum{}\\textbackslash{}');
    expect(rowsToCsv([{ c: 'a,"b"', n: 1, z: null }])).toBe('c,n,z\n"a,""b""",1,\n');
    expect(renderTable([{ carrier: hostile, n: 1234567 }]).value).toContain('<td>&lt;img src=x onerror=alert(1)&gt;</td><td class="num" data-v="1234567">1,234,567</td>');
  });

  it('gives data-named files a stable, portable stem', () => {
    expect(fileStem('KPN')).toBe('KPN');
    expect(fileStem('Vodafone.NL_2')).toBe('Vodafone.NL_2');
    expect(fileStem(hostile)).toMatch(/^img-src-x-onerror-alert-1-[0-9a-f]{8}$/);
    expect(fileStem(hostile)).toBe(fileStem(hostile));
    expect(fileStem('index')).not.toBe('index');
    expect(fileStem('a/b')).not.toContain('/');
  });

  it('formats numbers without locale data', () => {
    expect([fmtInt(1234567.4), fmtInt(null), fmtPct(0.0231, 1), fmtInterval(0.0567, 0.5098)]).toEqual(['1,234,567', '—', '2.3%', '6–51%']);
  });

  it('anchors headings uniquely for the table of contents', () => {
    const { body, headings } = anchorHeadings('<h2>Captures</h2><h3>A &amp; B</h3><h2>Captures</h2>');
    expect(body).toBe('<h2 id="captures">Captures</h2><h3 id="a-b">A &amp; B</h3><h2 id="captures-2">Captures</h2>');
    expect(headings.map((h) => h.text)).toEqual(['Captures', 'A & B', 'Captures']);
  });

  it('scopes SVG ids per figure and trims float noise', () => {
    const svg = '<svg><clipPath id="clip1"><rect/></clipPath><g clip-path="url(#clip1)" transform="translate(202.45513916015625,139.1)"></g></svg>';
    expect(scopeSvgIds(svg, 'f1')).toBe('<svg><clipPath id="f1-clip1"><rect/></clipPath><g clip-path="url(#f1-clip1)" transform="translate(202.45513916015625,139.1)"></g></svg>');
    expect(trimSvgNumbers(svg)).toContain('transform="translate(202.45,139.1)"');
  });

});

describe('scanning a joined file', () => {
  it('keeps exact port counts but a bounded sample, whatever the size', async () => {
    const derived = path.join(tempDir('scan'), 'derived');
    const n = 3 * 3500;
    const ctx = { campaign: 'camp', paths: { raw: path.join(derived, '..', 'raw'), derived, reports: path.join(derived, '..', 'reports') }, log: silentLogger };
    await replaceFolder(ctx, 'joined', async (out) => {
      const w = JOINED.open(out, 'C', ['Sender IP']);
      for (let i = 0; i < n; i++) {
        const run = `0${1 + Math.floor(i / 3500)}`;
        const seq = i % 3500;
        const ext = 1024 + ((i * 37) % 60000);
        w.write({
          uuid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`, run, sendSeq: seq, sendTime: 1700000000000 + i * 20, recvTime: 1700000000100 + i * 20,
          localPort: i % 7 === 0 ? ext : 62000 + (i % 1000), destPort: 5000, externalPort: ext, serverPort: 5000, extras: [i % 2 ? '198.51.100.1' : '<b>10.0.0.1</b>'],
        });
      }
      w.commit();
    });
    const scan = await scanJoined(ctx, new FileNames(['C'], 'carrier'), 'C');
    expect(scan.n).toBe(n);
    expect(scan.externalCounts.reduce((a, b) => a + b, 0)).toBe(n);
    expect(scan.runs).toEqual(['01', '02', '03']);
    expect(scan.preserved).toBe(Math.ceil(n / 7));
    // Send order: every 2nd of the first 1000 sends per run.
    expect(scan.sendOrder).toHaveLength(3 * (SEND_ORDER_PER_RUN / 2));
    // More packets than the point limit: an evenly strided sample, and bins covering every packet.
    expect(scan.localExternalStride).toBe(4);
    expect(scan.localExternal.length).toBeLessThanOrEqual(POINT_LIMIT);
    expect(scan.localExternalBins.reduce((a, b) => a + b[2], 0)).toBe(n);
    expect(localExternal(scan).mode).toBe('bins');
    expect(scan.extraColumns).toEqual([{ name: 'Sender IP', distinct: 2, capped: false, top: [{ value: '198.51.100.1', count: n / 2 }, { value: '<b>10.0.0.1</b>', count: n / 2 }] }]);
  });
});
