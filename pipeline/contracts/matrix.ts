/**
 * Contract `evaluate/matrix.json` (written by evaluate): the hole-punch trials really
 * run, per carrier pair and strategy, with Wilson 95% intervals and what the evaluate
 * stage predicted for each cell.
 */
import { JsonCodec, JsonFile } from './json.ts';

export const MATRIX_SCHEMA = 'natatlas.matrix/1';

export interface MatrixCell {
  a: string;
  b: string;
  strategy: 'naive' | 'biased';
  trials: number;
  successes: number;
  outcomes: string;
  rate: number;
  wilson: [number, number];
  meanPackets: number | null;
  /**
   * What the evaluate stage predicts for this cell when both carriers have a fitted model
   * (names must match carrier folders, or be mapped to them by carriers.csv): success
   * within the cell's budget (the most packets a trial of the cell used; a failed trial
   * spends the whole budget), and whether that lies inside the observed Wilson interval.
   * `assumed`: the trials record no packet counts, so a naive cell is taken to have run
   * the seed's Algorithm 1 to its limit (NAIVE_TRIAL_BUDGET packets per side).
   * `ratePps`: the send rate (packets per second per side) the referee ran the biased plan
   * at, the one the cell's trials record; null for a naive cell, whose closed form has no
   * rate in it. `rateAssumed`: the trials record no rate, so the referee's default was used.
   */
  predicted?: { budget: number; p: number; plan: string; inside: boolean; assumed?: boolean; ratePps: number | null; rateAssumed?: boolean } | null;
  /** Why a cell between fitted carriers has no prediction, where that is not obvious (trials at several send rates). */
  unpredicted?: string;
}

/** A trial's strategy: aim uniformly, or with the peer's bias table. */
export type Strategy = MatrixCell['strategy'];

export interface SuccessMatrix {
  schema: typeof MATRIX_SCHEMA;
  campaign: string;
  carriers: string[];
  /** Trial names mapped to capture folders by raw/<campaign>/carriers.csv (absent without that file). */
  aliases?: Record<string, string>;
  strategies: ('naive' | 'biased')[];
  cells: MatrixCell[];
}

export const MATRIX = new JsonFile<SuccessMatrix>('matrix', 'evaluate', 'matrix.json', new JsonCodec(MATRIX_SCHEMA, new URL('./schemas/matrix.schema.json', import.meta.url), 'evaluate'));
