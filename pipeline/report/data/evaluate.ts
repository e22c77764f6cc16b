/**
 * The evaluate stage's outputs as the report reads them (`evaluate/matrix.json`,
 * `evaluate/attack.json`). The report renders these files and never recomputes them;
 * a file with another schema string is refused with a message naming it.
 */
import { NatatlasError } from '../../errors.ts';

export const MATRIX_SCHEMA = 'natatlas.matrix/1';
export const ATTACK_SCHEMA = 'natatlas.attack/1';

export type Strategy = 'naive' | 'biased';

/** One carrier pair and strategy of the hole-punching trials (seed paper Table I). */
export interface MatrixCell {
  a: string;
  b: string;
  strategy: Strategy;
  trials: number;
  successes: number;
  /** One letter per trial in trial order, e.g. `FFFSFSFFFF`. */
  outcomes: string;
  rate: number;
  /** 95% Wilson score interval of the rate. */
  wilson: [number, number];
  meanPackets: number | null;
}

export interface MatrixFile {
  schema: typeof MATRIX_SCHEMA;
  campaign: string;
  /** Sorted. */
  carriers: string[];
  strategies: Strategy[];
  /** Lower-triangular like Table I: a pair once, in the order the trials file gives it. */
  cells: MatrixCell[];
}

export type LevelKey = 'p50' | 'p90' | 'p99' | 'p999';
export const LEVEL_KEYS: readonly LevelKey[] = ['p50', 'p90', 'p99', 'p999'];
export const LEVEL_LABELS: Record<LevelKey, string> = { p50: '50%', p90: '90%', p99: '99%', p999: '99.9%' };
export type Costs = Record<LevelKey, number>;
export type MaybeCosts = Record<LevelKey, number | null>;

export interface AttackPair {
  /** Carrier folder names. */
  a: string;
  b: string;
  naive: Costs;
  biased: MaybeCosts & { strategy: string; params: Record<string, unknown>; cap: number | null };
  bound: Costs;
  gain: MaybeCosts;
  /** Success probability at each packets-per-side value. */
  curve: { packets: number[]; naive: number[]; biased: number[]; mcNaive: number[] | null; mcBiased: number[] | null };
}

export interface AttackFile {
  schema: typeof ATTACK_SCHEMA;
  campaign: string;
  levels: number[];
  naive: { N: number; hardHard: Costs; easyHard: Costs };
  /** Monte Carlo settings; null when the evaluate stage ran no simulation. */
  simulator: { trials: number; ratePps: number; mappingLimit: number | null; budget: number; seed: string } | null;
  pairs: AttackPair[];
}

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
