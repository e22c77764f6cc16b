/**
 * The evaluate stage's outputs as the report reads them (`evaluate/matrix.json`,
 * `evaluate/attack.json`). The report renders these files and never recomputes them;
 * a file with another schema string is refused with a message naming it.
 */
import { NatatlasError } from '../../errors.ts';

import { MATRIX_SCHEMA, type MatrixCell, type SuccessMatrix } from '../../evaluate/trials.ts';
import { ATTACK_SCHEMA, type AttackReport, type PairAttack } from '../../stages/evaluate.ts';
import { LEVEL_KEYS, type Costs, type LevelKey, type MaybeCosts } from '../../evaluate/analytic.ts';

// The evaluate stage owns these formats; the report reads them under its own names.
export { MATRIX_SCHEMA, ATTACK_SCHEMA, LEVEL_KEYS };
export type { MatrixCell, Costs, LevelKey, MaybeCosts };
export type Strategy = MatrixCell['strategy'];
export type MatrixFile = SuccessMatrix;
export type AttackPair = PairAttack;
export type AttackFile = AttackReport;

export const LEVEL_LABELS: Record<LevelKey, string> = { p50: '50%', p90: '90%', p99: '99%', p999: '99.9%' };

function check(schemaWanted: string, value: unknown, file: string): void {
  const schema = (value as { schema?: unknown } | null)?.schema;
  if (schema !== schemaWanted) {
    throw new NatatlasError(`${file}: schema ${JSON.stringify(schema)}, the report reads ${schemaWanted}: rerun \`natatlas evaluate\``);
  }
}

/** Parse matrix.json text, checking the schema and the fields the report uses. */
export function parseMatrix(text: string, file: string): MatrixFile {
  const m = JSON.parse(text) as MatrixFile;
  check(MATRIX_SCHEMA, m, file);
  if (!Array.isArray(m.cells) || !Array.isArray(m.carriers)) throw new NatatlasError(`${file}: cells and carriers must be arrays`);
  m.cells.forEach((c, i) => {
    if (typeof c.a !== 'string' || typeof c.b !== 'string' || typeof c.trials !== 'number' || typeof c.successes !== 'number' || !Array.isArray(c.wilson)) {
      throw new NatatlasError(`${file}: cells[${i}] lacks a, b, trials, successes or wilson`);
    }
  });
  return m;
}

/** Parse attack.json text, checking the schema and the fields the report uses. */
export function parseAttack(text: string, file: string): AttackFile {
  const a = JSON.parse(text) as AttackFile;
  check(ATTACK_SCHEMA, a, file);
  if (!Array.isArray(a.pairs)) throw new NatatlasError(`${file}: pairs must be an array`);
  a.pairs.forEach((p, i) => {
    if (typeof p.a !== 'string' || typeof p.b !== 'string' || !p.curve || !Array.isArray(p.curve.packets)) {
      throw new NatatlasError(`${file}: pairs[${i}] lacks a, b or curve.packets`);
    }
  });
  return a;
}
