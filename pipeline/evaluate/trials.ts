/**
 * The carrier-pair success matrix from hole-punch trials (`trials*.csv`): per pair and
 * strategy, successes over trials with a Wilson 95% interval (sound at 0 or 10 of 10,
 * where the normal interval collapses), the outcomes in trial order, and the mean
 * packets where the trials recorded them.
 */
import { readRecords } from '../io/csv.ts';

export const MATRIX_SCHEMA = 'natatlas.matrix/1';
/** Two-sided 95% normal quantile. */
export const Z95 = 1.959963984540054;

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
   */
  predicted?: { budget: number; p: number; plan: string; inside: boolean; assumed?: boolean } | null;
}

/** Packets per side of the seed's naive protocol (Algorithm 1: send until an ACK or 170,000 packets). */
export const NAIVE_TRIAL_BUDGET = 170_000;

export interface SuccessMatrix {
  schema: typeof MATRIX_SCHEMA;
  campaign: string;
  carriers: string[];
  /** Trial names mapped to capture folders by raw/<campaign>/carriers.csv (absent without that file). */
  aliases?: Record<string, string>;
  strategies: ('naive' | 'biased')[];
  cells: MatrixCell[];
}

/** Wilson score interval for `successes` of `n` at normal quantile z. */
export function wilson(successes: number, n: number, z = Z95): [number, number] {
  if (n === 0) return [0, 1];
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // At 0 or n successes one end is exactly 0 or 1; keep it exact rather than 1 - 1e-16.
  return [successes === 0 ? 0 : Math.max(0, centre - half), successes === n ? 1 : Math.min(1, centre + half)];
}

interface TrialRow {
  a: string;
  b: string;
  strategy: 'naive' | 'biased';
  trial: number;
  outcome: string;
  packets: number | null;
}

/** Read the ingest stage's normalized trials (`file,line,carrier_a,carrier_b,strategy,trial,outcome,packets`). */
export async function readTrials(file: string): Promise<TrialRow[]> {
  const rows: TrialRow[] = [];
  await readRecords(file, (f, recordNo) => {
    if (recordNo === 1) return;
    rows.push({ a: f[2]!, b: f[3]!, strategy: f[4] as 'naive' | 'biased', trial: Number(f[5]), outcome: f[6]!, packets: f[7] ? Number(f[7]) : null });
  });
  return rows;
}

/** Group trials by pair (in the order the files give them; a pair and its reverse are one cell) and strategy. */
export function buildMatrix(campaign: string, rows: TrialRow[]): SuccessMatrix {
  const groups = new Map<string, TrialRow[]>();
  const orderOf = new Map<string, [string, string]>();
  for (const r of rows) {
    const pairKey = [r.a, r.b].sort().join('\u0000');
    if (!orderOf.has(pairKey)) orderOf.set(pairKey, [r.a, r.b]);
    const key = `${pairKey}\u0001${r.strategy}`;
    const g = groups.get(key) ?? [];
    g.push(r);
    groups.set(key, g);
  }
  const cells: MatrixCell[] = [];
  for (const [key, g] of groups) {
    const [a, b] = orderOf.get(key.split('\u0001')[0]!)!;
    const sorted = [...g].sort((x, y) => x.trial - y.trial);
    const successes = sorted.filter((r) => r.outcome === 'S').length;
    const packets = sorted.filter((r) => r.packets !== null).map((r) => r.packets!);
    cells.push({
      a, b, strategy: g[0]!.strategy, trials: sorted.length, successes,
      outcomes: sorted.map((r) => r.outcome).join(''),
      rate: successes / sorted.length,
      wilson: wilson(successes, sorted.length),
      meanPackets: packets.length > 0 ? packets.reduce((s, v) => s + v, 0) / packets.length : null,
    });
  }
  const carriers = [...new Set(rows.flatMap((r) => [r.a, r.b]))].sort();
  const strategies = (['naive', 'biased'] as const).filter((s) => rows.some((r) => r.strategy === s));
  return { schema: MATRIX_SCHEMA, campaign, carriers, strategies: [...strategies], cells };
}
