/**
 * What decides whether a report is current, kept apart from the report code itself so
 * that `natatlas run` can judge the report stage's freshness (and every other command
 * can start) without loading vega, resvg and pdfkit: the report module is imported only
 * when the report stage really runs.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rawPath, type StageContext } from '../context.ts';
import { listFiles } from '../io/files.ts';
import { NatatlasError } from '../errors.ts';
import { notebookText, parseFrontMatter } from './notebook/front-matter.ts';
import { ABOUT_FILES } from './data/campaign.ts';
import { runtimeFiles } from './html/runtime.ts';

/** Bump when the report's output for the same inputs changes meaning. */
export const REPORT_VERSION = 1;

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The notebooks shipped with natatlas. */
export const NOTEBOOKS_DIR = path.join(PACKAGE_ROOT, 'notebooks');

export interface ReportOptions {
  /** Where the notebooks are (default: natatlas's `notebooks/`). */
  notebooksDir?: string;
  /**
   * Skip drawing each figure's PDF and PNG, most of a report's time (`--draft`): the pages
   * (which then link each figure's SVG and CSV only), the SVG and CSV files and the LaTeX
   * tables are written as usual.
   */
  draft?: boolean;
}

const require = createRequire(import.meta.url);

/** The TrueType files PNGs and PDFs are drawn with (regular and bold: all the charts use). */
export function fontFiles(): string[] {
  const dir = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  return ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => path.join(dir, f));
}

/**
 * A `for: comparison` notebook is rendered by `natatlas compare`, never by the report
 * stage, so editing it must not make reports stale. Read from the front matter alone
 * (the whole notebook parser would load Markdown rendering into every command).
 */
export function isComparisonNotebook(file: string): boolean {
  try {
    return parseFrontMatter(notebookText(fs.readFileSync(file, 'utf8')).split('\n'), file).meta.for === 'comparison';
  } catch (e) {
    // Bad front matter: the report stage's own parse says where, when it runs.
    if (e instanceof NatatlasError) return false;
    throw e;
  }
}

/**
 * What decides whether a report is current besides the derived files it reads (the
 * report stage declares those as contracts): the notebooks, the campaign's description
 * files, the inlined runtime, stylesheet and fonts, and package.json (its version is in
 * every footer).
 */
export function reportSources(ctx: StageContext, options: ReportOptions = {}): string[] {
  const notebooks = listFiles(options.notebooksDir ?? NOTEBOOKS_DIR).filter((f) => f.endsWith('.md') && path.basename(f).toLowerCase() !== 'readme.md' && !isComparisonNotebook(f));
  const style = fileURLToPath(new URL('./html/style.css', import.meta.url));
  const about = ABOUT_FILES.flatMap((f) => listFiles(rawPath(ctx, f)));
  return [...about, ...notebooks, ...runtimeFiles(), ...fontFiles(), style, path.join(PACKAGE_ROOT, 'package.json')];
}
