/**
 * File names for things named by data. A carrier's folder name is used as is when it
 * is a plain file name (`KPN` -> `KPN.html`, `figures/KPN-port-histogram.svg`), so a
 * thesis can `\includegraphics` it across reruns; any other name gets a readable
 * slug plus a hash of the real name, which is just as stable and never collides.
 */
import crypto from 'node:crypto';

const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/;
/** Stems the report itself uses for other files. */
const RESERVED = new Set(['index', 'figures', 'report']);

/** A stable, portable file stem for a data-given name. */
export function fileStem(name: string): string {
  if (PLAIN.test(name) && !RESERVED.has(name.toLowerCase()) && !name.includes('..')) return name;
  const slug = name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'x';
  const hash = crypto.createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 8);
  return `${slug}-${hash}`;
}

/**
 * A stable stem for a carrier pair: `KPN-x-Odido`. Names that are not plain, or that
 * hold the separator themselves, go through fileStem's hashed form, so two different
 * pairs never share a stem.
 */
export function pairStem(a: string, b: string): string {
  const stems = [fileStem(a), fileStem(b)];
  if (stems.some((s) => s.includes('-x-'))) return fileStem(`${a}\u0000${b}`);
  return `${stems[0]}-x-${stems[1]}`;
}

/** Short content hash (hex) used for cell and figure ids. */
export function shortHash(text: string, length = 8): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex').slice(0, length);
}

/** A heading's anchor: lowercase words joined by '-', never empty. */
export function slugify(text: string): string {
  const s = text.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return s || `h-${shortHash(text, 6)}`;
}
