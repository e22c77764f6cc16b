/** `natatlas export`: flags to ExportOptions. */
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { NatatlasError } from '../errors.ts';
import type { Logger } from '../context.ts';
import { exportCampaign } from './index.ts';
import { exportJoinedCsv } from './joined.ts';
import { KOTLIN_FILE, kotlinPackageProblem } from './kotlin.ts';
import { TS_FILE } from './typescript.ts';

export const EXPORT_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  campaign: { type: 'string' },
  derived: { type: 'string', default: 'derived' },
  out: { type: 'string' },
  'kotlin-package': { type: 'string', default: 'natatlas.bias' },
  ts: { type: 'boolean' },
  kotlin: { type: 'boolean' },
  joined: { type: 'string' },
  carrier: { type: 'string' },
};

export const EXPORT_HELP = `usage: natatlas export --campaign NAME --out DIR [--derived derived] [--kotlin-package PKG] [--ts] [--kotlin]
       natatlas export --joined csv --campaign NAME [--carrier NAME] [--out DIR] [--derived derived]

Generates engine sources from the campaign's bias tables (derived/<campaign>/bias/):
${TS_FILE} (TypeScript, no imports) and ${KOTLIN_FILE} (Kotlin, one object per carrier
behind one PortSampler interface). Each holds every carrier's table as constants (marginal,
conditional model, published attack numbers, timeouts) and samplers for them; a header
names the contract version and the sha256 of each table. Same tables, same bytes.

  --campaign NAME       the campaign whose tables to export (required)
  --out DIR             folder to write into (created if missing; other files are left alone)
  --derived DIR         stage outputs (default derived)
  --kotlin-package PKG  package of ${KOTLIN_FILE} (default natatlas.bias; the seed engine's is carriers)
  --ts, --kotlin        write only these (default: both)

With --joined csv, exports the campaign's joined rows (derived/<campaign>/joined/, binary
column files) as CSV instead: header uuid,run,send_seq,send_time,recv_time,local_port,
dest_port,external_port,server_port, then the capture's extra columns; one row per
matched packet in send order. With --out DIR, one <carrier>.csv per carrier (or only
--carrier's), written atomically, paths printed on stdout; without --out, the CSV of
--carrier NAME (required unless the campaign has one carrier) goes to stdout.

  --joined csv          export joined rows as CSV (csv is the only format)
  --carrier NAME        only this carrier (its real name, as in the manifest)`;

export async function exportCommand(values: Record<string, unknown>, log: Logger): Promise<void> {
  const campaign = values.campaign;
  const out = values.out;
  if (typeof campaign !== 'string' || campaign === '') throw new NatatlasError('--campaign NAME is required (see natatlas export --help)');
  if (values.joined !== undefined) {
    if (values.joined !== 'csv') throw new NatatlasError(`--joined ${JSON.stringify(values.joined)}: the only format is csv`);
    const written = exportJoinedCsv({
      derived: path.resolve(String(values.derived)), campaign,
      carrier: typeof values.carrier === 'string' ? values.carrier : undefined, out: typeof out === 'string' && out !== '' ? path.resolve(out) : undefined,
    }, log);
    for (const f of written) process.stdout.write(`${path.relative(process.cwd(), f) || f}\n`);
    return;
  }
  if (values.carrier !== undefined) throw new NatatlasError('--carrier goes with --joined csv (see natatlas export --help)');
  if (typeof out !== 'string' || out === '') throw new NatatlasError('--out DIR is required (see natatlas export --help)');
  const kotlinPackage = String(values['kotlin-package']);
  const problem = kotlinPackageProblem(kotlinPackage);
  if (problem) throw new NatatlasError(`--kotlin-package ${JSON.stringify(kotlinPackage)}: ${problem}`);
  const only = values.ts === true || values.kotlin === true;
  const written = await exportCampaign(
    {
      derived: path.resolve(String(values.derived)),
      campaign,
      out: path.resolve(out),
      typescript: !only || values.ts === true,
      kotlin: !only || values.kotlin === true,
      kotlinPackage,
    },
    log,
  );
  // The products, on stdout, so scripts can pick them up.
  for (const f of written) process.stdout.write(`${path.relative(process.cwd(), f) || f}\n`);
}
