/**
 * A carrier's joined rows as the CSV `natatlas export --joined csv` writes (the contract's
 * own export, contracts/joined.ts), for tests that check rows by their text.
 */
import path from 'node:path';
import { silentLogger, type StageContext } from '../../pipeline/context.ts';
import { JOINED } from '../../pipeline/contracts/joined.ts';
import { carrierNames, readManifest } from '../../pipeline/contracts/manifest.ts';

/** `derived` is the derived root (holding `<campaign>/`). */
export function joinedCsv(derived: string, campaign: string, carrier: string): string {
  const root = path.dirname(derived);
  const ctx: StageContext = { campaign, paths: { raw: path.join(root, 'raw'), derived, reports: path.join(root, 'reports') }, log: silentLogger };
  const chunks: Buffer[] = [];
  JOINED.writeCsv(ctx, carrierNames(readManifest(ctx)), carrier, {
    write: (s: string) => { chunks.push(Buffer.from(s, 'utf8')); },
    writeBytes: (b: Uint8Array) => { chunks.push(Buffer.from(b)); },
  });
  return Buffer.concat(chunks).toString('utf8');
}
