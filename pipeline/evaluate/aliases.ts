/**
 * Carrier names in trial files. Hole-punch trials are often logged by hand or by another
 * tool that names carriers its own way (the seed paper's `Vodaphone`, `Lyca`), while
 * the captures are folders (`VodafoneNL`, `LycaMobileNL`). The optional
 * `raw/<campaign>/carriers.csv` maps one to the other, so each trial cell can be set
 * against the fitted models of its carriers:
 *
 *   trial_name,carrier
 *   Vodaphone,VodafoneNL
 *   Lyca,LycaMobileNL
 *
 * `carrier` must be a capture folder of the campaign; a trial name may appear once.
 * Names the file does not list are used as they are (a trial name equal to a folder
 * name needs no row).
 */
import fs from 'node:fs';
import { InputError } from '../errors.ts';
import { splitFields } from '../io/csv.ts';

export const ALIASES_FILE = 'carriers.csv';
const HEADER = ['trial_name', 'carrier'];

/**
 * Read a carriers.csv (`file` to read, `label` to name it in errors); null when absent.
 *
 * @example readCarrierAliases('raw/sample/carriers.csv', 'raw/sample/carriers.csv', ['VodafoneNL']) // { Vodaphone: 'VodafoneNL' }
 */
export function readCarrierAliases(file: string, label: string, folders: readonly string[]): Record<string, string> | null {
  if (!fs.existsSync(file)) return null;
  const lines = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitFields(lines[0] ?? '');
  if (!header || header.length !== 2 || header[0] !== HEADER[0] || header[1] !== HEADER[1]) {
    throw new InputError(label, 1, `header must be ${HEADER.join(',')}, got ${JSON.stringify(lines[0] ?? '')}`);
  }
  const out: Record<string, string> = {};
  lines.slice(1).forEach((line, i) => {
    const lineNo = i + 2;
    if (line.trim() === '') return;
    const f = splitFields(line);
    if (!f || f.length !== 2 || f[0] === '' || f[1] === '') throw new InputError(label, lineNo, `expected two non-empty fields trial_name,carrier, got ${JSON.stringify(line)}`);
    const [name, carrier] = f as [string, string];
    if (Object.hasOwn(out, name)) throw new InputError(label, lineNo, `trial name ${JSON.stringify(name)} is listed twice`);
    if (!folders.includes(carrier)) throw new InputError(label, lineNo, `carrier ${JSON.stringify(carrier)} is not a capture folder of this campaign (folders: ${folders.join(', ') || 'none'})`);
    out[name] = carrier;
  });
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The capture folder a trial name stands for (itself when not listed). */
export function aliasOf(aliases: Record<string, string> | null, name: string): string {
  return aliases !== null && Object.hasOwn(aliases, name) ? aliases[name]! : name;
}
