/**
 * A campaign's derived files as notebooks see them: read lazily, parsed once per
 * report run, and each read noted (path and sha256) for the page's provenance footer.
 * An optional input that is absent (no evaluate stage yet, a carrier without a fit)
 * raises `MissingInput`, which a page shows as a visible "skipped" note rather than
 * as an error.
 */
import fs from 'node:fs';
import { campaignFolder, derivedPath, type StageContext } from '../../context.ts';
import { sha256File, sha256Text } from '../../io/hash.ts';
import type { FileNames } from '../../io/names.ts';
import { carrierNames, readManifest, type IngestManifest } from '../../derived/ingested.ts';
import type { CarrierSummary } from '../../derived/joined.ts';
import type { CarrierFit } from '../../derived/fitted.ts';
import type { BiasTable } from '../../bias/types.ts';
import type { BiasIndex } from '../../stages/bias.ts';
import { parseAttack, parseMatrix, type AttackFile, type MatrixFile } from './evaluate.ts';
import { scanJoined, type JoinedScan } from './joined.ts';
import { summariseRejects, type RejectsSummary } from './rejects.ts';

/** An optional input is absent: the page says what was skipped and which stage makes it. */
export class MissingInput extends Error {
  constructor(readonly file: string, readonly stage: string, readonly what: string) {
    super(`${what} skipped: ${file} is missing (run \`natatlas ${stage}\`)`);
    this.name = 'MissingInput';
  }
}

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
  private readonly cache = new Map<string, { value: unknown; sha256: string }>();
  private readonly scans = new Map<string, Promise<{ scan: JoinedScan; sha256: string }>>();
  private rejectsSummary: Promise<{ value: RejectsSummary; sha256: string }> | null = null;
  /** Reads since the last `takeReads()`, for the page being rendered. */
  private reads = new Map<string, string>();

  constructor(private readonly ctx: StageContext) {
    this.campaign = ctx.campaign;
    this.manifest = readManifest(ctx);
    this.note('ingest/manifest.json', sha256Text(fs.readFileSync(derivedPath(ctx, 'ingest', 'manifest.json'), 'utf8')));
    this.carriers = Object.keys(this.manifest.carriers).sort();
    this.names = carrierNames(this.manifest);
  }

  /** A carrier's file name without extension. */
  stem(carrier: string): string {
    return this.names.stem(carrier);
  }

  /** `<dir>/<carrier's stem><ext>` under the campaign's derived folder, e.g. `fit/KPN.json`. */
  carrierRel(dir: string, carrier: string, ext: string): string {
    return `${dir}/${this.stem(carrier)}${ext}`;
  }

  /** `derived/<campaign>/<rel>` as shown to readers. */
  label(rel: string): string {
    return `derived/${campaignFolder(this.ctx)}/${rel}`;
  }

  private note(rel: string, sha256: string): void {
    this.reads.set(this.label(rel), sha256);
  }

  /** The derived files read since the last call, sorted by name. */
  takeReads(): ReadRecord[] {
    const out = [...this.reads.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([file, sha256]) => ({ file, sha256 }));
    this.reads = new Map();
    this.note('ingest/manifest.json', sha256Text(fs.readFileSync(derivedPath(this.ctx, 'ingest', 'manifest.json'), 'utf8')));
    return out;
  }

  /** Start a page: forget earlier reads (the manifest is always listed). */
  beginPage(): void {
    this.takeReads();
  }

  /** Whether `derived/<campaign>/<rel>` exists. */
  has(rel: string): boolean {
    return fs.existsSync(derivedPath(this.ctx, ...rel.split('/')));
  }

  private json<T>(rel: string, stage: string, what: string, parse: (text: string, file: string) => T = (t) => JSON.parse(t) as T): T {
    let hit = this.cache.get(rel);
    if (!hit) {
      const file = derivedPath(this.ctx, ...rel.split('/'));
      if (!fs.existsSync(file)) throw new MissingInput(this.label(rel), stage, what);
      const text = fs.readFileSync(file, 'utf8');
      hit = { value: parse(text, this.label(rel)), sha256: sha256Text(text) };
      this.cache.set(rel, hit);
    }
    this.note(rel, hit.sha256);
    return hit.value as T;
  }

  summary(carrier: string): CarrierSummary {
    return this.json(this.carrierRel('summary', carrier, '.json'), 'join', `${carrier}: capture summary`);
  }

  hasSummary(carrier: string): boolean {
    return this.has(this.carrierRel('summary', carrier, '.json'));
  }

  /** Summaries of every carrier that has one, in carrier order. */
  summaries(): CarrierSummary[] {
    return this.carriers.filter((c) => this.hasSummary(c)).map((c) => this.summary(c));
  }

  fit(carrier: string): CarrierFit {
    return this.json(this.carrierRel('fit', carrier, '.json'), 'fit', `${carrier}: fitted model`);
  }

  hasFit(carrier: string): boolean {
    return this.has(this.carrierRel('fit', carrier, '.json'));
  }

  /** Fits of every carrier that has one (carriers with too few packets have none). */
  fits(): CarrierFit[] {
    return this.carriers.filter((c) => this.hasFit(c)).map((c) => this.fit(c));
  }

  bias(carrier: string): BiasTable {
    return this.json(this.carrierRel('bias', carrier, '.json'), 'bias', `${carrier}: bias table`);
  }

  biasIndex(): BiasIndex {
    return this.json('bias/index.json', 'bias', 'Bias-table summary');
  }

  matrix(): MatrixFile {
    return this.json('evaluate/matrix.json', 'evaluate', 'Carrier-pair success matrix', parseMatrix);
  }

  attack(): AttackFile {
    return this.json('evaluate/attack.json', 'evaluate', 'Attack cost', parseAttack);
  }

  /** The one-pass aggregate of `joined/<carrier>.csv` (scanned once per report run). */
  async joined(carrier: string): Promise<JoinedScan> {
    const rel = this.carrierRel('joined', carrier, '.csv');
    const file = derivedPath(this.ctx, ...rel.split('/'));
    if (!fs.existsSync(file)) throw new MissingInput(this.label(rel), 'join', `${carrier}: joined packets`);
    let p = this.scans.get(carrier);
    if (!p) {
      p = Promise.all([scanJoined(file, carrier), sha256File(file)]).then(([scan, sha256]) => ({ scan, sha256 }));
      this.scans.set(carrier, p);
    }
    const { scan, sha256 } = await p;
    this.note(rel, sha256);
    return scan;
  }

  async rejects(): Promise<RejectsSummary> {
    const file = derivedPath(this.ctx, 'rejects.csv');
    if (!this.rejectsSummary) {
      this.rejectsSummary = fs.existsSync(file)
        ? Promise.all([summariseRejects(file), sha256File(file)]).then(([value, sha256]) => ({ value, sha256 }))
        : Promise.resolve({ value: { total: 0, byCarrier: [], kinds: [], otherKinds: 0 }, sha256: '' });
    }
    const { value, sha256 } = await this.rejectsSummary;
    if (sha256) this.note('rejects.csv', sha256);
    return value;
  }

  /** Raw input files (from the ingest manifest) of one carrier, or all of them. */
  rawFiles(carrier?: string): { path: string; sha256: string; kind: string }[] {
    return this.manifest.files
      .filter((f) => carrier === undefined || f.carrier === carrier)
      .map((f) => ({ path: f.path, sha256: f.sha256, kind: f.kind }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
