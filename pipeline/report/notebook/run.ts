/**
 * Running one code cell. A cell is the body of an async function whose parameters are
 * the notebook scope (data, aq, md, table, charts, ...); a cell that is a single
 * expression shows its value without `return`. Errors never escape: the caller gets
 * the error with the notebook line it came from, and renders it where the cell was.
 */
import type { CellBlock } from './parse.ts';

type CellFunction = (...args: unknown[]) => Promise<unknown>;
const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => CellFunction;

export interface CompiledCell {
  fn: CellFunction;
  /** Lines the function header adds before the cell's first line. */
  offset: number;
}

/** Compile as an expression (`return (...)`) when it parses as one, else as a function body. */
export function compileCell(source: string, names: readonly string[]): CompiledCell {
  const expr = source.trim().replace(/;\s*$/, '');
  if (expr.length > 0 && !/^(const|let|var|return|if|for|while|function|class|throw|try|import|export)\b/.test(expr)) {
    try {
      // The expression starts on the `return` line: V8 places an error anywhere in the
      // first line of a returned expression at the `return`, which is then the right line.
      return { fn: new AsyncFunction(...names, `return (${expr}\n);`), offset: 2 };
    } catch {
      // Not a single expression: compile it as statements below.
    }
  }
  return { fn: new AsyncFunction(...names, source), offset: 2 };
}

export type CellOutcome =
  | { ok: true; outputs: unknown[] }
  | { ok: false; outputs: unknown[]; error: unknown; /** 1-based line in the notebook file, when known. */ line: number | null };

/**
 * Run a cell with `scope` (names to values). Values passed to `display` (a scope entry
 * this function provides) come first, then the returned value.
 */
export async function runCell(cell: CellBlock, scope: Record<string, unknown>): Promise<CellOutcome> {
  const outputs: unknown[] = [];
  const full: Record<string, unknown> = { ...scope, display: (v: unknown) => { outputs.push(v); } };
  const names = Object.keys(full);
  let compiled: CompiledCell;
  try {
    compiled = compileCell(cell.source, names);
  } catch (error) {
    return { ok: false, outputs, error, line: null };
  }
  try {
    const value = await compiled.fn(...names.map((n) => full[n]));
    if (value !== undefined) outputs.push(value);
    return { ok: true, outputs };
  } catch (error) {
    return { ok: false, outputs, error, line: errorLine(error, cell, compiled.offset) };
  }
}

/** The notebook line an error was thrown at, from the `<anonymous>:L:C` frame of the cell function. */
function errorLine(error: unknown, cell: CellBlock, offset: number): number | null {
  const stack = error instanceof Error ? error.stack ?? '' : '';
  const m = /<anonymous>:(\d+):\d+/.exec(stack);
  if (!m) return null;
  const inCell = Number(m[1]) - offset;
  const lines = cell.source.split('\n').length;
  return inCell >= 1 && inCell <= lines ? cell.line + inCell : null;
}
