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

export async function svgToPdf(svg: string): Promise<Buffer> {
  const size = /<svg\b[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  if (!size) throw new Error('chart SVG has no width and height');
  // pdfkit refuses a zero-length dash; vega writes "1,0" for a solid line in a dashed legend.
  const clean = svg.replace(/ stroke-dasharray="1,0"/g, '');
  const doc = new PDFDocument({ size: [Number(size[1]), Number(size[2])], margin: 0, autoFirstPage: true, info: { Producer: 'natatlas', Creator: 'natatlas', CreationDate: EPOCH } });
  const [regular, bold] = fontFiles() as [string, string];
  doc.registerFont('DejaVu Sans', regular);
  doc.registerFont('DejaVu Sans Bold', bold);
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
