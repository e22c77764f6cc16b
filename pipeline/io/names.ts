/**
 * Names are data, files are ours. Carrier and campaign names come from folder names,
 * which may hold anything a file system allows (newlines, `..`, `index`, `__proto__`,
 * 240 characters, `KPN` beside `kpn`); every output file named after one goes through
 * this module, and the real name stays inside the files.
 *
 * A name that is already a plain, portable, unreserved file stem is used as is
 * (`KPN` -> `bias/KPN.json`, `figures/KPN-port-histogram.svg`), so engines and papers
 * can refer to it across reruns. Any other name becomes a readable slug plus `-` and
 * 8 hex digits of the sha256 of the real name. The two forms never meet: a plain stem
 * never ends in `-` and 8 hex digits. Case-insensitive file systems (macOS, Windows)
 * would merge `KPN.json` and `kpn.json`, so `FileNames`, which sees every name going
 * into one folder, gives every member of such a group the hashed form, and refuses the
 * (crafted) case of two names whose stems still meet.
 */
import crypto from 'node:crypto';
import { NatatlasError } from '../errors.ts';

/** Longest stem kept as is; hashed stems are at most 49 characters, so file names stay far below 255 bytes. */
const MAX_PLAIN = 64;
const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const HASHED_TAIL = /-[0-9a-f]{8}$/i;
/**
 * Stems natatlas uses itself in a carrier's folders (`bias/index.json`, the report's
 * `index.html` and `figures/`), and Windows device names, which no file may be called
 * whatever its extension. Compared without case and extension.
 */
const RESERVED = new Set(['index', 'figures', 'report', 'con', 'prn', 'aux', 'nul', ...[...'0123456789'].flatMap((d) => [`com${d}`, `lpt${d}`])]);

function isPlain(name: string): boolean {
  return name.length <= MAX_PLAIN && PLAIN.test(name) && !name.includes('..') && !name.endsWith('.') && !HASHED_TAIL.test(name)
    && !RESERVED.has(name.split('.')[0]!.toLowerCase());
}

function hashedStem(name: string): string {
  const slug = name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'x';
  return `${slug}-${crypto.createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 8)}`;
}

/**
 * The file stem for one data-given name, on its own (figure names a notebook chose,
 * tests). Where several names share a folder, use `FileNames`, which also keeps
 * names differing only in case apart.
 */
export function fileStem(name: string): string {
  return isPlain(name) ? name : hashedStem(name);
}

/** The stems of every name that goes into one folder (a campaign's carriers, a raw root's campaigns). */
export class FileNames {
  private readonly stems = new Map<string, string>();

  /** `what` names the kind of name in the error for a collision (`carrier`, `campaign`). */
  constructor(names: Iterable<string>, what = 'name') {
    const unique = [...new Set(names)];
    const plainByFold = new Map<string, number>();
    for (const n of unique) if (isPlain(n)) plainByFold.set(n.toLowerCase(), (plainByFold.get(n.toLowerCase()) ?? 0) + 1);
    const owner = new Map<string, string>();
    for (const n of unique) {
      const stem = isPlain(n) && plainByFold.get(n.toLowerCase()) === 1 ? n : hashedStem(n);
      const other = owner.get(stem.toLowerCase());
      if (other !== undefined) {
        throw new NatatlasError(`${what}s ${JSON.stringify(printable(other))} and ${JSON.stringify(printable(n))} would share the file name ${stem}: rename one of the folders`);
      }
      owner.set(stem.toLowerCase(), n);
      this.stems.set(n, stem);
    }
  }

  /** The stem of `name`, which must be one of the names given. */
  stem(name: string): string {
    const s = this.stems.get(name);
    if (s === undefined) throw new Error(`no file name for ${JSON.stringify(name)}: not among the names given`);
    return s;
  }
}

/**
 * Text safe to print on a terminal: control characters (ANSI escapes, newlines, tabs,
 * C1 codes) and bidirectional overrides are shown as escapes instead of acting, so a
 * folder name can neither rewrite the screen nor split an error over two lines.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
