/**
 * Names the report uses: content hashes for cell and figure ids and heading anchors.
 * File names for data-given names (carriers) come from `io/names.ts`, like every
 * other output's.
 */
import crypto from 'node:crypto';

import { fileStem } from '../io/names.ts';

export { fileStem };

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
