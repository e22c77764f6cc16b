/**
 * What `natatlas export` reads: a campaign's bias index and every table it lists, each
 * validated through @natatlas/bias (the reader engines use) and hashed, so the generated
 * sources can name the exact bytes they came from.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BiasTableError, parseBiasTable, type BiasTable } from '@natatlas/bias';
import { InputError } from '../errors.ts';
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

const INDEX_SCHEMA = 'natatlas.bias-index/1';

function field(obj: object, key: string): unknown {
  return Object.hasOwn(obj, key) ? Reflect.get(obj, key) : undefined;
}

/** The index's table entries, checked field by field (it is the pipeline's own file, but may be stale or edited). */
function readIndex(abs: string, file: string, campaign: string): { carrier: string; file: string; sha256: string }[] {
  if (!fs.existsSync(abs)) throw new InputError(file, undefined, `no bias index: run \`natatlas run --campaign ${campaign}\` (or the bias stage) first`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(abs, 'utf8'));
  } catch (e) {
    throw new InputError(file, undefined, `not valid JSON (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  if (typeof json !== 'object' || json === null || field(json, 'schema') !== INDEX_SCHEMA) {
    throw new InputError(file, undefined, `not a bias index (expected "schema": "${INDEX_SCHEMA}")`);
  }
  const tables = field(json, 'tables');
  if (!Array.isArray(tables)) throw new InputError(file, undefined, '"tables" is not a list');
  return tables.map((t: unknown, i) => {
    const entry = typeof t === 'object' && t !== null ? { carrier: field(t, 'carrier'), file: field(t, 'file'), sha256: field(t, 'sha256') } : null;
    if (!entry || typeof entry.carrier !== 'string' || typeof entry.file !== 'string' || typeof entry.sha256 !== 'string') {
      throw new InputError(file, undefined, `tables[${i}] needs string fields carrier, file and sha256`);
    }
    // The file name comes from a data file: never let it point outside bias/.
    if (entry.file !== path.basename(entry.file) || entry.file === '..' || entry.file === '.') {
      throw new InputError(file, undefined, `tables[${i}].file ${JSON.stringify(entry.file)} is not a file name inside bias/`);
    }
    return { carrier: entry.carrier, file: entry.file, sha256: entry.sha256 };
  });
}

/** Every bias table of `campaign` under `derived`, validated, hashed and named. */
export function readExportInput(derived: string, campaign: string): ExportInput {
  const dir = path.join(derived, campaign, 'bias');
  // Files are named from the derived folder on (`derived/<campaign>/bias/...`), never by machine path.
  const shown = (abs: string) => path.join(path.basename(derived), path.relative(derived, abs));
  const indexFile = path.join(dir, 'index.json');
  const entries = readIndex(indexFile, shown(indexFile), campaign);
  if (entries.length === 0) throw new InputError(shown(indexFile), undefined, 'lists no bias tables (every carrier was skipped; see its "skipped" list)');
  entries.sort((a, b) => (a.carrier < b.carrier ? -1 : a.carrier > b.carrier ? 1 : 0));
  const loaded = entries.map((e) => {
    const abs = path.join(dir, e.file);
    const file = shown(abs);
    if (!fs.existsSync(abs)) throw new InputError(file, undefined, 'listed in bias/index.json but missing: rerun the bias stage');
    const bytes = fs.readFileSync(abs);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== e.sha256) throw new InputError(file, undefined, `sha256 ${sha256} differs from bias/index.json's ${e.sha256}: the table changed after the bias stage wrote it; rerun it`);
    let table: BiasTable;
    try {
      table = parseBiasTable(bytes.toString('utf8'), file);
    } catch (err) {
      if (err instanceof BiasTableError) throw new InputError(file, err.line, err.reason);
      throw err;
    }
    if (table.carrier !== e.carrier) throw new InputError(file, undefined, `its carrier ${JSON.stringify(table.carrier)} is not the index's ${JSON.stringify(e.carrier)}`);
    return { name: e.carrier, file: e.file, sha256, table };
  });
  const seen = new Set<string>();
  for (const c of loaded) {
    if (seen.has(c.name)) throw new InputError(shown(indexFile), undefined, `lists carrier ${JSON.stringify(c.name)} twice`);
    seen.add(c.name);
  }
  const ids = identifiersFor(loaded.map((c) => c.name));
  return { campaign, schema: loaded[0]!.table.schema, carriers: loaded.map((c, i) => ({ ...c, id: ids[i]! })) };
}
