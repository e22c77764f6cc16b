/**
 * Tables for the page: numbers right-aligned with thousands separators, every string
 * escaped, and each cell's raw value in `data-v` so the inline script can sort by a
 * column (click its header) numerically; without scripts the table reads the same.
 */
import { escapeHtml, Html, toHtml, type HtmlValue } from './escape.ts';
import { fmtInt, fmtSig } from '../format.ts';

export interface ColumnSpec {
  key: string;
  label?: string;
  /** Header tooltip (units, definition). */
  title?: string;
  /** Turn a cell value into what is shown; gets the whole row too. */
  format?: (value: unknown, row: Record<string, unknown>) => HtmlValue;
  /** Right-align (numbers are detected automatically). */
  numeric?: boolean;
}

export interface TableOptions {
  columns?: (string | ColumnSpec)[];
  caption?: HtmlValue;
  /** Clickable headers (default true). */
  sortable?: boolean;
  /** Show at most this many rows and say how many were left out. */
  limit?: number;
  className?: string;
}

/** Anything with arquero's `objects()` (a ColumnTable), or plain row objects. */
export type TableInput = readonly object[] | { objects(): object[] };

/** A long hash shortened to 12 characters; the full value on hover, and copied on click (runtime). */
export function hashHtml(value: unknown): Html {
  const full = escapeHtml(String(value));
  return new Html(`<code class="hash" title="${full}" data-full="${full}">${full.slice(0, 12)}…</code>`);
}

/** Numbers as shown in tables: integers grouped, others to 4 significant digits. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '—';
  return Number.isInteger(n) ? fmtInt(n) : fmtSig(n, 4);
}

function cellOf(value: unknown, spec: ColumnSpec, row: Record<string, unknown>): { html: string; sort: string | null; numeric: boolean } {
  const shown = spec.format ? spec.format(value, row) : (value as HtmlValue);
  // data-v holds what the column sorts by: numbers always, strings only when shown formatted
  // (a plain string sorts by its text).
  const sortValue = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' && spec.format ? value : null;
  if (!spec.format && typeof value === 'number') return { html: escapeHtml(formatNumber(value)), sort: sortValue, numeric: true };
  if (shown === null || shown === undefined) return { html: '<span class="na">—</span>', sort: sortValue, numeric: spec.numeric ?? typeof value === 'number' };
  return { html: toHtml(shown), sort: sortValue, numeric: spec.numeric ?? typeof value === 'number' };
}

/**
 * An HTML table from rows.
 *
 * @example table([{ carrier: 'KPN', joined: 3852 }], { columns: ['carrier', { key: 'joined', label: 'joined packets' }] })
 */
export function renderTable(input: TableInput, options: TableOptions = {}): Html {
  const rows = (Array.isArray(input) ? input : (input as { objects(): object[] }).objects()) as Record<string, unknown>[];
  const specs: ColumnSpec[] = (options.columns ?? Object.keys(rows[0] ?? {})).map((c) => (typeof c === 'string' ? { key: c } : c));
  const sortable = options.sortable ?? true;
  const shown = options.limit !== undefined ? rows.slice(0, options.limit) : rows;
  const cells = shown.map((r) => specs.map((s) => cellOf(r[s.key], s, r)));
  const numericCol = specs.map((s, j) => s.numeric ?? (cells.length > 0 && cells.some((row) => row[j]!.numeric) && cells.every((row) => row[j]!.numeric || row[j]!.html.includes('class="na"'))));
  let out = `<div class="table-wrap"><table class="${['data', sortable ? 'sortable' : '', options.className ?? ''].filter(Boolean).join(' ')}">`;
  if (options.caption !== undefined) out += `<caption>${toHtml(options.caption)}</caption>`;
  out += '<thead><tr>';
  specs.forEach((s, j) => {
    const cls = numericCol[j] ? ' class="num"' : '';
    const title = s.title ? ` title="${escapeHtml(s.title)}"` : '';
    out += `<th scope="col"${cls}${title}>${escapeHtml(s.label ?? s.key)}</th>`;
  });
  out += '</tr></thead><tbody>';
  for (const row of cells) {
    out += '<tr>';
    row.forEach((c, j) => {
      const cls = numericCol[j] ? ' class="num"' : '';
      const v = c.sort !== null ? ` data-v="${escapeHtml(c.sort)}"` : '';
      out += `<td${cls}${v}>${c.html}</td>`;
    });
    out += '</tr>';
  }
  out += '</tbody></table>';
  if (options.limit !== undefined && rows.length > options.limit) {
    out += `<p class="table-note">Showing ${fmtInt(options.limit)} of ${fmtInt(rows.length)} rows.</p>`;
  }
  out += '</div>';
  return new Html(out);
}
