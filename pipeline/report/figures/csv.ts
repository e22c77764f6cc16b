/** The rows behind a chart as CSV (RFC 4180 quoting, empty for null, `\n` line ends). */
import { csvRow } from '../../io/csv.ts';
import type { Row } from '../charts/chart.ts';

export function rowsToCsv(rows: readonly Row[], columns?: readonly string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  let out = `${csvRow(cols)}\n`;
  for (const r of rows) out += `${csvRow(cols.map((c) => { const v = r[c]; return v === null || v === undefined ? '' : typeof v === 'boolean' ? String(v) : v; }))}\n`;
  return out;
}
