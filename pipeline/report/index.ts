/**
 * report: render the notebooks in `notebooks/` over a campaign's derived files into
 * `reports/<campaign>/`: one self-contained HTML page per campaign notebook
 * (`overview` -> index.html) and per carrier for carrier notebooks (`carrier` ->
 * <carrier>.html), plus `figures/` with every chart as SVG, PNG and CSV and the LaTeX
 * tables for papers. The folder is built beside the old one and swapped in whole.
 *
 *   derived/<campaign>/ --1 load lazily--> CampaignData
 *   notebooks/*.md      --2 parse-------> cells with content-hash ids
 *   3 LaTeX tables -> 4 carrier pages -> 5 campaign pages (last, so they can list every figure)
 */
import fs from 'node:fs';
import path from 'node:path';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { campaignFolder, reportsPath, type StageContext } from '../context.ts';
import { NatatlasError, StageFailed } from '../errors.ts';
import { replaceDir } from '../io/atomic.ts';
import { isEnvironmentError, writeFileNamed } from '../io/fs-errors.ts';
import { CampaignData, type ReadRecord } from './data/campaign.ts';
import { html, type Html, type HtmlValue } from './html/escape.ts';
import { renderPage, type NavLink } from './html/page.ts';
import { hashHtml, renderTable } from './html/table.ts';
import { FigureSet, type FigureEntry, type FigureTimings } from './figures/registry.ts';
import { FigureCache } from './figures/figure-cache.ts';
import { attackCostsTex, modelParamsTex, successMatrixGridTex, successMatrixTex } from './figures/latex.ts';
import { strategiesIn } from './tables/matrix.ts';
import { parseNotebook, type Notebook } from './notebook/parse.ts';
import { cellScope, redactor, renderFigure, renderNotebookBody, type CellReport, type PageEnv } from './notebook/render.ts';
import { attackPairChart } from './charts/attack-curve.ts';
import { NOTEBOOKS_DIR, PACKAGE_ROOT, REPORT_VERSION, reportSources, type ReportOptions } from './inputs.ts';
import { closePools } from '../threads.ts';

/** Bump when the report's output for the same inputs changes meaning. */
const ROOT = PACKAGE_ROOT;
export { NOTEBOOKS_DIR, REPORT_VERSION, reportSources, type ReportOptions };

export interface PageResult {
  /** File name inside `reports/<campaign>/`. */
  file: string;
  notebook: string;
  carrier: string | null;
  cells: CellReport[];
  charts: number;
  ms: number;
}

export interface ReportResult {
  outputs: string[];
  pages: PageResult[];
  figures: FigureEntry[];
  timings: FigureTimings & { totalMs: number };
  /** Every failed cell and table, as `notebook:line (cell): message`; the stage throws when any. */
  failures: string[];
}

/** The report was written but some cells or tables failed; `result` is what was built. */
export class ReportFailed extends StageFailed {
  constructor(message: string, readonly result: ReportResult) {
    super(message, result);
    this.name = 'ReportFailed';
  }
}

export function natatlasVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Every `*.md` notebook in `dir` except README.md, parsed, in navigation order. */
export function loadNotebooks(dir: string = NOTEBOOKS_DIR): Notebook[] {
  if (!fs.existsSync(dir)) throw new NatatlasError(`no notebooks folder at ${dir}`);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.md') && f.toLowerCase() !== 'readme.md').sort();
  // Messages name a notebook by its path in the repository, or by folder and file name elsewhere.
  const rel = path.relative(ROOT, dir).split(path.sep).join('/');
  const label = rel.startsWith('..') || path.isAbsolute(rel) ? path.basename(dir) : rel;
  const notebooks = files.map((f) => parseNotebook(fs.readFileSync(path.join(dir, f), 'utf8'), f.slice(0, -3), `${label}/${f}`));
  return notebooks.sort((a, b) => a.meta.order - b.meta.order || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

interface PagePlan {
  notebook: Notebook;
  carrier: string | null;
  file: string;
  title: string;
}

function planPages(notebooks: Notebook[], data: CampaignData): PagePlan[] {
  const plans: PagePlan[] = [];
  for (const nb of notebooks) {
    const title = (c: string | null) => nb.meta.title.replaceAll('{campaign}', data.campaign).replaceAll('{carrier}', c ?? '');
    if (nb.meta.for === 'campaign') plans.push({ notebook: nb, carrier: null, file: nb.meta.output, title: title(null) });
    else for (const c of data.carriers) plans.push({ notebook: nb, carrier: c, file: nb.meta.output.replaceAll('{carrier}', data.stem(c)), title: title(c) });
  }
  const seen = new Map<string, PagePlan>();
  for (const p of plans) {
    const other = seen.get(p.file.toLowerCase());
    if (other) throw new NatatlasError(`${p.notebook.file} and ${other.notebook.file} both write ${p.file}: give one of them another \`output:\``);
    seen.set(p.file.toLowerCase(), p);
  }
  return plans;
}

function footer(plan: PagePlan, data: CampaignData, reads: ReadRecord[], version: string): Html {
  const raw = data.rawFiles(plan.carrier ?? undefined);
  const code = (v: unknown) => html`<code>${String(v)}</code>`;
  const rawTable: HtmlValue = raw.length === 0 ? '' : renderTable(raw, { columns: [{ key: 'path', label: 'raw input', format: code }, 'kind', { key: 'sha256', format: hashHtml }], sortable: false });
  const derivedTable = renderTable(reads, { columns: [{ key: 'file', label: 'derived file read', format: code }, { key: 'sha256', format: hashHtml }], sortable: false });
  return html`<footer class="provenance">
<p>Built by natatlas ${version} (vega ${vega.version}, vega-lite ${vegaLite.version}) from <code>${plan.notebook.file}</code> (sha256 ${hashHtml(plan.notebook.sha256)}) over campaign <code>${data.campaign}</code>. No clock time is recorded: the same inputs give the same bytes. Charts are static SVG drawn at build time; with scripts on, hovering a bar, cell or point shows its values (script inlined, nothing fetched).</p>
<details><summary>Input files and their sha256 (${raw.length} raw, ${reads.length} derived)</summary>${rawTable}${derivedTable}</details>
</footer>`;
}

/**
 * Render every notebook for `ctx.campaign` into `reports/<campaign>/`.
 *
 * @example await report({ campaign: 'sample', paths: { raw: 'raw', derived: 'derived', reports: 'reports' }, log })
 */
export async function report(ctx: StageContext, options: ReportOptions = {}): Promise<ReportResult> {
  const started = performance.now();
  const data = new CampaignData(ctx);
  // Comparison notebooks are rendered by `natatlas compare`, over two campaigns.
  const notebooks = loadNotebooks(options.notebooksDir).filter((n) => n.meta.for !== 'comparison');
  if (notebooks.length === 0) throw new NatatlasError(`no campaign or carrier notebooks (*.md) in ${options.notebooksDir ?? NOTEBOOKS_DIR}`);
  const plans = planPages(notebooks, data);
  const version = natatlasVersion();
  const outDir = reportsPath(ctx);
  const firstCarrierNotebook = notebooks.find((n) => n.meta.for === 'carrier');
  const carrierPage = new Map(plans.filter((p) => p.notebook === firstCarrierNotebook).map((p) => [p.carrier!, p.file]));
  const navPlans = plans.filter((p) => p.carrier === null || p.notebook === firstCarrierNotebook);
  const pages: PageResult[] = [];
  const failures: string[] = [];
  let figures!: FigureSet;
  const drawn = FigureCache.open(ctx);

  await replaceDir(outDir, async (tmp) => {
    figures = new FigureSet(tmp, options.draft ? 'draft' : drawn);
    const redact = redactor([[tmp, `reports/${campaignFolder(ctx)}`], [ctx.paths.derived, 'derived'], [ctx.paths.raw, 'raw'], [ctx.paths.reports, 'reports'], [ROOT.replace(/[\\/]$/, ''), '.']]);
    const env: PageEnv = {
      data, figures, redact,
      links: { carrierHref: (c) => { const f = carrierPage.get(c); return f ? encodeURI(f) : null; } },
    };

    // 3. LaTeX tables and per-pair attack figures: straight from the data, so they exist whatever the notebooks say.
    failures.push(...await writeLatex(data, figures, version, env));
    failures.push(...await writePairFigures(data, env));

    // 4-5. Carrier pages first, so a campaign page's figure list sees every figure.
    const order = [...plans.filter((p) => p.carrier !== null), ...plans.filter((p) => p.carrier === null)];
    for (const plan of order) {
      const t = performance.now();
      data.beginPage();
      const where = `report ${ctx.campaign}/${plan.file}`;
      const body = await renderNotebookBody(plan.notebook, env, cellScope(env, ctx.campaign, plan.carrier));
      const nav: NavLink[] = navPlans.map((p) => ({ label: p.carrier ?? p.notebook.meta.nav.replaceAll('{campaign}', ctx.campaign), href: encodeURI(p.file), current: p.file === plan.file }));
      const subtitle = plan.carrier === null
        ? html`Campaign <strong>${ctx.campaign}</strong> · ${data.carriers.length} carrier${data.carriers.length === 1 ? '' : 's'}`
        : html`Carrier <strong>${plan.carrier}</strong> in campaign <strong>${ctx.campaign}</strong>`;
      const page = renderPage({ title: plan.title, subtitle, nav, body: body.body, footer: footer(plan, data, data.takeReads(), version) });
      await writeFileNamed(path.join(tmp, plan.file), page);
      const ms = performance.now() - t;
      const failed = body.cells.filter((c) => c.status !== 'ok');
      for (const c of failed) failures.push(`${plan.notebook.file}:${c.line} (${c.id}${plan.carrier === null ? '' : `, ${plan.file}`}): ${c.message ?? c.kind}`);
      pages.push({ file: plan.file, notebook: plan.notebook.name, carrier: plan.carrier, cells: body.cells, charts: body.charts, ms });
      ctx.log.info(`${where}: ${body.cells.length} cells${failed.length ? ` (${failed.length} failed)` : ''}, ${body.charts} charts, ${(page.length / 1024).toFixed(0)} KB in ${ms.toFixed(0)} ms`);
    }
    await figures.finish();
  });
  await closePools();
  await drawn.save();
  pages.sort((a, b) => plans.findIndex((p) => p.file === a.file) - plans.findIndex((p) => p.file === b.file));
  const timings = { ...figures.timings, totalMs: performance.now() - started };
  const shownDir = path.relative(process.cwd(), outDir) || outDir;
  const drawing = options.draft ? 'PDF and PNG not drawn (--draft)' : `SVG: ${drawn.svgCounts.built} drawn, ${drawn.svgCounts.reused} carried over; PDF and PNG: ${drawn.counts.built} drawn, ${drawn.counts.reused} carried over`;
  ctx.log.info(`report ${ctx.campaign}: ${pages.length} pages, ${figures.figures().length} figures (${drawing}; charts: ${timings.svgMs.toFixed(0)} ms SVG, PDF+PNG ${timings.pngMs.toFixed(0)} ms) in ${(timings.totalMs / 1000).toFixed(1)} s -> ${shownDir}`);
  const result: ReportResult = { outputs: [outDir], pages, figures: figures.figures(), timings, failures };
  if (failures.length > 0) {
    // One line (the CLI prints it as is), every failure in it; the pages show each in place.
    const n = failures.length;
    throw new ReportFailed(`report ${ctx.campaign}: ${n} failure${n === 1 ? '' : 's'} (pages written to ${shownDir}, each error shown where it happened): ${failures.join('; ')}`, result);
  }
  return result;
}

/** One attack-success figure per carrier pair (`figures/attack-success-<a>-x-<b>.*`); returns what failed. */
async function writePairFigures(data: CampaignData, env: PageEnv): Promise<string[]> {
  try {
    const file = data.attack();
    for (const pair of file.pairs) await renderFigure(attackPairChart(file, pair, (n) => data.stem(n)), env);
    return [];
  } catch (e) {
    if (isEnvironmentError(e)) throw e;
    return [`figures/attack-success-*: ${env.redact(e instanceof Error ? e.message : String(e))}`];
  }
}

export interface LatexTable {
  name: string;
  tex: string;
  description: string;
}

/**
 * The LaTeX tables of a campaign, in groups by the derived file they need (a group
 * that cannot read its file throws when built); a campaign without trials, fits or
 * attack costs gets no table for them rather than an empty one.
 */
export function latexTables(data: CampaignData, version: string): { file: string; build(): LatexTable[] }[] {
  return [
    {
      file: 'figures/model-parameters.tex',
      build() {
        const fits = data.fits();
        return fits.length === 0 ? [] : [{ name: 'model-parameters', tex: modelParamsTex(fits, data.campaign, version), description: 'fitted model and timeouts per carrier' }];
      },
    },
    {
      file: 'figures/success-matrix.tex',
      build() {
        const m = data.matrix();
        if (m.cells.length === 0) return [];
        return [
          { name: 'success-matrix', tex: successMatrixTex(m, version), description: 'success by carrier pair and strategy, with 95% Wilson intervals' },
          ...strategiesIn(m).map((s) => ({ name: `success-matrix-${s}`, tex: successMatrixGridTex(m, s, version), description: `${s} trials as a Table I grid` })),
        ];
      },
    },
    {
      file: 'figures/attack-costs.tex',
      build() {
        const a = data.attack();
        return a.pairs.length === 0 ? [] : [{ name: 'attack-costs', tex: attackCostsTex(a, version), description: 'packets per side, naive vs biased' }];
      },
    },
  ];
}

/** Write the LaTeX tables; returns what failed. */
async function writeLatex(data: CampaignData, figures: FigureSet, version: string, env: PageEnv): Promise<string[]> {
  const failed: string[] = [];
  for (const group of latexTables(data, version)) {
    try {
      for (const t of group.build()) await figures.addTex(t.name, t.tex, t.description);
    } catch (e) {
      if (isEnvironmentError(e)) throw e;
      failed.push(`${group.file}: ${env.redact(e instanceof Error ? e.message : String(e))}`);
    }
  }
  return failed;
}
