/**
 * Where a campaign's files are: `raw/<campaign>/<carrier>/{client,server}-<run>.csv`,
 * `timeouts*.csv`, `nat-type.json`, and `raw/<campaign>/trials*.csv` (docs/design.md).
 * Discovery is sorted with a natural order so run 10 follows run 9 on every machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NatatlasError } from '../errors.ts';
import { FileNames } from '../io/names.ts';

export interface RawFile {
  /** Absolute path, for reading. */
  abs: string;
  /** Path relative to the raw root, with forward slashes: what outputs record. */
  rel: string;
}

export interface RunFile extends RawFile {
  run: string;
}

export interface CarrierLayout {
  name: string;
  client: RunFile[];
  server: RunFile[];
  timeouts: RawFile[];
  natType: RawFile | null;
  /** Files in the carrier folder that natatlas does not read. */
  unknown: RawFile[];
}

export interface CampaignLayout {
  name: string;
  dir: string;
  carriers: CarrierLayout[];
  trials: RawFile[];
}

/** Files a campaign may hold that are documentation, not data. */
const DOC_FILES = /^(readme(\..*)?|simulation\.json|\..*)$/i;

export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length || (a < b ? -1 : a > b ? 1 : 0);
}

function listDir(dir: string): fs.Dirent[] {
  return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => naturalCompare(a.name, b.name));
}

function relTo(root: string, abs: string): string {
  return path.relative(root, abs).split(path.sep).join('/');
}

function readCarrier(rawRoot: string, dir: string, name: string): CarrierLayout {
  const carrier: CarrierLayout = { name, client: [], server: [], timeouts: [], natType: null, unknown: [] };
  for (const entry of listDir(dir)) {
    const abs = path.join(dir, entry.name);
    const file = { abs, rel: relTo(rawRoot, abs) };
    if (!entry.isFile()) {
      if (!entry.name.startsWith('.')) carrier.unknown.push(file);
      continue;
    }
    const run = /^(client|server)-(.+)\.csv$/i.exec(entry.name);
    if (run) {
      (run[1]!.toLowerCase() === 'client' ? carrier.client : carrier.server).push({ ...file, run: run[2]! });
    } else if (/^timeouts.*\.csv$/i.test(entry.name)) {
      carrier.timeouts.push(file);
    } else if (entry.name.toLowerCase() === 'nat-type.json') {
      carrier.natType = file;
    } else if (!DOC_FILES.test(entry.name)) {
      carrier.unknown.push(file);
    }
  }
  return carrier;
}

function isCarrierDir(dir: string): boolean {
  return fs.readdirSync(dir).some((f) => /^(client|server)-.+\.csv$/i.test(f) || /^timeouts.*\.csv$/i.test(f));
}

/** One campaign: every carrier folder and the campaign-level trials files. */
export function readCampaign(rawRoot: string, name: string): CampaignLayout {
  const dir = path.join(rawRoot, name);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new NatatlasError(`campaign ${JSON.stringify(name)} not found: no folder ${relTo(process.cwd(), dir) || dir}`);
  }
  const campaign: CampaignLayout = { name, dir, carriers: [], trials: [] };
  for (const entry of listDir(dir)) {
    const abs = path.join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('.') && isCarrierDir(abs)) {
      campaign.carriers.push(readCarrier(rawRoot, abs, entry.name));
    } else if (entry.isFile() && /^trials.*\.csv$/i.test(entry.name)) {
      campaign.trials.push({ abs, rel: relTo(rawRoot, abs) });
    }
  }
  return campaign;
}

/** Every campaign under the raw root (folders holding at least one carrier), or just `only`. */
export function findCampaigns(rawRoot: string, only?: string): string[] {
  if (!fs.existsSync(rawRoot) || !fs.statSync(rawRoot).isDirectory()) {
    throw new NatatlasError(`raw folder ${rawRoot} not found (pass --raw DIR)`);
  }
  if (only !== undefined) {
    readCampaign(rawRoot, only);
    return [only];
  }
  const names = listDir(rawRoot)
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .filter((n) => {
      const dir = path.join(rawRoot, n);
      return listDir(dir).some((e) => e.isDirectory() && isCarrierDir(path.join(dir, e.name)));
    });
  if (names.length === 0) throw new NatatlasError(`no campaigns under ${rawRoot}: expected ${rawRoot}/<campaign>/<carrier>/client-*.csv`);
  return names;
}

/**
 * The folder names of the raw root's campaigns under derived/ and reports/ (io/names.ts),
 * decided over every folder of the raw root (and `only`), so a campaign's output folder
 * does not depend on which campaigns a run was asked for.
 */
export function campaignFolders(rawRoot: string, only?: string): FileNames {
  const names = fs.readdirSync(rawRoot, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  return new FileNames(only === undefined ? names : [...names, only], 'campaign');
}
