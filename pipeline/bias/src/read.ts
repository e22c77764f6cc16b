/**
 * The validating readers engines use: a table comes back as a `BiasTable` only after
 * its contract version, the JSON Schema and the invariants all pass; otherwise a
 * `BiasTableError` says which file, where and why. A table of another major version
 * is refused up front, before its shape is judged, so the message says "upgrade"
 * rather than listing every field that moved.
 */
import fs from 'node:fs';
import type { BiasTable } from './types.js';
import { checkBiasTable } from './validate.js';

/** The contract version this reader reads (the `schema` field of every table). */
export const BIAS_SCHEMA = 'natatlas.bias/2' satisfies BiasTable['schema'];

const CONTRACT = /^natatlas\.bias\/(\d+)(?:\.\d+)*$/;
const MAX_PROBLEMS = 5;

/** A table that cannot be used: `source` is the file (or the caller's label), `line` where known. */
export class BiasTableError extends Error {
  readonly source: string;
  readonly line: number | undefined;
  readonly reason: string;
  constructor(source: string, reason: string, line?: number) {
    super(`${line === undefined ? source : `${source}:${line}`}: ${reason}`);
    this.name = 'BiasTableError';
    this.source = source;
    this.line = line;
    this.reason = reason;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Refuse anything that does not claim this contract version, naming what it claims instead. */
function checkVersion(value: unknown, source: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BiasTableError(source, `not a bias table: expected a JSON object, got ${describe(value)}`);
  }
  const schema: unknown = 'schema' in value ? value.schema : undefined;
  if (typeof schema !== 'string') {
    throw new BiasTableError(source, `not a bias table: no "schema" field naming the contract version (this reader reads "${BIAS_SCHEMA}")`);
  }
  if (schema === BIAS_SCHEMA) return;
  const m = CONTRACT.exec(schema);
  const major = Number(BIAS_SCHEMA.slice(BIAS_SCHEMA.lastIndexOf('/') + 1));
  if (m && Number(m[1]) < major) {
    throw new BiasTableError(source, `contract version "${schema}" (major ${m[1]}) is older than this reader's "${BIAS_SCHEMA}": written by an earlier natatlas; rerun \`natatlas run\` on its campaign to write it again`);
  }
  if (m && Number(m[1]) !== major) {
    throw new BiasTableError(source, `contract version "${schema}" (major ${m[1]}) is not supported: this reader reads "${BIAS_SCHEMA}" only; install a @natatlas/bias release that reads major version ${m[1]}`);
  }
  throw new BiasTableError(source, `unknown contract version ${JSON.stringify(schema)}: this reader reads "${BIAS_SCHEMA}" only`);
}

/** The 1-based line of a JSON syntax error, when the engine's message gives a position. */
function syntaxErrorLine(text: string, message: string): number | undefined {
  const line = /\(line (\d+) column \d+\)/.exec(message);
  if (line) return Number(line[1]);
  const at = /at position (\d+)/.exec(message);
  if (!at) return undefined;
  const pos = Number(at[1]);
  let n = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

function parseJsonText(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    // JSON.parse throws only SyntaxError (checked by message, not instanceof: it may come from another realm).
    const message = e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e) ? String(e.message) : String(e);
    throw new BiasTableError(source, `not valid JSON (${message.split('\n')[0]})`, syntaxErrorLine(text, message));
  }
}

/**
 * A validated bias table from a parsed JSON value (for example a JSON import) or from
 * JSON text. `source` names it in errors. Throws `BiasTableError` unless the value is a
 * valid table of this contract version.
 */
export function parseBiasTable(json: unknown, source = 'bias table'): BiasTable {
  const value = typeof json === 'string' ? parseJsonText(json, source) : json;
  checkVersion(value, source);
  const checked = checkBiasTable(value);
  if (checked.table === null) {
    const shown = checked.problems.slice(0, MAX_PROBLEMS).join('; ');
    const more = checked.problems.length > MAX_PROBLEMS ? ` (+${checked.problems.length - MAX_PROBLEMS} more)` : '';
    throw new BiasTableError(source, `fails the ${BIAS_SCHEMA} contract: ${shown}${more}`);
  }
  return checked.table;
}

/** Read, parse and validate the bias table at `file` (see `parseBiasTable`). */
export function readBiasTable(file: string): BiasTable {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    // By errno code, not instanceof Error: fs errors may come from another realm (vm contexts, test runners).
    const code = typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, expected a bias table file' : code === 'EACCES' ? 'permission denied' : undefined;
    if (reason) throw new BiasTableError(file, reason);
    throw e;
  }
  return parseBiasTable(text, file);
}
