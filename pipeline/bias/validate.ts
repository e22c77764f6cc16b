/**
 * Every bias table passes two checks before it is written: the JSON Schema generated
 * from the `BiasTable` type (shape, types, ranges), and the invariants a schema cannot
 * state (segments sorted, disjoint and inside 0..65535, masses summing to 1). A table
 * failing either is never written.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { BiasTable, DeltaSegment, PortSegment } from './types.ts';

export const BIAS_SCHEMA_FILE = fileURLToPath(new URL('./bias-table.schema.json', import.meta.url));

let compiled: ((data: unknown) => boolean) & { errors?: { instancePath: string; keyword: string; message?: string }[] | null } | undefined;

const UNION_NOISE = new Set(['const', 'additionalProperties', 'anyOf', 'enum']);

function schemaValidator() {
  if (!compiled) {
    const schema = JSON.parse(fs.readFileSync(BIAS_SCHEMA_FILE, 'utf8')) as object;
    compiled = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  return compiled;
}

const MASS_TOLERANCE = 1e-9;

function checkSegments(segs: (PortSegment | DeltaSegment)[], where: string, lo: number, hi: number): string[] {
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

/** Problems with `table`, each naming the field; empty when it is a valid bias table. */
export function validateBiasTable(table: unknown): string[] {
  const validate = schemaValidator();
  if (!validate(table)) {
    // A union (the model families) fails in every branch; the branch-mismatch errors
    // (wrong const, extra properties, anyOf) only hide the real problem when there is one.
    const errors = validate.errors ?? [];
    const real = errors.filter((e) => !UNION_NOISE.has(e.keyword));
    return (real.length > 0 ? real : errors).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
  }
  const t = table as BiasTable;
  const problems = checkSegments(t.marginal, 'marginal', 0, 65535);
  if (t.conditional?.kind === 'delta') problems.push(...checkSegments(t.conditional.segments, 'conditional.segments', -65535, 65535));
  const [lo, hi] = t.mapping.observedRange;
  if (lo > hi) problems.push(`mapping.observedRange: [${lo}, ${hi}] is reversed`);
  return problems;
}
