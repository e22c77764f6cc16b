/**
 * The code a stage runs: the transitive import closure of its module inside the code
 * root (`pipeline/`), so its freshness stamp changes when, and only when, code it can
 * execute changes. Followed: static imports and re-exports, dynamic `import()` of a
 * string literal (the report stage's lazy import), `new URL('<file>', import.meta.url)`
 * (worker modules, stylesheets, generated schemas) and the workspace package
 * `@natatlas/bias`, whose built `dist/` comes from `bias/src/`. Not followed: `import
 * type` statements (erased before anything runs) and npm packages (package-lock pins them).
 *
 * Sources are scanned with regular expressions over the text with comments removed, so
 * an import spelled in a string elsewhere can only make the closure larger, never smaller.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Workspace packages: bare specifier -> their source entry, relative to the code root. */
const WORKSPACE: Record<string, string> = { '@natatlas/bias': 'bias/src/index.ts' };

const STATIC = /^[ \t]*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"\n]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;
const URL_REF = /\bnew URL\(\s*['"]([^'"\n]+)['"]\s*,\s*import\.meta\.url\s*\)/g;

function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^[ \t]*\/\/.*$/gm, '');
}

/** The specifiers a module's text refers to (type-only imports left out). */
export function referencesOf(source: string): string[] {
  const text = withoutComments(source);
  const out: string[] = [];
  for (const m of text.matchAll(STATIC)) if (m[1] === undefined) out.push(m[2]!);
  for (const m of text.matchAll(DYNAMIC)) out.push(m[1]!);
  for (const m of text.matchAll(URL_REF)) out.push(m[1]!);
  return out;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The file `spec` names from `from`, if it lies inside `root`; null for npm packages, folders and files outside. */
function resolve(spec: string, from: string, root: string): string | null {
  const workspace = Object.keys(WORKSPACE).find((p) => spec === p || spec.startsWith(`${p}/`));
  if (workspace !== undefined) {
    if (spec === workspace) return path.join(root, WORKSPACE[workspace]!);
    // A subpath export such as `@natatlas/bias/bias-table.schema.json`: a file at the package root.
    const file = path.join(root, path.dirname(path.dirname(WORKSPACE[workspace]!)), spec.slice(workspace.length + 1));
    return isFile(file) ? file : null;
  }
  if (!spec.startsWith('.')) return null;
  const file = path.resolve(path.dirname(from), spec);
  const rel = path.relative(root, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  if (isFile(file)) return file;
  // TypeScript sources import each other as `.js` (the bias package's NodeNext style).
  const ts = file.replace(/\.js$/, '.ts');
  return ts !== file && isFile(ts) ? ts : null;
}

/** Every file the module `entry` can load from inside `root` (itself included), sorted. */
export function importClosure(entry: string, root: string): string[] {
  const seen = new Set<string>();
  const todo = [path.resolve(entry)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!/\.[cm]?[jt]s$/.test(file)) continue;
    for (const spec of referencesOf(fs.readFileSync(file, 'utf8'))) {
      const next = resolve(spec, file, root);
      if (next !== null && !seen.has(next)) todo.push(next);
    }
  }
  return [...seen].sort();
}

/** sha256 over the closure's file names (relative to `root`) and contents. */
export function closureHash(entry: string, root: string): string {
  const hash = crypto.createHash('sha256');
  for (const file of importClosure(entry, root)) {
    hash.update(path.relative(root, file).split(path.sep).join('/'));
    hash.update('\0');
    hash.update(fs.readFileSync(file));
  }
  return hash.digest('hex');
}

/** The code the stages run: natatlas's `pipeline/` folder. */
export const CODE_ROOT = path.dirname(fileURLToPath(import.meta.url));

const moduleHashes = new Map<string, string>();

/** closureHash of a module of natatlas (a stage's `code`), computed once per process. */
export function codeHash(module: URL): string {
  const entry = fileURLToPath(module);
  let hash = moduleHashes.get(entry);
  if (hash === undefined) {
    hash = closureHash(entry, CODE_ROOT);
    moduleHashes.set(entry, hash);
  }
  return hash;
}
