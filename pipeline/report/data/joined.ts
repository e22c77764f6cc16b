/**
 * One streaming pass over `joined/<carrier>.csv` that keeps only what the charts need:
 * packets per external port (a 65,536-slot typed array, so any binning, ECDF or
 * quantile is exact), the first sends of the first runs in send order, local vs
 * external ports (points while few, 2-D bins always) and the extra columns' values.
 * Memory stays flat however large the capture: a spec never holds millions of points.
 */
import type { StageContext } from '../../context.ts';
import { JOINED } from '../../contracts/joined.ts';
import type { FileNames } from '../../io/names.ts';

/** Runs shown in the send-order chart, the sends looked at per run, and every how many one is drawn. */
export const SEND_ORDER_RUNS = 4;
export const SEND_ORDER_PER_RUN = 1000;
export const SEND_ORDER_STRIDE = 2;
/**
 * Points kept for the local-vs-external chart: every packet while there are at most
 * this many, else an evenly spaced sample (every k-th packet, k a power of two, doubled
 * whenever the sample would pass the limit) and the chart switches to bins.
 */
export const POINT_LIMIT = 4000;
/** Above POINT_LIMIT, local and external ports are binned 2048 ports wide (32 x 32 cells at most). */
export const LOCAL_EXTERNAL_BIN = 2048;
/** Distinct values counted per extra column before it is summarised as "more than". */
const EXTRA_DISTINCT_CAP = 1000;

export interface SendOrderPoint {
  run: string;
  seq: number;
  external: number;
}

export interface ExtraColumnSummary {
  name: string;
  /** Distinct values seen (capped at EXTRA_DISTINCT_CAP; `capped` says so). */
  distinct: number;
  capped: boolean;
  /** Most frequent values, most frequent first (ties by value). */
  top: { value: string; count: number }[];
}

export interface JoinedScan {
  carrier: string;
  n: number;
  /** Packets per external port, indexed by port. */
  externalCounts: Uint32Array;
  min: number;
  max: number;
  /** Packets whose external port equals their local port. */
  preserved: number;
  /** Runs in order of first appearance. */
  runs: string[];
  sendOrder: SendOrderPoint[];
  /** Local vs external ports of every `localExternalStride`-th packet (at most POINT_LIMIT). */
  localExternal: { local: number; external: number }[];
  localExternalStride: number;
  /** Non-empty LOCAL_EXTERNAL_BIN-wide cells: [localBinStart, externalBinStart, count], sorted. */
  localExternalBins: [number, number, number][];
  extraColumns: ExtraColumnSummary[];
}

/**
 * The distinct values of one extra column with their packet counts, as counting row by
 * row would give them: values enter in order of their first row until EXTRA_DISTINCT_CAP
 * are in; a value first seen after that is left out and marks the column capped.
 */
function countExtraValues(e: { values: Map<string, number>; capped: boolean }, ids: Uint32Array, values: readonly string[], perId: Uint32Array): void {
  const firstRow = new Float64Array(values.length).fill(Infinity);
  for (let i = ids.length - 1; i >= 0; i--) firstRow[ids[i]!] = i;
  const order = values.map((_v, id) => id).filter((id) => perId[id]! > 0).sort((a, b) => firstRow[a]! - firstRow[b]!);
  for (const id of order) {
    const v = values[id]!;
    // Two ids never share a value (the file's dictionary is of distinct values).
    if (e.values.size < EXTRA_DISTINCT_CAP) e.values.set(v, perId[id]!);
    else e.capped = true;
  }
}

/** Scan a carrier's joined rows (contracts/joined.ts) in one pass over its columns. */
export async function scanJoined(ctx: StageContext, names: FileNames, carrier: string): Promise<JoinedScan> {
  const counts = new Uint32Array(65536);
  let n = 0;
  let min = 65536;
  let max = -1;
  let preserved = 0;
  const sendOrder: SendOrderPoint[] = [];
  let points: { local: number; external: number }[] = [];
  let stride = 1;
  let withLocal = 0;
  // Keyed local bin x 256 + external bin (both under 256): a count array, not a Map touched per packet.
  const bins = new Uint32Array(256 * 256);
  const j = JOINED.columns(ctx, names, carrier, ['externalPort', 'localPort', 'run', 'sendSeq', 'extras']);
  const extras = j.extras.map((e) => ({ name: e.name, values: new Map<string, number>(), capped: false }));
  // Per extra column, packets per dictionary id first: the values' text is looked at once per distinct value, not per row.
  const extraCounts = j.extras.map((e) => new Uint32Array(e.values.length));
  n = j.rows;
  for (let i = 0; i < n; i++) {
    const ext = j.externalPort[i]!;
    const local = j.localPort[i]!;
    counts[ext]! += 1;
    if (ext < min) min = ext;
    if (ext > max) max = ext;
    if (local === ext) preserved++;
    const runIndex = j.run[i]!;
    if (runIndex < SEND_ORDER_RUNS) {
      // Rows are in send order within a run, so the first rows are the first sends; the file numbers runs in order of first appearance.
      const seq = j.sendSeq[i]!;
      if (seq < SEND_ORDER_PER_RUN && seq % SEND_ORDER_STRIDE === 0) sendOrder.push({ run: j.runs[runIndex]!, seq, external: ext });
    }
    if (withLocal % stride === 0) {
      points.push({ local, external: ext });
      if (points.length > POINT_LIMIT) {
        // Thin to every other kept point: the sample stays every (2 x stride)-th packet.
        points = points.filter((_p, k) => k % 2 === 0);
        stride *= 2;
      }
    }
    withLocal++;
    const key = Math.floor(local / LOCAL_EXTERNAL_BIN) * 256 + Math.floor(ext / LOCAL_EXTERNAL_BIN);
    bins[key]! += 1;
    for (let k = 0; k < extraCounts.length; k++) extraCounts[k]![j.extras[k]!.ids[i]!]! += 1;
  }
  extras.forEach((e, k) => countExtraValues(e, j.extras[k]!.ids, j.extras[k]!.values, extraCounts[k]!));
  const runs = j.runs;
  const localExternalBins: [number, number, number][] = [];
  for (let key = 0; key < bins.length; key++) {
    if (bins[key] !== 0) localExternalBins.push([Math.floor(key / 256) * LOCAL_EXTERNAL_BIN, (key % 256) * LOCAL_EXTERNAL_BIN, bins[key]!]);
  }
  const extraColumns = extras.map((e) => ({
    name: e.name,
    distinct: e.values.size,
    capped: e.capped,
    top: [...e.values.entries()]
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
      .slice(0, 5)
      .map(([value, count]) => ({ value, count })),
  }));
  return {
    carrier, n, externalCounts: counts, min: n ? min : 0, max: n ? max : 0, preserved, runs, sendOrder,
    localExternal: points, localExternalStride: stride, localExternalBins, extraColumns,
  };
}
