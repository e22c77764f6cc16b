/**
 * A chart's PDF and PNG from its SVG: the report's heaviest per-figure work (pdfkit and
 * svg-to-pdfkit lay the text out glyph by glyph; resvg rasterises, then encodes the PNG
 * on the calling thread). Compiled, natatlas does it on worker threads
 * (figure-worker.ts) while the main thread lays out the next charts; from the sources
 * (tests, tsx), where a worker would first boot a TypeScript loader (about a second),
 * from this thread.
 * Either way the bytes are those of the same two functions.
 */
import { compiledWorkers, poolFor, threadsFor } from '../../threads.ts';
import { svgToPngAsync } from '../charts/render.ts';
import { svgToPdf } from './pdf.ts';

export interface FigureFiles {
  pdf: Uint8Array;
  png: Uint8Array;
  /** Milliseconds spent drawing both, wherever it ran (not the wait for a free worker). */
  ms: number;
}

/** Both files from this thread (resvg rasterises on its own threads meanwhile). */
export async function figureFilesHere(svg: string): Promise<FigureFiles> {
  const started = performance.now();
  const [pdf, png] = await Promise.all([svgToPdf(svg), svgToPngAsync(svg)]);
  return { pdf, png, ms: performance.now() - started };
}

const WORKER = new URL('./figure-worker.ts', import.meta.url);

/** Both files, on a worker thread when running compiled. */
export function figureFiles(svg: string): Promise<FigureFiles> {
  if (!compiledWorkers()) return figureFilesHere(svg);
  return poolFor(WORKER, threadsFor(2)).run<FigureFiles>(svg);
}
