/**
 * `natatlas export --joined csv`: a campaign's joined rows as the CSV the join stage
 * wrote before its output became column files (contracts/joined.ts `writeCsv`; header
 * `uuid,run,send_seq,...` plus the extra columns), for people who open them in a
 * spreadsheet or pandas. With `--out DIR`, one `<carrier>.csv` per carrier (the carrier's
 * file stem, as every other output names it), each written atomically; without, one
 * carrier's CSV on stdout.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger, StageContext } from '../context.ts';
import { JOINED } from '../contracts/joined.ts';
import { carrierNames, readManifest } from '../contracts/manifest.ts';
import { NatatlasError } from '../errors.ts';
import { printable } from '../io/names.ts';

export interface JoinedExportOptions {
  /** The derived folder holding `<campaign>/joined/`. */
  derived: string;
  campaign: string;
  /** Only this carrier (default: every carrier of the campaign). */
  carrier?: string;
  /** Folder to write `<carrier>.csv` files into; absent: stdout (one carrier). */
  out?: string;
}

/** Write all of `bytes` to fd 1, waiting out a full pipe (stdout may be non-blocking). */
function writeStdout(bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) {
    try {
      at += fs.writeSync(1, bytes, at, bytes.length - at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    }
  }
}

const STDOUT = { write: (s: string) => writeStdout(Buffer.from(s, 'utf8')), writeBytes: writeStdout };

/** Returns the files written (none for stdout). */
export function exportJoinedCsv(options: JoinedExportOptions, log: Logger): string[] {
  const ctx: StageContext = { campaign: options.campaign, paths: { raw: '', derived: options.derived, reports: '' }, log };
  const manifest = readManifest(ctx);
  const names = carrierNames(manifest);
  const all = Object.keys(manifest.carriers).sort();
  if (options.carrier !== undefined && !all.includes(options.carrier)) {
    throw new NatatlasError(`--carrier ${JSON.stringify(printable(options.carrier))}: not a carrier of ${options.campaign} (${all.map(printable).join(', ')})`);
  }
  const carriers = options.carrier !== undefined ? [options.carrier] : all;
  for (const c of carriers) if (!JOINED.exists(ctx, names, c)) throw new NatatlasError(`${options.campaign}/${printable(c)}: no joined rows: run \`natatlas join --campaign ${options.campaign}\` first`);
  if (options.out === undefined) {
    if (carriers.length !== 1) throw new NatatlasError(`${options.campaign} has ${carriers.length} carriers: name one with --carrier NAME to write its CSV to stdout, or give --out DIR`);
    JOINED.writeCsv(ctx, names, carriers[0]!, STDOUT);
    return [];
  }
  const written: string[] = [];
  for (const c of carriers) {
    const file = path.join(options.out, `${names.stem(c)}.csv`);
    JOINED.exportCsv(ctx, names, c, file);
    written.push(file);
  }
  log.info(`export ${options.campaign}: joined rows of ${carriers.length} carrier${carriers.length === 1 ? '' : 's'} as CSV -> ${options.out}`);
  return written;
}
