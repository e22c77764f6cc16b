/**
 * What `natatlas export` reads: a campaign's bias index and every table it lists, each
 * read through its contract (the tables through @natatlas/bias, the reader engines use) and hashed, so the generated
 * sources can name the exact bytes they came from.
 */
import path from 'node:path';
import type { BiasTable } from '@natatlas/bias';
import { silentLogger } from '../context.ts';
import { InputError } from '../errors.ts';
import { BIAS_INDEX } from '../contracts/bias-index.ts';
import { BIAS_TABLES } from '../contracts/bias-table.ts';
import { shownRel } from '../contracts/json.ts';
import { identifiersFor } from './names.ts';

export interface ExportedCarrier {
  /** The carrier's name as in the campaign (a folder name: any string). */
  name: string;
  /** A TypeScript and Kotlin identifier for it (see names.ts). */
  id: string;
  /** The table's file name inside `bias/`. */
  file: string;
  /** sha256 of the table file's bytes. */
  sha256: string;
  table: BiasTable;
}

export interface ExportInput {
  campaign: string;
  schema: BiasTable['schema'];
  /** In carrier-name order (UTF-16 code units), whatever order the index lists them in. */
  carriers: ExportedCarrier[];
}

/** Every bias table of `campaign` under `derived`, validated, hashed and named. */
export function readExportInput(derived: string, campaign: string): ExportInput {
  const ctx = { campaign, paths: { derived, raw: '', reports: '' }, log: silentLogger };
  const indexFile = shownRel(ctx, BIAS_INDEX.pattern);
  if (!BIAS_INDEX.exists(ctx)) throw new InputError(indexFile, undefined, `no bias index: run \`natatlas run --campaign ${campaign}\` (or the bias stage) first`);
  const entries = [...BIAS_INDEX.read(ctx).tables];
  if (entries.length === 0) throw new InputError(indexFile, undefined, 'lists no bias tables (every carrier was skipped; see its "skipped" list)');
  entries.sort((a, b) => (a.carrier < b.carrier ? -1 : a.carrier > b.carrier ? 1 : 0));
  const loaded = entries.map((e, i) => {
    // The file name comes from a data file: never let it point outside bias/.
    if (e.file !== path.basename(e.file) || !e.file.endsWith('.json') || e.file === BIAS_INDEX.fileName) {
      throw new InputError(indexFile, undefined, `tables[${i}].file ${JSON.stringify(e.file)} is not a table file name inside bias/`);
    }
    const stem = e.file.slice(0, -'.json'.length);
    const file = shownRel(ctx, `bias/${e.file}`);
    if (!BIAS_TABLES.exists(ctx, stem)) throw new InputError(file, undefined, `listed in ${BIAS_INDEX.pattern} but missing: rerun the bias stage`);
    const { value: table, sha256 } = BIAS_TABLES.readHashed(ctx, stem);
    if (sha256 !== e.sha256) throw new InputError(file, undefined, `sha256 ${sha256} differs from ${BIAS_INDEX.pattern}'s ${e.sha256}: the table changed after the bias stage wrote it; rerun it`);
    if (table.carrier !== e.carrier) throw new InputError(file, undefined, `its carrier ${JSON.stringify(table.carrier)} is not the index's ${JSON.stringify(e.carrier)}`);
    return { name: e.carrier, file: e.file, sha256, table };
  });
  const seen = new Set<string>();
  for (const c of loaded) {
    if (seen.has(c.name)) throw new InputError(indexFile, undefined, `lists carrier ${JSON.stringify(c.name)} twice`);
    seen.add(c.name);
  }
  const ids = identifiersFor(loaded.map((c) => c.name));
  return { campaign, schema: loaded[0]!.table.schema, carriers: loaded.map((c, i) => ({ ...c, id: ids[i]! })) };
}
