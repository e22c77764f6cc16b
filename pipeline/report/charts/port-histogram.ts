/**
 * External ports as a histogram with the fitted model's expected counts drawn over it.
 * The model is the carrier's marginal (the bias table's `marginal`: where the next
 * external port falls), spread evenly within each segment and scaled to the packets
 * seen, so bars and line share one axis: packets per bin.
 */
import type { PortSegment } from '../../bias/types.ts';
import type { JoinedScan } from '../data/joined.ts';
import { fmtInt, roundTo } from '../format.ts';
import { fileStem } from '../names.ts';
import { COLORS, HEIGHT, topLevel, WIDTH, type Chart } from './chart.ts';

export interface HistogramBin {
  /** First and last port of the bin (inclusive). */
  from: number;
  to: number;
  count: number;
  /** Packets the model expects in the bin, or null without a model. */
  expected: number | null;
}

export interface PortHistogram {
  carrier: string;
  n: number;
  binWidth: number;
  /** Family the marginal was taken from, or null without a model. */
  modelFamily: string | null;
  bins: HistogramBin[];
}

/** Mass of a piecewise-uniform marginal on the inclusive port range [from, to]. */
export function massBetween(marginal: readonly PortSegment[], from: number, to: number): number {
  let mass = 0;
  for (const [lo, hi, m] of marginal) {
    const a = Math.max(lo, from);
    const b = Math.min(hi, to);
    if (b >= a) mass += (m * (b - a + 1)) / (hi - lo + 1);
  }
  return mass;
}

/** A power-of-two bin width giving at most `maxBins` bins over [lo, hi], at least 16 ports. */
export function binWidthFor(lo: number, hi: number, maxBins = 80): number {
  let w = 16;
  while ((hi - lo + 1) / w > maxBins) w *= 2;
  return w;
}

/** Step 1: bin the scanned ports (exact: from per-port counts) and the model's expectation. */
export function portHistogram(scan: JoinedScan, marginal: readonly PortSegment[] | null, modelFamily: string | null): PortHistogram {
  let lo = scan.n > 0 ? scan.min : 0;
  let hi = scan.n > 0 ? scan.max : 65535;
  if (marginal && marginal.length > 0) {
    lo = Math.min(lo, marginal[0]![0]);
    hi = Math.max(hi, marginal[marginal.length - 1]![1]);
  }
  const w = binWidthFor(lo, hi);
  const bins: HistogramBin[] = [];
  for (let from = Math.floor(lo / w) * w; from <= hi; from += w) {
    const to = Math.min(from + w - 1, 65535);
    let count = 0;
    for (let p = from; p <= to; p++) count += scan.externalCounts[p]!;
    bins.push({ from, to, count, expected: marginal ? scan.n * massBetween(marginal, from, to) : null });
  }
  return { carrier: scan.carrier, n: scan.n, binWidth: w, modelFamily: marginal ? modelFamily : null, bins };
}

/** Step 2: the Vega-Lite spec. */
export function portHistogramSpec(h: PortHistogram): ReturnType<typeof topLevel> {
  const observed = `observed (${fmtInt(h.n)} packets)`;
  const model = `model: ${h.modelFamily ?? 'none'}`;
  const domain = h.modelFamily !== null ? [observed, model] : [observed];
  // One long table with a series field, so colour and dash share one legend (bars: solid blue, model: dashed black).
  const values = h.bins.flatMap((b) => [
    { series: observed, from: b.from, to: b.to + 1, mid: (b.from + b.to + 1) / 2, packets: b.count, expected: roundTo(b.expected, 3) },
    ...(h.modelFamily !== null ? [{ series: model, from: b.from, to: b.to + 1, mid: (b.from + b.to + 1) / 2, packets: roundTo(b.expected, 3), expected: null }] : []),
  ]);
  const series = {
    color: { field: 'series', type: 'nominal', scale: { domain, range: [COLORS.data, COLORS.model] }, legend: { title: null, symbolType: 'stroke', symbolStrokeWidth: 3 } },
    strokeDash: { field: 'series', type: 'nominal', scale: { domain, range: [[1, 0], [6, 3]] }, legend: { title: null } },
  };
  const x = { type: 'quantitative', title: 'external port', scale: { zero: false, nice: false }, axis: { format: 'd', tickCount: 8 } };
  const layers: Record<string, unknown>[] = [
    {
      transform: [{ filter: { field: 'series', equal: observed } }],
      mark: { type: 'rect', stroke: 'white', strokeWidth: 0.3, aria: false },
      encoding: {
        x: { field: 'from', ...x },
        x2: { field: 'to' },
        y: { field: 'packets', type: 'quantitative', title: `packets per ${h.binWidth}-port bin` },
        ...series,
        tooltip: [
          { field: 'from', type: 'quantitative', title: 'from port', format: 'd' },
          { field: 'packets', type: 'quantitative', title: 'packets' },
          { field: 'expected', type: 'quantitative', title: 'model expects', format: '.1f' },
        ],
      },
    },
  ];
  if (h.modelFamily !== null) {
    layers.push({
      transform: [{ filter: { field: 'series', equal: model } }],
      mark: { type: 'line', interpolate: 'step' },
      encoding: { x: { field: 'mid', ...x }, y: { field: 'packets', type: 'quantitative' }, ...series },
    });
  }
  return topLevel({ width: WIDTH, height: HEIGHT, data: { values }, layer: layers });
}

/** Step 3: the chart with its figure name and CSV rows. */
export function portHistogramChart(h: PortHistogram, stem = fileStem(h.carrier)): Chart {
  return {
    kind: 'chart',
    name: `${stem}-port-histogram`,
    title: 'External ports: histogram and fitted model',
    caption: `${fmtInt(h.n)} joined packets in ${h.binWidth}-port bins (bars); the dashed line is the packets per bin the fitted marginal${h.modelFamily ? ` (${h.modelFamily})` : ''} expects.`,
    spec: portHistogramSpec(h),
    rows: h.bins.map((b) => ({ carrier: h.carrier, from_port: b.from, to_port: b.to, packets: b.count, model_expected: roundTo(b.expected, 4) })),
  };
}
