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
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { sha256Text } from '../../io/hash.ts';
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

/** A chart's SVG from the previous report (null: draw it), and how to record the one drawn instead. */
export interface SvgLookup {
  svg: string | null;
  remember(svg: string): void;
}

/**
 * A spec as JSON that tells apart every value vega could draw differently: NaN, the
 * infinities and -0 (which plain JSON turns into null or 0) keep their own text. Null
 * for anything else that is not plain data (a Date, a Map, a function): no key, so the
 * chart is always drawn.
 */
export function exactJson(spec: unknown): string | null {
  try {
    return JSON.stringify(spec, function (this: Record<string, unknown>, k: string, x: unknown) {
      const own = this[k];
      if (typeof own === 'number' && (!Number.isFinite(own) || Object.is(own, -0))) return `\u0000${Object.is(own, -0) ? '-0' : String(own)}`;
      if (typeof own === 'string' && own.startsWith('\u0000')) return `\u0000${own}`;
      if (typeof own === 'function' || typeof own === 'symbol' || typeof own === 'bigint') throw new Error('not data');
      if (own !== null && typeof own === 'object' && !Array.isArray(own) && ![Object.prototype, null].includes(Object.getPrototypeOf(own))) throw new Error('not plain data');
      return x;
    });
  } catch {
    return null;
  }
}

export class FigureCache {
  private constructor(private readonly ledger: UnitLedger, private readonly svgLedger: UnitLedger, private readonly previous: string) {}

  /** The cache of `ctx`'s report (empty under --force, or when no report was written with this ledger). */
  static open(ctx: StageContext): FigureCache {
    return new FigureCache(
      UnitLedger.open(ctx, 'report-figures', new URL('./figure-files.ts', import.meta.url)),
      // An SVG is a function of the chart's Vega-Lite spec, given vega's versions and the drawing code (charts/render.ts).
      UnitLedger.open(ctx, 'report-svg', new URL('../charts/render.ts', import.meta.url)),
      reportsPath(ctx, 'figures'),
    );
  }

  /**
   * The SVG the previous report drew for chart `name` when its spec is the same, read back
   * from that report's file and checked against the recorded sha256: drawing the SVGs of
   * every unchanged chart again was most of a rerun's report.
   */
  svgLookup(name: string, spec: unknown): SvgLookup {
    const text = exactJson(spec);
    if (text === null) return { svg: null, remember: () => {} };
    const key = this.svgLedger.key({ spec: text, vega: vega.version, vegaLite: vegaLite.version });
    const file = path.join(this.previous, `${name}.svg`);
    let svg: string | null = null;
    this.svgLedger.recall(`svg ${name}`, key, (sha) => {
      if (typeof sha !== 'string' || !fs.existsSync(file)) return null;
      const stored = fs.readFileSync(file, 'utf8');
      // The file ends in a newline the SVG may lack (registry.ts): the hash says which.
      svg = [stored, stored.slice(0, -1)].find((t) => sha256Text(t) === sha) ?? null;
      return svg === null ? null : sha;
    });
    return { svg, remember: (drawn) => this.svgLedger.remember(`svg ${name}`, key, sha256Text(drawn)) };
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

  /** Figures whose PDF and PNG were carried over and drawn in this run. */
  get counts(): { reused: number; built: number } {
    return this.ledger.counts;
  }

  /** Charts whose SVG was carried over and drawn in this run. */
  get svgCounts(): { reused: number; built: number } {
    return this.svgLedger.counts;
  }

  /** Write the ledger: call once the report folder is swapped in. */
  async save(): Promise<void> {
    await this.ledger.save();
    await this.svgLedger.save();
  }
}
