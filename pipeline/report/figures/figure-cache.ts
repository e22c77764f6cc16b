/**
 * A figure's PDF and PNG carried over from the previous report when its SVG is unchanged
 * (issue 13 item 3, report at scale). Drawing them is most of the report's time, and they
 * are a function of the SVG alone, given the drawing code (figure-files.ts and what it
 * imports), the fonts and the versions of pdfkit, svg-to-pdfkit and resvg: those make
 * the key, in the report stage's UnitLedger. The files come from the report folder being
 * replaced, and only when they still hash as recorded.
 *
 * Whole pages are not carried over: each page's provenance footer lists the sha256 of
 * the campaign-wide files it read (the manifest, attack.json), which change whenever any
 * carrier gets a new capture, so an unchanged carrier's page still changes bytes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { reportsPath, type StageContext } from '../../context.ts';
import { UnitLedger } from '../../units.ts';
import { fontFiles } from '../inputs.ts';

const require = createRequire(import.meta.url);
const DRAWN = ['pdf', 'png'] as const;

const sha256Of = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

let drawing: Record<string, string> | null = null;

/** What besides the SVG and natatlas's code decides the bytes: the fonts and the drawing libraries' versions. */
function drawingInputs(): Record<string, string> {
  if (drawing) return drawing;
  const out: Record<string, string> = {};
  for (const f of fontFiles()) out[path.basename(f)] = sha256Of(f);
  for (const pkg of ['pdfkit', 'svg-to-pdfkit', '@resvg/resvg-js']) out[pkg] = (JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
  return (drawing = out);
}

export class FigureCache {
  private constructor(private readonly ledger: UnitLedger, private readonly previous: string) {}

  /** The cache of `ctx`'s report (empty under --force, or when no report was written with this ledger). */
  static open(ctx: StageContext): FigureCache {
    return new FigureCache(UnitLedger.open(ctx, 'report-figures', new URL('./figure-files.ts', import.meta.url)), reportsPath(ctx, 'figures'));
  }

  private key(svgSha: string): string {
    return this.ledger.key({ svg: svgSha, drawing: drawingInputs() });
  }

  /** Link (else copy) figure `name`'s PDF and PNG from the previous report into `figuresDir`; false when they cannot be reused. */
  carry(name: string, svgSha: string, figuresDir: string): boolean {
    const old = (ext: string) => path.join(this.previous, `${name}.${ext}`);
    const kept = this.ledger.recall(`figure ${name}`, this.key(svgSha), (v) => {
      const rec = v as Record<string, unknown> | null;
      return rec !== null && typeof rec === 'object' && DRAWN.every((ext) => typeof rec[ext] === 'string' && fs.existsSync(old(ext)) && sha256Of(old(ext)) === rec[ext]) ? rec : null;
    });
    if (kept === null) return false;
    for (const ext of DRAWN) {
      const to = path.join(figuresDir, `${name}.${ext}`);
      try {
        fs.linkSync(old(ext), to);
      } catch {
        fs.copyFileSync(old(ext), to);
      }
    }
    return true;
  }

  /** After drawing figure `name`: its key and the hashes of the files written. */
  record(name: string, svgSha: string, files: Record<(typeof DRAWN)[number], Uint8Array>): void {
    const hashes = Object.fromEntries(DRAWN.map((ext) => [ext, crypto.createHash('sha256').update(files[ext]).digest('hex')]));
    this.ledger.remember(`figure ${name}`, this.key(svgSha), hashes);
  }

  /** Figures carried over and drawn in this run. */
  get counts(): { reused: number; built: number } {
    return this.ledger.counts;
  }

  /** Write the ledger: call once the report folder is swapped in. */
  save(): Promise<void> {
    return this.ledger.save();
  }
}
