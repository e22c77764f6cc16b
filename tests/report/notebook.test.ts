import fs from 'node:fs';
import { tempDir } from '../helpers/tempdir.ts';
import path from 'node:path';
import { parseNotebook, cellHash, type CellBlock } from '../../pipeline/report/notebook/parse.ts';
import { runCell } from '../../pipeline/report/notebook/run.ts';
import { loadNotebooks, NOTEBOOKS_DIR, report, ReportFailed } from '../../pipeline/report/index.ts';
import { isComparisonNotebook, reportSources } from '../../pipeline/report/inputs.ts';
import { recordingLogger } from '../helpers/tmp.ts';
import { buildFixture, CAMPAIGN } from './fixture.ts';

const SOURCE = `---
title: Test {carrier}
for: carrier
output: "t-{carrier}.html"
---

Intro prose.

\`\`\`js
1 + 1
\`\`\`

## A heading

\`\`\`sh
echo "not a cell"
\`\`\`

\`\`\`js echo
const x = 2;
return x * 21;
\`\`\`

\`\`\`js
1 + 1
\`\`\`
`;

const cells = (src: string) => parseNotebook(src, 't', 'notebooks/t.md').blocks.filter((b): b is CellBlock => b.kind === 'cell');

describe('notebook parsing', () => {
  it('reads front matter, prose and js cells with their lines', () => {
    const nb = parseNotebook(SOURCE, 't', 'notebooks/t.md');
    expect(nb.meta).toEqual({ title: 'Test {carrier}', for: 'carrier', output: 't-{carrier}.html', order: 100, nav: 'Test {carrier}' });
    expect(nb.blocks.map((b) => b.kind)).toEqual(['prose', 'cell', 'prose', 'cell', 'cell']);
    const [first, second, third] = cells(SOURCE);
    expect(first!.line).toBe(9);
    expect(first!.source).toBe('1 + 1\n');
    expect(second!.echo).toBe(true);
    expect(second!.line).toBe(19);
    // Other fences stay prose; repeated cells get -2.
    expect(nb.blocks[2]!.kind === 'prose' && nb.blocks[2]!.markdown).toContain('echo "not a cell"');
    expect(first!.id).toMatch(/^cell-[0-9a-f]{8}$/);
    expect(third!.id).toBe(`${first!.id}-2`);
  });

  it('keeps cell ids when other cells and prose change', () => {
    const before = cells(SOURCE).map((c) => c.id);
    const edited = SOURCE.replace('Intro prose.', 'Intro prose, rewritten\n\nwith a new paragraph.').replace('return x * 21;', 'return x * 22;');
    const after = cells(edited).map((c) => c.id);
    expect(after[0]).toBe(before[0]);
    expect(after[2]).toBe(before[2]);
    expect(after[1]).not.toBe(before[1]);
    // Trailing spaces and blank edge lines do not count.
    expect(cellHash('a\n  b  \n\n')).toBe(cellHash('a\n  b\n'));
  });

  it('names the file and line of bad front matter', () => {
    expect(() => parseNotebook('---\nfor: everyone\n---\n', 'x', 'notebooks/x.md')).toThrow(/notebooks\/x.md: front matter `for: everyone` must be `campaign`, `carrier` or `comparison`/);
    expect(() => parseNotebook('---\ntitle: x\n', 'x', 'notebooks/x.md')).toThrow(/never closed/);
    expect(() => parseNotebook('---\nfor: carrier\noutput: x.html\n---\n', 'x', 'notebooks/x.md')).toThrow(/must contain \{carrier\}/);
    expect(() => parseNotebook('---\noutput: ../x.html\n---\n', 'x', 'notebooks/x.md')).toThrow(/plain file name/);
  });

  it('tells comparison notebooks apart from their front matter alone, as the report stage\'s freshness does', () => {
    const dir = tempDir('nb-for');
    const write = (name: string, text: string) => { fs.writeFileSync(path.join(dir, name), text); return path.join(dir, name); };
    expect(isComparisonNotebook(write('a.md', '---\ntitle: A\nfor: comparison\n---\n'))).toBe(true);
    expect(isComparisonNotebook(write('b.md', '\uFEFF---\r\nfor: "comparison"\r\n---\r\n'))).toBe(true);
    expect(isComparisonNotebook(write('c.md', '---\nfor: carrier\n---\nfor: comparison\n'))).toBe(false);
    expect(isComparisonNotebook(write('d.md', 'for: comparison\n'))).toBe(false);
    // The shipped comparison notebook is not among the report's inputs; the others are.
    for (const nb of loadNotebooks(NOTEBOOKS_DIR)) expect(isComparisonNotebook(path.join(NOTEBOOKS_DIR, `${nb.name}.md`))).toBe(nb.meta.for === 'comparison');
    const sources = reportSources({ campaign: 'c', paths: { raw: dir, derived: dir, reports: dir }, log: recordingLogger() }, { notebooksDir: dir }).map((f) => path.basename(f));
    expect(sources.filter((f) => f.endsWith('.md'))).toEqual(['c.md', 'd.md']);
  });

  it('parses the shipped notebooks', () => {
    const nbs = loadNotebooks(NOTEBOOKS_DIR);
    expect(nbs.map((n) => [n.name, n.meta.for, n.meta.output])).toEqual([['overview', 'campaign', 'index.html'], ['carrier', 'carrier', '{carrier}.html'], ['compare', 'comparison', 'index.html']]);
    for (const nb of nbs) expect(nb.blocks.filter((b) => b.kind === 'cell').length).toBeGreaterThan(nb.meta.for === 'comparison' ? 3 : 5);
  });
});

describe('running a cell', () => {
  const cell = (source: string, line = 10): CellBlock => ({ kind: 'cell', id: 'cell-test', source, line, echo: false });

  it('shows a single expression, a returned value, and displayed values in order', async () => {
    expect(await runCell(cell('a + 1\n'), { a: 41 })).toEqual({ ok: true, outputs: [42] });
    expect(await runCell(cell('const b = a * 2;\nreturn b;\n'), { a: 21 })).toEqual({ ok: true, outputs: [42] });
    expect(await runCell(cell('display(1);\ndisplay(await Promise.resolve(2));\nreturn 3;\n'), {})).toEqual({ ok: true, outputs: [1, 2, 3] });
  });

  it('returns the error and the notebook line it came from', async () => {
    const out = await runCell(cell('const a = 1;\nconst b = 2;\nthrow new Error(`boom ${a + b}`);\n', 20), {});
    expect(out.ok).toBe(false);
    expect(!out.ok && (out.error as Error).message).toBe('boom 3');
    expect(!out.ok && out.line).toBe(23);
    // A single-expression cell names its line too.
    const expr = await runCell(cell('undefinedThing.x\n', 30), { a: 1 });
    expect(!expr.ok && [(expr.error as Error).name, expr.line]).toEqual(['ReferenceError', 31]);
    const multi = await runCell(cell('[1,\n  undefinedThing.x]\n', 30), {});
    expect(!multi.ok && multi.line).toBe(32);
    const syntax = await runCell(cell('return (;\n'), {});
    expect(!syntax.ok && (syntax.error as Error).name).toBe('SyntaxError');
  });
});

describe('a notebook with a failing cell', () => {
  it('renders the error in place, builds the rest of the page, then fails the stage naming every failure', async () => {
    const fx = await buildFixture({ evaluate: false, packets: 600 });
    const dir = tempDir('nb');
    fs.writeFileSync(path.join(dir, 'probe.md'), `---
title: Probe
output: index.html
---

## Before

\`\`\`js
md\`carriers: **\${carriers.length}**\`
\`\`\`

## Broken

\`\`\`js
const x = 1;
throw new Error('boom <b>bold</b> in ' + x);
\`\`\`

## Skipped

\`\`\`js
charts.successMatrix()
\`\`\`

## After

\`\`\`js
chart({ name: 'my chart', title: 'Mine', spec: { data: { values: [{ x: 1, y: 2 }] }, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } } })
\`\`\`
`);
    const log = recordingLogger();
    const err = await report({ campaign: CAMPAIGN, paths: fx, log }, { notebooksDir: dir }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ReportFailed);
    const r = (err as ReportFailed).result;
    const page = fs.readFileSync(path.join(fx.reports, CAMPAIGN, 'index.html'), 'utf8');
    const cellsOf = r.pages[0]!.cells;
    expect(cellsOf.map((c) => c.status)).toEqual(['ok', 'error', 'missing', 'ok']);
    const [, broken, missing] = cellsOf as [unknown, (typeof cellsOf)[number], (typeof cellsOf)[number]];
    expect(broken.line).toBe(16);
    // One line naming notebook, line, cell and message for each failure (the LaTeX and pair figures also need evaluate/).
    const nb = `${path.basename(dir)}/probe.md`;
    expect((err as Error).message).toContain(`${nb}:16 (${broken.id}): Error: boom <b>bold</b> in 1; ${nb}:${missing.line} (${missing.id}): the evaluate stage has not run yet`);
    expect((err as Error).message).not.toContain('\n');
    expect(log.warnings).toEqual([]);
    // The error sits in the broken cell's section, escaped; the sections around it rendered.
    const section = (id: string) => new RegExp(`<section class="cell" id="${id}"[^>]*>([\\s\\S]*?)</section>`).exec(page)?.[1] ?? '';
    expect(section(broken.id)).toContain('<div class="cell-error" role="alert" data-kind="error">');
    expect(section(broken.id)).toContain('Error: boom &lt;b&gt;bold&lt;/b&gt; in 1');
    expect(section(cellsOf[0]!.id)).toContain('carriers: <strong>2</strong>');
    expect(section(missing.id)).toContain('data-kind="stage not run yet"');
    expect(section(cellsOf[3]!.id)).toContain('<figure class="chart" id="fig-my-chart-');
    expect(page).toContain('<h2 id="after">After</h2>');
    expect(fs.readdirSync(path.join(fx.reports, CAMPAIGN, 'figures')).filter((f) => f.startsWith('my-chart-')).map((f) => f.replace(/^my-chart-[0-9a-f]+/, ''))).toEqual(['.csv', '.pdf', '.png', '.svg']);
  });
});
