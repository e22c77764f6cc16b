/**
 * A campaign's derived files as notebooks see them: read lazily, parsed once per
 * report run, and each read noted (path and sha256) for the page's provenance footer.
 * Three ways a read can fail, told apart because the fix differs: the stage that writes
 * the file has not run yet (`StageNotRun`: run it), the carrier is not in the campaign
 * (`UnknownCarrier`: a typo in the notebook), or the stage ran but wrote nothing for
 * this carrier (`NoCarrierOutput`: e.g. too few packets to fit). The standard tables
 * and charts check first and show a note for the last case; a cell that reads anyway
 * fails, and a failed cell fails the report.
 */
import fs from 'node:fs';
import { campaignFolder, rawPath, type StageContext } from '../../context.ts';
import type { FileNames } from '../../io/names.ts';
import { carrierNames, MANIFEST, type IngestManifest } from '../../contracts/manifest.ts';
import { SUMMARIES, type CarrierSummary } from '../../contracts/summary.ts';
import { FITS, type CarrierFit } from '../../contracts/fit.ts';
import { ATTACK, type AttackReport } from '../../contracts/attack.ts';
import { MATRIX, type SuccessMatrix } from '../../contracts/matrix.ts';
import { BIAS_TABLES } from '../../contracts/bias-table.ts';
import { BIAS_INDEX, type BiasIndex } from '../../contracts/bias-index.ts';
import { JOINED } from '../../contracts/joined.ts';
import { REJECTS } from '../../contracts/rejects.ts';
import { folderExists, type FolderName } from '../../contracts/folder.ts';
import type { CarrierJsonFiles, JsonFile, Read } from '../../contracts/json.ts';
import type { BiasTable } from '../../bias/types.ts';
import { scanJoined, type JoinedScan } from './joined.ts';
import { summariseRejects, type RejectsSummary } from './rejects.ts';

/** A derived file a page needs is absent (the base of the three cases below). */
export class MissingInput extends Error {
  constructor(readonly file: string, readonly stage: string, message: string) {
    super(message);
    this.name = 'MissingInput';
  }
}

/** The stage that writes `file` has not run for this campaign (its output folder is absent). */
export class StageNotRun extends MissingInput {
  constructor(file: string, stage: string, campaign: string) {
    super(file, stage, `the ${stage} stage has not run yet for campaign ${campaign} (${file} is missing): run \`natatlas ${stage} --campaign ${campaign}\` or \`natatlas run\``);
    this.name = 'StageNotRun';
  }
}

/** A notebook asked for a carrier the campaign does not have. */
export class UnknownCarrier extends MissingInput {
  constructor(readonly carrier: string, campaign: string, carriers: readonly string[]) {
    super('', '', `no carrier ${JSON.stringify(carrier)} in campaign ${campaign} (its carriers: ${carriers.length === 0 ? 'none' : carriers.join(', ')})`);
    this.name = 'UnknownCarrier';
  }
}

/** The stage ran but wrote nothing for this carrier (the fit stage skips carriers with too few packets). */
export class NoCarrierOutput extends MissingInput {
  constructor(file: string, stage: string, readonly carrier: string) {
    super(file, stage, `${carrier} has no ${stage} output (${file}): the ${stage} stage skipped this carrier (see its warning; usually too few joined packets)`);
    this.name = 'NoCarrierOutput';
  }
}

/** What the files beside the captures say about how the campaign was made. */
export interface CampaignAbout {
  /** `lab`: natatlas lab wrote it (lab.json); `simulated`: the capture simulator (simulation.json); else captured on phones. */
  kind: 'lab' | 'simulated' | 'capture';
  /** The campaign README's first heading, if it has one. */
  title: string | null;
}

/** Files in `raw/<campaign>/` the report reads to describe the campaign (freshness inputs). */
export const ABOUT_FILES = ['README.md', 'lab.json', 'simulation.json'] as const;

/** A derived file a page used: its name under the derived root and its sha256. */
export interface ReadRecord {
  file: string;
  sha256: string;
}

export class CampaignData {
  readonly campaign: string;
  readonly manifest: IngestManifest;
  /** Carrier folder names, sorted. */
  readonly carriers: string[];
  /** Each carrier's file stem (io/names.ts): `summary/<stem>.json`, `<stem>.html`, `figures/<stem>-...`. */
  readonly names: FileNames;
  /** What this report run has read, by file name under the campaign's derived folder. */
  private readonly cache = {
    summaries: new Map<string, Read<CarrierSummary>>(),
    fits: new Map<string, Read<CarrierFit>>(),
    tables: new Map<string, Read<BiasTable>>(),
    index: new Map<string, Read<BiasIndex>>(),
    matrix: new Map<string, Read<SuccessMatrix>>(),
    attack: new Map<string, Read<AttackReport>>(),
  };
  private readonly scans = new Map<string, Promise<{ scan: JoinedScan; sha256: string }>>();
  private rejectsSummary: Promise<{ value: RejectsSummary; sha256: string | null }> | null = null;
  /** Reads since the last `takeReads()`, for the page being rendered. */
  private reads = new Map<string, string>();

  private readonly manifestSha256: string;

  constructor(private readonly ctx: StageContext) {
    this.campaign = ctx.campaign;
    ({ value: this.manifest, sha256: this.manifestSha256 } = MANIFEST.readHashed(ctx));
    this.note(MANIFEST.pattern, this.manifestSha256);
    this.carriers = Object.keys(this.manifest.carriers).sort();
    this.names = carrierNames(this.manifest);
  }

  /** A carrier's file name without extension. */
  stem(carrier: string): string {
    return this.names.stem(carrier);
  }

  /** `derived/<campaign>/<rel>` as shown to readers. */
  label(rel: string): string {
    return `derived/${campaignFolder(this.ctx)}/${rel}`;
  }

  private note(rel: string, sha256: string): void {
    this.reads.set(this.label(rel), sha256);
  }

  /** Note a carrier's joined rows as read by other code (compare: its sha256 joins the provenance list). */
  async noteJoined(carrier: string): Promise<void> {
    this.note(JOINED.rel(this.stem(this.checkCarrier(carrier))), await JOINED.sha256(this.ctx, this.names, carrier));
  }

  /** The derived files read since the last call, sorted by name. */
  takeReads(): ReadRecord[] {
    const out = [...this.reads.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([file, sha256]) => ({ file, sha256 }));
    this.reads = new Map();
    this.note(MANIFEST.pattern, this.manifestSha256);
    return out;
  }

  /** Start a page: forget earlier reads (the manifest is always listed). */
  beginPage(): void {
    this.takeReads();
  }

  /** Whether the stage writing `folder` has run for this campaign. */
  stageRan(folder: FolderName): boolean {
    return folderExists(this.ctx, folder);
  }

  /** The error for an absent `derived/<campaign>/<rel>` written by `stage` (for `carrier`, if per carrier). */
  private missing(folder: FolderName, rel: string, stage: string, carrier?: string): MissingInput {
    if (carrier !== undefined && folderExists(this.ctx, folder)) return new NoCarrierOutput(this.label(rel), stage, carrier);
    return new StageNotRun(this.label(rel), stage, this.campaign);
  }

  /** Throws UnknownCarrier unless `carrier` is one of the campaign's carrier folders. */
  checkCarrier(carrier: unknown): string {
    if (typeof carrier !== 'string' || !this.carriers.includes(carrier)) throw new UnknownCarrier(String(carrier), this.campaign, this.carriers);
    return carrier;
  }

  /** Whether the fit stage wrote a model for `carrier` (an unknown carrier throws). */
  hasFit(carrier: string): boolean {
    return FITS.exists(this.ctx, this.stem(this.checkCarrier(carrier)));
  }

  /** Read through a contract once per report run, noting the file for the provenance footer. */
  private cached<T>(cache: Map<string, Read<T>>, folder: FolderName, rel: string, stage: string, exists: () => boolean, read: () => Read<T>, carrier?: string): T {
    let hit = cache.get(rel);
    if (!hit) {
      if (!exists()) throw this.missing(folder, rel, stage, carrier);
      hit = read();
      cache.set(rel, hit);
    }
    this.note(rel, hit.sha256);
    return hit.value;
  }

  private perCarrier<T>(cache: Map<string, Read<T>>, files: CarrierJsonFiles<T>, carrier: string): T {
    const stem = this.stem(this.checkCarrier(carrier));
    return this.cached(cache, files.folder, files.rel(stem), files.writtenBy, () => files.exists(this.ctx, stem), () => files.readHashed(this.ctx, stem), carrier);
  }

  private single<T>(cache: Map<string, Read<T>>, file: JsonFile<T>): T {
    return this.cached(cache, file.folder, file.pattern, file.writtenBy, () => file.exists(this.ctx), () => file.readHashed(this.ctx));
  }

  summary(carrier: string): CarrierSummary {
    return this.perCarrier(this.cache.summaries, SUMMARIES, carrier);
  }

  hasSummary(carrier: string): boolean {
    return SUMMARIES.exists(this.ctx, this.stem(this.checkCarrier(carrier)));
  }

  /** Summaries of every carrier that has one, in carrier order. */
  summaries(): CarrierSummary[] {
    return this.carriers.filter((c) => this.hasSummary(c)).map((c) => this.summary(c));
  }

  fit(carrier: string): CarrierFit {
    return this.perCarrier(this.cache.fits, FITS, carrier);
  }

  /** Fits of every carrier that has one (carriers with too few packets have none). */
  fits(): CarrierFit[] {
    return this.carriers.filter((c) => this.hasFit(c)).map((c) => this.fit(c));
  }

  bias(carrier: string): BiasTable {
    const stem = this.stem(this.checkCarrier(carrier));
    return this.cached(this.cache.tables, 'bias', `bias/${stem}.json`, BIAS_TABLES.writtenBy, () => BIAS_TABLES.exists(this.ctx, stem), () => BIAS_TABLES.readHashed(this.ctx, stem), carrier);
  }

  biasIndex(): BiasIndex {
    return this.single(this.cache.index, BIAS_INDEX);
  }

  matrix(): SuccessMatrix {
    return this.single(this.cache.matrix, MATRIX);
  }

  attack(): AttackReport {
    return this.single(this.cache.attack, ATTACK);
  }

  /** The one-pass aggregate of `joined/<carrier>.csv` (scanned once per report run). */
  async joined(carrier: string): Promise<JoinedScan> {
    const rel = JOINED.rel(this.stem(this.checkCarrier(carrier)));
    if (!JOINED.exists(this.ctx, this.names, carrier)) throw this.missing('joined', rel, 'join', carrier);
    let p = this.scans.get(carrier);
    if (!p) {
      p = Promise.all([scanJoined(this.ctx, this.names, carrier), JOINED.sha256(this.ctx, this.names, carrier)]).then(([scan, sha256]) => ({ scan, sha256 }));
      this.scans.set(carrier, p);
    }
    const { scan, sha256 } = await p;
    this.note(rel, sha256);
    return scan;
  }

  async rejects(): Promise<RejectsSummary> {
    if (!this.rejectsSummary) {
      this.rejectsSummary = Promise.all([summariseRejects(this.ctx), REJECTS.sha256(this.ctx)]).then(([value, sha256]) => ({ value, sha256 }));
    }
    const { value, sha256 } = await this.rejectsSummary;
    if (sha256 !== null) this.note(REJECTS.pattern, sha256);
    return value;
  }

  /** How the campaign was made, from lab.json / simulation.json / README.md beside the captures. */
  about(): CampaignAbout {
    const has = (f: string) => fs.existsSync(rawPath(this.ctx, f));
    const readme = rawPath(this.ctx, 'README.md');
    const heading = has('README.md') ? /^#\s+(.+?)\s*$/m.exec(fs.readFileSync(readme, 'utf8')) : null;
    return { kind: has('lab.json') ? 'lab' : has('simulation.json') ? 'simulated' : 'capture', title: heading ? heading[1]! : null };
  }

  /** Raw input files (from the ingest manifest) of one carrier, or all of them. */
  rawFiles(carrier?: string): { path: string; sha256: string; kind: string }[] {
    return this.manifest.files
      .filter((f) => carrier === undefined || f.carrier === carrier)
      .map((f) => ({ path: f.path, sha256: f.sha256, kind: f.kind }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
