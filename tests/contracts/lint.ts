/**
 * The rule "stages touch derived files only through pipeline/contracts/", as a scan of
 * the sources. Outside pipeline/contracts/ (and pipeline/bias/, the contract package
 * itself), a module may not:
 *
 * - `old-reader`: import the readers contracts replaced (pipeline/derived/, report/data/evaluate.ts);
 * - `derived-path`: build a path under derived/ (`derivedPath(`, or `path.join`/`resolve`
 *   from a derived root onwards), except the few modules that own derived/ itself rather than a
 *   stage's files (DERIVED_ROOT_OWNERS);
 * - `file-name`: spell a contract's file name (`attack.json`, `client.csv`, ...) in code;
 * - `row-io`: import the CSV record reader, field splitter, line reader or atomic line
 *   writer, or their byte-level kin (record and line readers by bytes, ByteFields,
 *   ByteLines), except modules that read raw captures or write raw campaigns (RAW_IO).
 *
 * Comments are left out before scanning (they may name files freely).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Violation {
  file: string;
  line: number;
  rule: 'old-reader' | 'derived-path' | 'file-name' | 'row-io';
  text: string;
}

/** Own derived/ as a whole, not a stage's files: where it is resolved, stamped, adopted and where unit ledgers carry files over. */
export const DERIVED_ROOT_OWNERS = ['context.ts', 'freshness.ts', 'adopt.ts', 'units.ts'];

/** Read raw captures or write raw campaigns (their formats are not contracts between stages). */
export const RAW_IO = ['stages/ingest.ts', 'stages/ingest-bytes.ts', 'raw/', 'lab/', 'punch/', 'simulate/', 'bench/', 'io/', 'evaluate/aliases.ts'];

/** Contract file names that are not also a raw input's name (`nat-type.json` and `timeouts.csv` are both). */
export const DERIVED_FILE_NAMES = ['manifest.json', 'rejects.csv', 'attack.json', 'matrix.json', 'index.json', 'trials.csv', 'client.csv', 'server.csv'];

const EXEMPT = ['contracts/', 'bias/'];

function withoutComments(text: string): string {
  // Keep line breaks so reported line numbers stay right.
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/^([ \t]*)\/\/.*$/gm, '$1');
}

const under = (rel: string, prefixes: readonly string[]) => prefixes.some((p) => (p.endsWith('/') ? rel.startsWith(p) : rel === p));

/** Every rule broken by the TypeScript sources under `root` (a pipeline/ folder). */
export function scanPipeline(root: string): Violation[] {
  const out: Violation[] = [];
  const names = new RegExp(`['"\`]([^'"\`\\n]*/)?(${DERIVED_FILE_NAMES.map((n) => n.replace(/[.]/g, '\\.')).join('|')})['"\`]`);
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(abs);
        continue;
      }
      if (!entry.name.endsWith('.ts')) continue;
      const rel = path.relative(root, abs).split(path.sep).join('/');
      if (under(rel, EXEMPT)) continue;
      withoutComments(fs.readFileSync(abs, 'utf8')).split('\n').forEach((text, i) => {
        const hit = (rule: Violation['rule']) => out.push({ file: rel, line: i + 1, rule, text: text.trim() });
        if (/from\s+['"][^'"]*\/derived\/[^'"]*['"]|from\s+['"][^'"]*report\/data\/evaluate\.ts['"]/.test(text)) hit('old-reader');
        if (!under(rel, DERIVED_ROOT_OWNERS) && (/\bderivedPath\(/.test(text) || /path\.(join|resolve)\(\s*[^,()]*\bderived\b[^,()]*,/.test(text))) hit('derived-path');
        if (!under(rel, RAW_IO) && names.test(text)) hit('file-name');
        if (!under(rel, RAW_IO) && /^\s*import\b[^;]*\b(readRecords|readRecordBytes|splitFields|readLines|readLineBytes|AtomicWriter|ByteFields|ByteLines)\b/.test(text)) hit('row-io');
      });
    }
  };
  walk(root);
  return out;
}
