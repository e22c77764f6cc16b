/**
 * Contract `ingest/manifest.json`: every raw input's path, sha256 and line counts, and
 * per carrier the counts later stages check their own against (written by ingest).
 * Its carriers decide every carrier file name of the campaign (`carrierNames`).
 */
import type { StageContext } from '../context.ts';
import { FileNames } from '../io/names.ts';
import { JsonCodec, JsonFile } from './json.ts';

export const INGEST_SCHEMA = 'natatlas.ingest/1';

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

export const MANIFEST = new JsonFile<IngestManifest>('manifest', 'ingest', 'manifest.json', new JsonCodec(INGEST_SCHEMA, new URL('./schemas/manifest.schema.json', import.meta.url), 'ingest'));

/** The campaign's ingest manifest (a missing or stale one names the command to run). */
export function readManifest(ctx: StageContext): IngestManifest {
  return MANIFEST.read(ctx);
}

/** The file names of a campaign's carriers (io/names.ts): decided over all of them, so `KPN` and `kpn` stay apart. */
export function carrierNames(manifest: IngestManifest): FileNames {
  return new FileNames(Object.keys(manifest.carriers), 'carrier');
}
