/**
 * The ingest stage's output, which every later stage reads instead of the raw files:
 * validated rows in a fixed column order without the capture app's spaces, extras as a
 * JSON object in the last field, and a manifest with per-file hashes and counts.
 */
import path from 'node:path';
import fs from 'node:fs';
import { NatatlasError } from '../errors.ts';
import { derivedPath, type StageContext } from '../context.ts';
import { FileNames } from '../io/names.ts';

export const INGEST_SCHEMA = 'natatlas.ingest/1';

export const CLIENT_COLUMNS = ['run', 'line', 'uuid', 'time', 'local_port', 'dest_port', 'status', 'extra'] as const;
export const SERVER_COLUMNS = ['run', 'line', 'kind', 'uuid', 'time', 'external_port', 'server_port', 'extra'] as const;
export const TIMEOUT_COLUMNS = ['file', 'line', 'probe_id', 'kind', 'delay_s', 'replied'] as const;
export const TRIAL_COLUMNS = ['file', 'line', 'carrier_a', 'carrier_b', 'strategy', 'trial', 'outcome', 'packets'] as const;
export const REJECT_COLUMNS = ['file', 'line', 'reason', 'raw'] as const;

/** `kind` of a normalized server row. */
export type ServerRowKind = 'packet' | 'end-marker';

export interface FileRecord {
  path: string;
  sha256: string;
  kind: 'client' | 'server' | 'timeouts' | 'trials' | 'nat-type';
  carrier: string | null;
  run: string | null;
  lines: number;
  header: boolean;
  blank: number;
  rows: number;
  control: number;
  rejected: number;
  extraColumns: string[];
}

export interface CarrierIngest {
  runs: string[];
  clientRows: number;
  failed: number;
  sent: number;
  serverRows: number;
  /** End-marker rows of the carrier's client and server files, malformed ones included. */
  control: number;
  rejected: number;
  timeoutProbes: number;
  natType: boolean;
  clientExtraColumns: string[];
  serverExtraColumns: string[];
}

export interface IngestManifest {
  schema: typeof INGEST_SCHEMA;
  campaign: string;
  files: FileRecord[];
  carriers: Record<string, CarrierIngest>;
  trials: { rows: number; rejected: number };
  rejected: number;
}

export function ingestDir(ctx: StageContext): string {
  return derivedPath(ctx, 'ingest');
}

/** The file names of a campaign's carriers (io/names.ts): decided over all of them, so `KPN` and `kpn` stay apart. */
export function carrierNames(manifest: IngestManifest): FileNames {
  return new FileNames(Object.keys(manifest.carriers), 'carrier');
}

/** `derived/<campaign>/<dir>/<carrier's file name><ext>`, e.g. `fit/KPN.json`. */
export function carrierFile(ctx: StageContext, names: FileNames, dir: string, carrier: string, ext: string): string {
  return derivedPath(ctx, dir, `${names.stem(carrier)}${ext}`);
}

export function carrierIngestFile(ctx: StageContext, carrier: string, file: 'client.csv' | 'server.csv' | 'timeouts.csv' | 'nat-type.json', names = carrierNames(readManifest(ctx))): string {
  return path.join(ingestDir(ctx), 'carriers', names.stem(carrier), file);
}

export function readManifest(ctx: StageContext): IngestManifest {
  const file = path.join(ingestDir(ctx), 'manifest.json');
  if (!fs.existsSync(file)) {
    throw new NatatlasError(`${ctx.campaign}: no ingest output (${path.relative(process.cwd(), file)} missing): run \`natatlas ingest --campaign ${ctx.campaign}\` first`);
  }
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as IngestManifest;
  if (manifest.schema !== INGEST_SCHEMA) {
    throw new NatatlasError(`${ctx.campaign}: ingest output has schema ${manifest.schema}, this natatlas reads ${INGEST_SCHEMA}: rerun \`natatlas ingest\``);
  }
  return manifest;
}

/** Parse the last field of a normalized row (a CSV-quoted JSON object, or empty), keyed by column name (null prototype). */
export function decodeExtra(field: string): Record<string, string> | null {
  if (field.length === 0) return null;
  const json = field.charCodeAt(0) === 34 ? field.slice(1, -1).replace(/""/g, '"') : field;
  return Object.assign(Object.create(null) as Record<string, string>, JSON.parse(json) as Record<string, string>);
}
