/**
 * Paper figures: every chart a page shows is also written to `figures/<name>.svg`,
 * `.pdf` (vector, fonts embedded), `.png` (2x, DejaVu fonts) and `.csv` (the rows
 * behind it), the PDF and PNG in the background (figure-files.ts; not in a draft), under a name that stays
 * the same across reruns. Two different charts claiming one name is an error in the
 * cell that asked second; the same chart shown on two pages is written once.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Chart } from '../charts/chart.ts';
import { sha256Text } from '../../io/hash.ts';
import { rowsToCsv } from './csv.ts';
import { writeFileNamed } from '../../io/fs-errors.ts';
import { figureFiles } from './figure-files.ts';
import type { FigureCache } from './figure-cache.ts';

export interface FigureEntry {
  name: string;
  title: string;
  /** Paths relative to the report folder, e.g. `figures/KPN-port-histogram.svg`. */
  svg: string;
  csv: string;
  /** Raster (2x) and vector PDF for papers; not written in a draft. */
  png?: string;
  pdf?: string;
}

export interface FigureTimings {
  charts: number;
  svgMs: number;
  /** Time spent drawing the PDFs and PNGs (in the background: it overlaps the rest). */
  pngMs: number;
}

export class FigureSet {
  private readonly entries = new Map<string, FigureEntry & { sha256: string }>();
  private readonly texFiles: { name: string; file: string; description: string }[] = [];
  /** PDFs and PNGs being drawn in the background; `finish()` waits for them. */
  private readonly pending: Promise<void>[] = [];
  readonly timings: FigureTimings = { charts: 0, svgMs: 0, pngMs: 0 };

  /**
   * `reportDir` is the folder being built; figures go to `<reportDir>/figures`. With a
   * `cache`, an unchanged chart's PDF and PNG are carried over; with 'draft' none are drawn.
   */
  constructor(private readonly reportDir: string, private readonly drawing?: FigureCache | 'draft') {}

  /** The cache of the previous report's figures, when this set draws PDF and PNG files (not a draft). */
  get cache(): FigureCache | null {
    return this.drawing === 'draft' ? null : (this.drawing ?? null);
  }

  /** Write a chart's files (once per name); returns its entry. */
  async add(chart: Chart, svg: string): Promise<FigureEntry> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(chart.name)) throw new Error(`figure name ${JSON.stringify(chart.name)} is not a plain file stem`);
    const sha256 = sha256Text(svg);
    const had = this.entries.get(chart.name);
    if (had) {
      if (had.sha256 !== sha256) throw new Error(`figure name ${chart.name} is already used by a different chart: give this chart its own name`);
      return had;
    }
    const dir = path.join(this.reportDir, 'figures');
    await fsp.mkdir(dir, { recursive: true });
    const rel = (ext: string) => `figures/${chart.name}.${ext}`;
    await writeFileNamed(path.join(this.reportDir, rel('svg')), svg.endsWith('\n') ? svg : `${svg}\n`);
    await writeFileNamed(path.join(this.reportDir, rel('csv')), rowsToCsv(chart.rows, chart.columns));
    const entry = { name: chart.name, title: chart.title, svg: rel('svg'), csv: rel('csv'), sha256 };
    if (this.drawing === 'draft') {
      this.entries.set(chart.name, entry);
      return entry;
    }
    const cache = this.drawing;
    if (!cache?.carry(chart.name, sha256, dir)) {
      const job = figureFiles(svg).then(async (files) => {
        this.timings.pngMs += files.ms;
        await writeFileNamed(path.join(this.reportDir, rel('pdf')), files.pdf);
        await writeFileNamed(path.join(this.reportDir, rel('png')), files.png);
        cache?.record(chart.name, sha256, files);
      }, (e: unknown) => {
        throw new Error(`figures/${chart.name}: drawing its PDF and PNG failed: ${e instanceof Error ? e.message : String(e)}`);
      });
      job.catch(() => {}); // reported by finish()
      this.pending.push(job);
    }
    const drawn = { ...entry, png: rel('png'), pdf: rel('pdf') };
    this.entries.set(chart.name, drawn);
    return drawn;
  }

  /** Wait for every PDF and PNG (throws the first drawing error, naming its figure). */
  async finish(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** Write a LaTeX table `figures/<name>.tex`. */
  async addTex(name: string, tex: string, description: string): Promise<void> {
    const dir = path.join(this.reportDir, 'figures');
    await fsp.mkdir(dir, { recursive: true });
    await writeFileNamed(path.join(dir, `${name}.tex`), tex);
    this.texFiles.push({ name, file: `figures/${name}.tex`, description });
  }

  figures(): FigureEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(({ sha256: _s, ...e }) => e);
  }

  tex(): { name: string; file: string; description: string }[] {
    return [...this.texFiles].sort((a, b) => (a.name < b.name ? -1 : 1));
  }
}
