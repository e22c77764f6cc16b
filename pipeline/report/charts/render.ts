/**
 * Vega-Lite spec -> Vega spec (vega-lite's compile) -> static SVG (vega's headless View,
 * ~12 ms a chart here) -> PNG (@resvg/resvg-js with DejaVu fonts from an npm package,
 * so every machine rasterises the same pixels). SVG ids are prefixed per figure so
 * several charts can sit inline in one page without their clip paths colliding.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg, renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';
import { printable } from '../../io/names.ts';
import { fontFiles } from '../inputs.ts';

export { fontFiles };

export interface RenderedSpec {
  /** The compiled Vega spec. */
  vega: vega.Spec;
  svg: string;
}

/** Compile a Vega-Lite spec; vega-lite's warnings go to `warn`. */
export function compileSpec(spec: TopLevelSpec, warn: (message: string) => void = () => {}): vega.Spec {
  const logger = {
    level() { return logger; },
    error(...args: unknown[]) { throw new Error(args.map(String).join(' ')); },
    warn(...args: unknown[]) { warn(args.map(String).join(' ')); return logger; },
    info() { return logger; },
    debug() { return logger; },
  };
  return compile(spec, { logger: logger as never }).spec as vega.Spec;
}

/** Render a compiled Vega spec to an SVG string with a headless View. */
export async function toSvg(spec: vega.Spec): Promise<string> {
  // Def ids (clip paths, gradients) count from 1 for every chart: same spec, same bytes.
  (vega as unknown as { resetSVGDefIds?: () => void }).resetSVGDefIds?.();
  // Quiet: a warning here (an empty layer, say) would print straight to stderr, past the stage's logger.
  const view = new vega.View(vega.parse(spec), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Geometry to 1/100 px: vega writes full float precision (`translate(202.45513916015625,...)`),
 * which is most of a dense chart's bytes and invisible.
 */
export function trimSvgNumbers(svg: string): string {
  return svg.replace(/\s(transform|d|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g, (_all, attr: string, value: string) => ` ${attr}="${value.replace(/(\d\.\d\d)\d+/g, '$1')}"`);
}

/**
 * Characters XML 1.0 forbids (control codes, which a carrier's folder name can hold) shown
 * as escapes, so the SVG stays well-formed and resvg can read it.
 */
export function xmlSafe(svg: string): string {
  return svg.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) => printable(c));
}

/** Fewer marks than this in one group are left as vega drew them. */
const DENSE = 50;

/**
 * Draw dense scatters once, compactly: a group of unlabelled symbol marks (`aria:
 * false`, as the scatters set) that share one shape and style becomes a single path
 * holding every symbol, moved into place (`M x,y` + the shape's relative commands),
 * instead of one element with its own transform per point: a quarter of the bytes.
 * Overlapping points no longer darken each other; nothing else changes.
 */
export function compactDenseMarks(svg: string): string {
  return svg.replace(/(<g class="mark-symbol role-mark[^"]*" aria-hidden="true">)((?:<path [^>]*\/>)+)(<\/g>)/g, (all, open: string, items: string, close: string) => {
    const paths = items.match(/<path [^>]*\/>/g)!;
    if (paths.length < DENSE) return all;
    let style: string | null = null;
    let d = '';
    for (const p of paths) {
      const m = /^<path transform="translate\((-?[\d.]+),(-?[\d.]+)\)" d="M(-?[\d.]+),(-?[\d.]+)([hvlzZ\d.,\s-]*)"(.*)\/>$/.exec(p);
      if (!m) return all;
      const rest = m[6]!;
      if (style !== null && rest !== style) return all;
      style = rest;
      const x = Number(m[1]) + Number(m[3]);
      const y = Number(m[2]) + Number(m[4]);
      d += `M${x.toFixed(1)},${y.toFixed(1)}${m[5]!.replace(/(\d\.\d)\d+/g, '$1')}`;
    }
    return `${open}<path d="${d}"${style}/>${close}`;
  });
}

export async function renderSpec(spec: TopLevelSpec, warn?: (message: string) => void): Promise<RenderedSpec> {
  const compiled = compileSpec(spec, warn);
  return { vega: compiled, svg: compactDenseMarks(xmlSafe(trimSvgNumbers(await toSvg(compiled)))) };
}

/**
 * Prefix every id in an SVG (and each reference to it) with `prefix`, so two inline
 * SVGs in one page never share a `clip1`.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]!);
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=")([^"]+)(")/g, (all, a: string, id: string, b: string) => (ids.has(id) ? `${a}${prefix}-${id}${b}` : all))
    .replace(/url\(#([^)]+)\)/g, (all, id: string) => (ids.has(id) ? `url(#${prefix}-${id})` : all))
    .replace(/(href=")#([^"]+)(")/g, (all, a: string, id: string, b: string) => (ids.has(id) ? `${a}#${prefix}-${id}${b}` : all));
}

let fonts: string[] | null = null;

function pngOptions(scale: number): ResvgRenderOptions {
  fonts ??= fontFiles();
  return {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { fontFiles: fonts, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  };
}

/** Rasterise an SVG at `scale` times its size (2 = about 190 dpi for a 6-inch-wide figure). */
export function svgToPng(svg: string, scale = 2): Buffer {
  return new Resvg(svg, pngOptions(scale)).render().asPng();
}

/** The same on resvg's worker threads, so PNGs render while the next chart is laid out. */
export async function svgToPngAsync(svg: string, scale = 2): Promise<Buffer> {
  return (await renderAsync(svg, pngOptions(scale))).asPng();
}
