/**
 * One notebook, one page: prose rendered as Markdown, each cell run in order and its
 * outputs rendered in place (tables as HTML, charts as inline static SVG, drawn once,
 * and their figure files), a cell's failure shown as
 * an error box where its output would be (a thrown error, or a derived file that is not
 * there, told apart by why), so the page shows what the report stage then fails on.
 */
import * as aq from 'arquero';
import { CampaignData, MissingInput, NoCarrierOutput, StageNotRun, UnknownCarrier } from '../data/campaign.ts';
import { escapeHtml, html, Html, joinHtml, raw, toHtml, type HtmlValue } from '../html/escape.ts';
import { md, renderProse } from '../html/markdown.ts';
import { renderTable } from '../html/table.ts';
import { isChart, topLevel, type Chart, type Row } from '../charts/chart.ts';
import { renderSpec, scopeSvgIds } from '../charts/render.ts';
import type { FigureEntry, FigureSet } from '../figures/registry.ts';
import { fmtInt, fmtInterval, fmtNum, fmtPct, fmtSeconds, fmtSig } from '../format.ts';
import { fileStem, shortHash } from '../names.ts';
import { carrierLink, chartLibrary, figureLinks, note, tableLibrary, type PageLinks } from './library.ts';
import { describeLibrary } from './describe.ts';
import type { CellBlock, Notebook } from './parse.ts';
import { runCell } from './run.ts';
import { isEnvironmentError } from '../../io/fs-errors.ts';

/** A `redact` that names machine paths as readers know them (`[absolute, name]` pairs, first match wins). */
export function redactor(pairs: readonly (readonly [string, string])[]): (message: string) => string {
  return (message) => {
    let m = message;
    for (const [abs, name] of pairs) m = m.split(abs).join(name);
    return m;
  };
}

/** What rendering cell outputs needs, whatever the page is about. */
export interface RenderEnv {
  figures: FigureSet;
  /** Turn machine paths in error messages into the names readers know. */
  redact(message: string): string;
}

/** A campaign's page: its data and the links between its pages. */
export interface PageEnv extends RenderEnv {
  data: CampaignData;
  links: PageLinks;
}

export interface CellReport {
  id: string;
  line: number;
  /** `error`: the cell threw; `missing`: it read a derived file that is not there. Both fail the report. */
  status: 'ok' | 'error' | 'missing';
  /** What went wrong, in words: `error`, `stage not run yet`, `no such carrier`, `no output for this carrier`. */
  kind?: string;
  message?: string;
}

export interface RenderedBody {
  body: Html;
  cells: CellReport[];
  charts: number;
}

/** A custom chart from a notebook: any Vega-Lite spec plus its rows and a figure name. */
export function customChart(opts: { name: string; title: string; caption?: string; spec: Record<string, unknown>; rows?: Row[] }): Chart {
  return {
    kind: 'chart',
    name: fileStem(opts.name),
    title: opts.title,
    caption: opts.caption ?? '',
    spec: topLevel(opts.spec),
    rows: opts.rows ?? ((opts.spec.data as { values?: Row[] } | undefined)?.values ?? []),
  };
}

/** The names every notebook can use, whatever it is about (documented in notebooks/README.md). */
export function baseScope(): Record<string, unknown> {
  return {
    aq,
    md,
    html,
    raw,
    table: renderTable,
    note,
    chart: customChart,
    fmt: { int: fmtInt, num: fmtNum, sig: fmtSig, pct: fmtPct, interval: fmtInterval, seconds: fmtSeconds },
  };
}

/** The names a campaign or carrier notebook's cells can use (documented in notebooks/README.md). */
export function cellScope(env: PageEnv, campaign: string, carrier: string | null): Record<string, unknown> {
  const { data, links, figures } = env;
  return {
    ...baseScope(),
    campaign,
    carrier,
    carriers: data.carriers,
    data,
    charts: chartLibrary(data),
    tables: tableLibrary(data, links, figures),
    describe: describeLibrary(data),
    link: { carrier: (c: string) => carrierLink(links, c) },
  };
}

/** Render a chart and write its figure files; returns its entry and the SVG for the page. */
export async function renderFigure(chart: Chart, env: Pick<RenderEnv, 'figures'>): Promise<{ entry: FigureEntry; svg: string }> {
  const t = performance.now();
  const kept = env.figures.cache?.svgLookup(chart.name, chart.spec);
  const svg = kept?.svg ?? (await renderSpec(chart.spec)).svg;
  if (kept && kept.svg === null) kept.remember(svg);
  env.figures.timings.svgMs += performance.now() - t;
  env.figures.timings.charts += 1;
  const entry = await env.figures.add(chart, svg);
  return { entry, svg };
}

async function renderChart(chart: Chart, env: RenderEnv, stats: { charts: number }): Promise<string> {
  const { entry, svg: drawn } = await renderFigure(chart, env);
  stats.charts += 1;
  const id = `fig-${chart.name}`;
  const svg = scopeSvgIds(drawn, `f${shortHash(chart.name, 6)}`);
  return html`<figure class="chart" id="${id}" data-figure="${chart.name}">
<figcaption><span class="title">${chart.title}</span></figcaption>
<div class="chart-static" role="img" aria-label="${chart.title}">${raw(svg)}</div>
<p class="chart-note">${chart.caption} <span class="downloads">Figure files: ${figureLinks(entry)}</span></p>
</figure>`.value;
}

function isTable(v: unknown): v is { objects(): object[]; numRows(): number } {
  return typeof v === 'object' && v !== null && typeof (v as { objects?: unknown }).objects === 'function' && typeof (v as { numRows?: unknown }).numRows === 'function';
}

/** Any cell value as page markup. */
export async function renderValue(value: unknown, env: RenderEnv, stats: { charts: number }): Promise<string> {
  const v = value instanceof Promise ? await value : value;
  if (v === undefined || v === null) return '';
  if (v instanceof Html) return v.value;
  if (isChart(v)) return renderChart(v, env, stats);
  if (Array.isArray(v)) {
    let out = '';
    for (const x of v) out += await renderValue(x, env, stats);
    return out;
  }
  if (isTable(v)) return renderTable(v).value;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return html`<p>${String(v)}</p>`.value;
  return html`<pre>${JSON.stringify(v, null, 2)}</pre>`.value;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

async function renderCell(cell: CellBlock, nb: Notebook, scope: Record<string, unknown>, env: RenderEnv, stats: { charts: number }): Promise<{ markup: string; report: CellReport }> {
  const outcome = await runCell(cell, scope);
  let failure: { error: unknown; line: number | null } | null = outcome.ok ? null : { error: outcome.error, line: outcome.line };
  let out = '';
  for (const v of outcome.outputs) {
    try {
      out += await renderValue(v, env, stats);
    } catch (error) {
      // A displayed promise can reject while rendering: the cell failed all the same.
      failure ??= { error, line: null };
    }
  }
  const echo = cell.echo ? html`<details class="code"><summary>code</summary><pre><code>${cell.source}</code></pre></details>` : '';
  const open = `<section class="cell" id="${cell.id}" data-source="${escapeHtml(`${nb.file}:${cell.line}`)}">${toHtml(echo)}`;
  if (failure === null) return { markup: `${open}${out}</section>`, report: { id: cell.id, line: cell.line, status: 'ok' } };
  const { error } = failure;
  // A full disk or a permission problem stops the report; it is not the cell's fault.
  if (isEnvironmentError(error)) throw error;
  const line = failure.line ?? cell.line;
  // A missing input is not a bug in the cell: say which stage to run or which name is wrong, without a stack.
  const missing = error instanceof MissingInput;
  const message = env.redact(missing ? error.message : errorText(error));
  const kind = error instanceof StageNotRun ? 'stage not run yet' : error instanceof UnknownCarrier ? 'no such carrier' : error instanceof NoCarrierOutput ? 'no output for this carrier' : 'error';
  const headline = missing ? html`<strong>This cell has no data</strong> (${kind})` : html`<strong>This cell failed</strong>`;
  const box = html`<div class="cell-error" role="alert" data-kind="${kind}">${headline} at <code>${nb.file}:${line}</code> (<code>${cell.id}</code>); the rest of the page was built and the report stage exits with an error.<pre>${message}</pre><details class="code"><summary>cell source</summary><pre><code>${cell.source}</code></pre></details></div>`;
  return { markup: `${open}${out}${box.value}</section>`, report: { id: cell.id, line, status: missing ? 'missing' : 'error', kind, message } };
}

/** Run a notebook's cells for one page with `scope` (cellScope for a campaign's pages). */
export async function renderNotebookBody(nb: Notebook, env: RenderEnv, scope: Record<string, unknown>): Promise<RenderedBody> {
  const stats = { charts: 0 };
  const parts: HtmlValue[] = [];
  const cells: CellReport[] = [];
  for (const block of nb.blocks) {
    if (block.kind === 'prose') {
      parts.push(renderProse(block.markdown));
      continue;
    }
    const { markup, report } = await renderCell(block, nb, scope, env, stats);
    parts.push(raw(markup));
    cells.push(report);
  }
  return { body: joinHtml(parts, '\n'), cells, charts: stats.charts };
}
