/**
 * Names the report uses: content hashes for cell and figure ids and heading anchors.
 * File names for data-given names (carriers) come from `io/names.ts`, like every
 * other output's.
 */
import crypto from 'node:crypto';

import { fileStem } from '../io/names.ts';

export { fileStem };

/** Longest pair stem kept readable: `attack-success-<pair>.<ext>` stays under 100 bytes. */
const MAX_PAIR_STEM = 72;

/**
 * A stable stem for a carrier pair: `KPN-x-Odido`, from each carrier's own stem (pass
 * the campaign's `FileNames.stem`, which keeps `KPN` and `kpn` apart). Stems that hold
 * the separator themselves, or a pair too long for a bounded file name, go through
 * fileStem's hashed form, so two different pairs never share a stem.
 */
export function pairStem(a: string, b: string, stem: (name: string) => string = fileStem): string {
  const stems = [stem(a), stem(b)];
  const joined = `${stems[0]}-x-${stems[1]}`;
  if (stems.some((s) => s.includes('-x-')) || joined.length > MAX_PAIR_STEM) return fileStem(`${a}\u0000${b}`);
  return joined;
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
