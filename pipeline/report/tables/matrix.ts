/**
 * The carrier-pair success matrix (seed paper Table I) as rows, columns and cells with
 * their display texts, shared by the heat map, the HTML table and the LaTeX table so
 * the three always agree.
 */
import type { MatrixCell, Strategy, SuccessMatrix } from '../../contracts/matrix.ts';
import { fmtInt, fmtInterval, fmtPct } from '../format.ts';

export interface MatrixCellView extends MatrixCell {
  failures: number;
  /** `2/10` */
  countText: string;
  /** `20%` */
  rateText: string;
  /** `6–51%` (95% Wilson interval) */
  wilsonText: string;
  /**
   * `5,000 packets/s`: the send rate the trials record and the prediction was made at;
   * null where the prediction has no rate in it (naive) or the rate was assumed.
   */
  sendRateText: string | null;
}

export function cellView(c: MatrixCell): MatrixCellView {
  return {
    ...c,
    failures: c.trials - c.successes,
    countText: `${c.successes}/${c.trials}`,
    rateText: fmtPct(c.rate),
    wilsonText: fmtInterval(c.wilson[0], c.wilson[1]),
    sendRateText: c.predicted && c.predicted.ratePps !== null && !c.predicted.rateAssumed ? `${fmtInt(c.predicted.ratePps)} packets/s` : null,
  };
}

/**
 * Row and column order that keeps the matrix lower-triangular, as in Table I: a pair
 * (a, b) sits in row a, column b, so b must not come after a. The carriers are ordered
 * so every b comes before its a (ties in the file's carrier order); if the pairs
 * contradict each other, the file's order is used.
 */
export function matrixOrder(m: Pick<SuccessMatrix, 'carriers' | 'cells'>): string[] {
  const names = [...m.carriers];
  for (const c of m.cells) for (const x of [c.a, c.b]) if (!names.includes(x)) names.push(x);
  const before = new Map<string, Set<string>>(names.map((n) => [n, new Set<string>()]));
  for (const c of m.cells) if (c.a !== c.b) before.get(c.a)!.add(c.b);
  const order: string[] = [];
  const left = new Set(names);
  while (left.size > 0) {
    const next = names.find((n) => left.has(n) && [...before.get(n)!].every((b) => !left.has(b)));
    if (next === undefined) return names; // a cycle: the pairs disagree on an order
    order.push(next);
    left.delete(next);
  }
  return order;
}

export interface MatrixGrid {
  strategy: Strategy;
  order: string[];
  /** rows[i][j]: row carrier order[i], column carrier order[j]; null where no trials. */
  rows: (MatrixCellView | null)[][];
}

/** One strategy's cells placed on the grid (row a, column b). */
export function matrixGrid(m: SuccessMatrix, strategy: Strategy, order = matrixOrder(m)): MatrixGrid {
  const rows = order.map(() => order.map((): MatrixCellView | null => null));
  for (const c of m.cells) {
    if (c.strategy !== strategy) continue;
    const i = order.indexOf(c.a);
    const j = order.indexOf(c.b);
    rows[i]![j] = cellView(c);
  }
  return { strategy, order, rows };
}

/** Strategies that have at least one cell, in the file's order. */
export function strategiesIn(m: SuccessMatrix): Strategy[] {
  const listed = m.strategies && m.strategies.length > 0 ? m.strategies : (['naive', 'biased'] as Strategy[]);
  return listed.filter((s) => m.cells.some((c) => c.strategy === s));
}

/** Each carrier pair with trials once, in matrix order (row a, then column b). */
export function matrixPairs(m: Pick<SuccessMatrix, 'carriers' | 'cells'>, order = matrixOrder(m)): { a: string; b: string }[] {
  const pairs: { a: string; b: string }[] = [];
  for (const c of m.cells) if (!pairs.some((p) => p.a === c.a && p.b === c.b)) pairs.push({ a: c.a, b: c.b });
  return pairs.sort((x, y) => order.indexOf(x.a) - order.indexOf(y.a) || order.indexOf(x.b) - order.indexOf(y.b));
}
