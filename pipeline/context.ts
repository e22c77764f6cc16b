/**
 * What a stage is given: where the campaign's raw and derived files live and a
 * logger. Stages never touch `console` or `process` themselves, so tests can run
 * them with a silent or recording logger (as Observable Framework passes effects).
 */
import path from 'node:path';
import { sha256File, type HashCache } from './io/hash.ts';
import { fileStem } from './io/names.ts';

export interface Logger {
  /** A status line (stderr); silenced by --quiet. */
  info(message: string): void;
  /** Something the user should look at; never silenced. */
  warn(message: string): void;
  /** Transient progress for long work; shown only on a TTY and never with --quiet. */
  progress(message: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, progress() {} };

export interface Paths {
  raw: string;
  derived: string;
  reports: string;
}

/** Knobs a run passes to stages; each stage that reads one records it in its freshness stamp. */
export interface Settings {
  /** Monte Carlo in the evaluate stage: overrides of its defaults, or false to skip it. */
  montecarlo?: Record<string, unknown> | false;
  /** The report stage's notebooks folder (default: natatlas's own `notebooks/`). */
  notebooks?: string;
  /** The report stage without each figure's PDF and PNG (pages, SVG, CSV and LaTeX only): `--draft`. */
  draft?: boolean;
}

export interface StageContext {
  campaign: string;
  /** The campaign's folder name under derived/ and reports/ (run.ts sets it; default fileStem(campaign)). */
  folder?: string;
  paths: Paths;
  log: Logger;
  settings?: Settings;
  /** Recompute every unit of a stage instead of carrying unchanged ones over (`--force`; units.ts). */
  recompute?: boolean;
  /**
   * The run's file hashes (freshness.ts's size/mtime/ctime/inode cache, bypassed by
   * `--verify`): a raw file the freshness check just hashed is not read again to be
   * hashed by ingest. Absent (a stage called directly): hash every file.
   */
  hashes?: Pick<HashCache, 'hash' | 'adopt'>;
}

/** sha256 of `file`, from the run's hash cache when there is one. */
export async function fileHash(ctx: StageContext, file: string): Promise<string> {
  return (await ctx.hashes?.hash(file)) ?? sha256File(file);
}

/** The campaign's folder name under derived/ and reports/: the real name when it is a plain file name (io/names.ts). */
export function campaignFolder(ctx: StageContext): string {
  return ctx.folder ?? fileStem(ctx.campaign);
}

/** `derived/<campaign>/...` */
export function derivedPath(ctx: StageContext, ...parts: string[]): string {
  return path.join(ctx.paths.derived, campaignFolder(ctx), ...parts);
}

/** `reports/<campaign>/...` */
export function reportsPath(ctx: StageContext, ...parts: string[]): string {
  return path.join(ctx.paths.reports, campaignFolder(ctx), ...parts);
}

export function rawPath(ctx: StageContext, ...parts: string[]): string {
  return path.join(ctx.paths.raw, ctx.campaign, ...parts);
}

/** Rows per second and a thousands separator, for progress lines. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * Calls `emit` at most every `everyMs` while work goes on; `tick` is cheap enough
 * to call per row (it only reads the clock every 4096 calls).
 */
export class Throttle {
  private calls = 0;
  private last = 0;
  readonly started = performance.now();
  constructor(private readonly everyMs = 250) {}
  due(): boolean {
    if ((++this.calls & 4095) !== 0) return false;
    const now = performance.now();
    if (now - this.last < this.everyMs) return false;
    this.last = now;
    return true;
  }
  rate(count: number): string {
    const s = (performance.now() - this.started) / 1000;
    return s > 0 ? `${formatCount(Math.round(count / s))}/s` : '';
  }
}
