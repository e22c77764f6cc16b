/**
 * Vector PDF of a chart for papers (`\includegraphics{figures/<name>.pdf}`), drawn from
 * the same SVG as the page and the PNG by pdfkit + svg-to-pdfkit, with the DejaVu fonts
 * the PNGs use embedded (subset). One SVG pixel is one PDF point, and the document
 * carries a fixed date, so the same chart gives the same bytes.
 */
import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import { fontFiles } from '../charts/render.ts';

const EPOCH = new Date(0);

const FAMILIES = { 'DejaVu Sans': 0, 'DejaVu Sans Bold': 1 } as const;
type Family = keyof typeof FAMILIES;

/** pdfkit's internals this file leans on (pdfkit 0.17): its per-document font table and embedded-font class. */
interface PdfkitInternals {
  _fontFamilies: Record<string, unknown>;
  _fontCount: number;
  _font: { constructor: new (doc: unknown, font: unknown, id: string) => unknown; font: unknown };
  font(src: string, family?: unknown, size?: unknown): unknown;
}

/** Parsed once per process: fontkit's font objects and pdfkit's EmbeddedFont class. */
let shared: { fonts: unknown[]; Embedded: PdfkitInternals['_font']['constructor'] } | null = null;

function parsedFonts(): NonNullable<typeof shared> {
  if (shared) return shared;
  const probe = new PDFDocument({ autoFirstPage: false } as ConstructorParameters<typeof PDFDocument>[0]) as unknown as PdfkitInternals;
  const fonts = fontFiles().map((file) => {
    probe.font(file);
    return probe._font.font;
  });
  shared = { fonts, Embedded: probe._font.constructor };
  return shared;
}

/**
 * Give the document the two DejaVu fonts, parsed once per process rather than per
 * document (registerFont has pdfkit read and parse both TTF files for every chart:
 * a fifth of a chart's PDF time). Each document still gets its own embedded font and
 * subset, numbered on first use as registerFont would, so the bytes are the same.
 */
function shareFonts(doc: InstanceType<typeof PDFDocument>): void {
  const d = doc as unknown as PdfkitInternals;
  const { fonts, Embedded } = parsedFonts();
  const font = d.font.bind(d);
  d.font = (src, family, size) => {
    if (typeof src === 'string' && Object.hasOwn(FAMILIES, src) && d._fontFamilies[src] === undefined) {
      d._fontFamilies[src] = new Embedded(d, fonts[FAMILIES[src as Family]], `F${++d._fontCount}`);
    }
    return font(src, family, size);
  };
}

export async function svgToPdf(svg: string): Promise<Buffer> {
  const size = /<svg\b[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  if (!size) throw new Error('chart SVG has no width and height');
  // pdfkit refuses a zero-length dash; vega writes "1,0" for a solid line in a dashed legend.
  const clean = svg.replace(/ stroke-dasharray="1,0"/g, '');
  const doc = new PDFDocument({ size: [Number(size[1]), Number(size[2])], margin: 0, autoFirstPage: true, info: { Producer: 'natatlas', Creator: 'natatlas', CreationDate: EPOCH } });
  shareFonts(doc);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const problems: string[] = [];
  SVGtoPDF(doc, clean, 0, 0, { assumePt: true, fontCallback: (_family: string, isBold: boolean) => (isBold ? 'DejaVu Sans Bold' : 'DejaVu Sans'), warningCallback: (m: string) => problems.push(m) });
  doc.end();
  const pdf = await done;
  if (problems.length > 0) throw new Error(`PDF drawing: ${problems[0]}`);
  return pdf;
}
