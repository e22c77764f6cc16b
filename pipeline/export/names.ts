/**
 * Carrier names are folder names: any string. Generated code needs an identifier valid
 * in both TypeScript and Kotlin, and distinct names must never share one (nor differ
 * only by case: Kotlin objects become class files, and some file systems fold case).
 * A name that is already a plain ASCII identifier, and not a keyword or a name the
 * generated code uses itself, is kept as is; any other name is sanitised and gets a
 * suffix from its sha256, so two names that sanitise alike still differ. The real name
 * always stays in the generated code as a string constant.
 */
import crypto from 'node:crypto';
import { NatatlasError } from '../errors.ts';

/**
 * Compared ignoring case: keywords of both languages, strict-mode restricted names, and
 * every name the generated sources declare or refer to by simple name (a carrier
 * object called `String` or `Math` would shadow it).
 */
const RESERVED = new Set(
  [
    // Kotlin hard keywords
    'as', 'break', 'class', 'continue', 'do', 'else', 'false', 'for', 'fun', 'if', 'in', 'interface', 'is', 'null', 'object', 'package',
    'return', 'super', 'this', 'throw', 'true', 'try', 'typealias', 'typeof', 'val', 'var', 'when', 'while',
    // JavaScript / TypeScript reserved words, strict mode and module code
    'await', 'case', 'catch', 'const', 'debugger', 'default', 'delete', 'enum', 'export', 'extends', 'finally', 'function', 'implements',
    'import', 'instanceof', 'let', 'new', 'private', 'protected', 'public', 'static', 'switch', 'void', 'with', 'yield', 'arguments', 'eval',
    'undefined', 'NaN', 'Infinity', 'globalThis',
    // names the generated code declares
    'PortSampler', 'CarrierTable', 'TablePortSampler', 'SegmentSampler', 'Conditional', 'Attack', 'BiasTables', 'Segment', 'Uniform',
    'CARRIERS', 'CAMPAIGN', 'SCHEMA', 'PORT_MAX', 'carrierByName', 'carrierTable', 'segmentSampler',
    // names the generated code refers to
    'Any', 'Array', 'Boolean', 'Double', 'DoubleArray', 'Float64Array', 'Int', 'IntArray', 'List', 'Math', 'Nothing', 'Number', 'Object',
    'Omit', 'Random', 'ReadonlyArray', 'String', 'Unit', 'doubleArrayOf', 'intArrayOf', 'listOf', 'maxOf', 'minOf', 'java', 'kotlin',
  ].map((w) => w.toLowerCase()),
);

const PLAIN = /^[A-Za-z][A-Za-z0-9_]*$/;

function suffix(name: string): string {
  return crypto.createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 8);
}

function sanitise(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z]/.test(s) ? s : `C${s}`;
}

/**
 * One identifier per name, in the order given. Throws (never renames silently) in the
 * astronomically unlikely case that two suffixed names still collide.
 */
export function identifiersFor(names: readonly string[]): string[] {
  const lower = new Map<string, number>();
  for (const n of names) lower.set(n.toLowerCase(), (lower.get(n.toLowerCase()) ?? 0) + 1);
  const ids = names.map((name) => {
    const keep = PLAIN.test(name) && !RESERVED.has(name.toLowerCase()) && lower.get(name.toLowerCase()) === 1;
    return keep ? name : `${sanitise(name)}_${suffix(name)}`;
  });
  const seen = new Map<string, string>();
  ids.forEach((id, i) => {
    const other = seen.get(id.toLowerCase());
    if (other !== undefined) throw new NatatlasError(`carriers ${JSON.stringify(other)} and ${JSON.stringify(names[i])} map to the same identifier ${id}; rename one`);
    seen.set(id.toLowerCase(), names[i]!);
  });
  return ids;
}
