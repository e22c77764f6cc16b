/**
 * Every bias table passes two checks before it is written and when it is read: the
 * JSON Schema generated from the `BiasTable` type (shape, types, ranges), and the
 * invariants a schema cannot state (segments sorted, disjoint and inside 0..65535,
 * masses summing to 1). A table failing either is never written, nor returned by a reader.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import type { BiasTable, DeltaSegment, PortSegment } from './types.js';

/** The generated JSON Schema; it sits at the package root, beside `src/` and `dist/`. */
export const BIAS_SCHEMA_FILE = fileURLToPath(new URL('../bias-table.schema.json', import.meta.url));

let compiled: ValidateFunction<BiasTable> | undefined;

const UNION_NOISE = new Set(['const', 'additionalProperties', 'anyOf', 'enum']);

function schemaValidator(): ValidateFunction<BiasTable> {
  // Typed by `BiasTable`: a value that passes is narrowed to it, so no reader needs a cast.
  compiled ??= new Ajv({ allErrors: true, strict: false }).compile<BiasTable>(JSON.parse(fs.readFileSync(BIAS_SCHEMA_FILE, 'utf8')));
  return compiled;
}

const MASS_TOLERANCE = 1e-9;

function checkSegments(segs: readonly (PortSegment | DeltaSegment)[], where: string, lo: number, hi: number): string[] {
  const problems: string[] = [];
  let total = 0;
  segs.forEach((s, i) => {
    const [from, to, mass] = s;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from > to) problems.push(`${where}[${i}]: [${from}, ${to}] is not an integer range with from <= to`);
    if (from < lo || to > hi) problems.push(`${where}[${i}]: [${from}, ${to}] is outside ${lo}..${hi}`);
    if (!(mass > 0 && mass <= 1)) problems.push(`${where}[${i}]: mass ${mass} is not in (0, 1]`);
    if (i > 0 && from <= segs[i - 1]![1]) problems.push(`${where}[${i}]: starts at ${from}, not after the previous segment's end ${segs[i - 1]![1]}`);
    total += mass;
  });
  if (segs.length > 0 && Math.abs(total - 1) > MASS_TOLERANCE) problems.push(`${where}: masses sum to ${total}, not 1`);
  return problems;
}

/** The table, or the problems with it, each naming the field. */
export function checkBiasTable(table: unknown): { table: BiasTable; problems: [] } | { table: null; problems: string[] } {
  const validate = schemaValidator();
  if (!validate(table)) {
    // A union (the model families) fails in every branch; the branch-mismatch errors
    // (wrong const, extra properties, anyOf) only hide the real problem when there is one.
    const errors = validate.errors ?? [];
    const real = errors.filter((e) => !UNION_NOISE.has(e.keyword));
    return { table: null, problems: (real.length > 0 ? real : errors).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`) };
  }
  const problems = checkSegments(table.marginal, 'marginal', 0, 65535);
  if (table.conditional?.kind === 'delta') problems.push(...checkSegments(table.conditional.segments, 'conditional.segments', -65535, 65535));
  const [lo, hi] = table.mapping.observedRange;
  if (lo > hi) problems.push(`mapping.observedRange: [${lo}, ${hi}] is reversed`);
  return problems.length > 0 ? { table: null, problems } : { table, problems: [] };
}

/** Problems with `table`, each naming the field; empty when it is a valid bias table. */
export function validateBiasTable(table: unknown): string[] {
  return checkBiasTable(table).problems;
}

/** True when `value` is a valid bias table (schema and invariants); narrows it to `BiasTable`. */
export function isBiasTable(value: unknown): value is BiasTable {
  return checkBiasTable(value).table !== null;
}
