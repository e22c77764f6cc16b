/**
 * The carrier-pair success matrix from hole-punch trials (`trials*.csv`): per pair and
 * strategy, successes over trials with a Wilson 95% interval (sound at 0 or 10 of 10,
 * where the normal interval collapses), the outcomes in trial order, and the mean
 * packets where the trials recorded them.
 */
import type { TrialRow as IngestedTrial } from '../contracts/ingest-rows.ts';
import { MATRIX_SCHEMA, type MatrixCell, type SuccessMatrix } from '../contracts/matrix.ts';

/** Two-sided 95% normal quantile. */
export const Z95 = 1.959963984540054;

/** Packets per side of the seed's naive protocol (Algorithm 1: send until an ACK or 170,000 packets). */
export const NAIVE_TRIAL_BUDGET = 170_000;

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

/** What a matrix needs of a trial row. */
export type TrialRow = Pick<IngestedTrial, 'a' | 'b' | 'strategy' | 'trial' | 'outcome' | 'packets'>;

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
