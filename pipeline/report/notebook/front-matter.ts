/**
 * A notebook's front matter (the `key: value` lines between two `---` lines at its top).
 * Its own module, without the Markdown parser, so the report stage's freshness check
 * can read a notebook's `for:` without loading what rendering needs.
 */
import { NatatlasError } from '../../errors.ts';

/** Notebook source with a leading BOM dropped and line ends made `\n`. */
export function notebookText(source: string): string {
  return source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

/** The front matter of `lines` (none: empty) and the index of the first body line; `file` labels errors. */
export function parseFrontMatter(lines: string[], file: string): { meta: Record<string, string>; bodyStart: number } {
  if (lines[0]?.trim() !== '---') return { meta: {}, bodyStart: 0 };
  const meta: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '---') return { meta, bodyStart: i + 1 };
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const m = /^([A-Za-z][\w-]*)\s*:\s*(.*?)\s*$/.exec(line);
    if (!m) throw new NatatlasError(`${file}:${i + 1}: front matter line is not \`key: value\`: ${line}`);
    let value = m[2]!;
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    meta[m[1]!] = value;
  }
  throw new NatatlasError(`${file}:1: front matter opened with --- is never closed`);
}
