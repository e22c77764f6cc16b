/**
 * Number and text formatting for tables, charts and LaTeX. Written out by hand rather
 * than with `toLocaleString`, so output does not depend on the ICU data Node was built
 * with and reruns stay byte-identical everywhere.
 */
import type { LevelKey } from '../evaluate/analytic.ts';

/** `12345.6` -> `'12,346'`; null / NaN -> `'—'`. */
export function fmtInt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const sign = n < 0 ? '-' : '';
  const digits = String(Math.round(Math.abs(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Fixed decimals with thousands separators: `fmtNum(4644.0025, 1)` -> `'4,644.0'`. */
export function fmtNum(n: number | null | undefined, decimals = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const fixed = Math.abs(n).toFixed(decimals);
  const [whole, frac] = fixed.split('.');
  const sign = n < 0 && Number(fixed) !== 0 ? '-' : '';
  return sign + whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac ? `.${frac}` : '');
}

/** Significant digits without exponent for moderate numbers: `fmtSig(0.0091316, 2)` -> `'0.0091'`. */
export function fmtSig(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n === 0) return '0';
  const mag = Math.floor(Math.log10(Math.abs(n)));
  const decimals = Math.max(0, digits - 1 - mag);
  return fmtNum(n, Math.min(decimals, 12));
}

/** A fraction as a percentage: `fmtPct(0.2)` -> `'20%'`, `fmtPct(0.0231, 1)` -> `'2.3%'`. */
export function fmtPct(x: number | null | undefined, decimals = 0): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return `${fmtNum(x * 100, decimals)}%`;
}

/** A 95% interval of fractions as percent: `[0.057, 0.51]` -> `'6–51%'`. */
export function fmtInterval(lo: number, hi: number, decimals = 0): string {
  return `${fmtNum(lo * 100, decimals)}–${fmtNum(hi * 100, decimals)}%`;
}

/** Seconds with a bracket: `61.451 [57.8, 65.1] s`. */
export function fmtSeconds(s: number | null, low?: number | null, high?: number | null): string {
  if (s === null) return '—';
  const bracket = low !== undefined && high !== undefined && (low !== null || high !== null)
    ? ` [${low === null ? '?' : fmtNum(low, 1)}, ${high === null ? '?' : fmtNum(high, 1)}]`
    : '';
  return `${fmtNum(s, 1)}${bracket} s`;
}

/** A number rounded for CSV and specs (no float noise like 0.30000000000000004). */
export function roundTo(x: number | null, decimals = 6): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** Success levels as column headings. */
export const LEVEL_LABELS: Record<LevelKey, string> = { p50: '50%', p90: '90%', p99: '99%', p999: '99.9%' };
