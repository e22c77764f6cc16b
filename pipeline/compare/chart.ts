/**
 * One carrier's test sample in two campaigns as two empirical CDFs on one axis, with the
 * largest vertical gap marked: the Kolmogorov–Smirnov statistic the verdict rests on,
 * drawn. Each curve is read at a fixed number of evenly spaced values (plus the gap's
 * location), so the figure stays light whatever the sample sizes.
 */
import { COLORS, HEIGHT, topLevel, WIDTH, type Chart } from '../report/charts/chart.ts';
import { ECDF_POINTS } from '../report/charts/port-ecdf.ts';
import { fmtInt, fmtSig, roundTo } from '../report/format.ts';
import type { SampleKind } from './samples.ts';
import type { TwoSample } from './stats.ts';

export interface TwoEcdfs {
  carrier: string;
  kind: SampleKind;
  labels: [string, string];
  n: [number, number];
  points: { x: number; a: number; b: number }[];
  /** Where |F_a - F_b| is largest, and its size. */
  gap: { x: number; d: number } | null;
}

/** Fraction of `sorted` at or below x. */
function cdfAt(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length === 0 ? 0 : lo / sorted.length;
}

/** The two samples' ECDFs, with the gap the KS test of the same samples found (`ks`, null when a sample is empty). */
export function twoEcdfs(carrier: string, kind: SampleKind, labels: [string, string], a: readonly number[], b: readonly number[], ks: Pick<TwoSample, 'd' | 'at'> | null): TwoEcdfs {
  const sa = Float64Array.from(a).sort();
  const sb = Float64Array.from(b).sort();
  const n: [number, number] = [sa.length, sb.length];
  if (sa.length === 0 || sb.length === 0 || ks === null) return { carrier, kind, labels, n, points: [], gap: null };
  const gap = { x: ks.at, d: ks.d };
  const lo = Math.min(sa[0]!, sb[0]!);
  const hi = Math.max(sa[sa.length - 1]!, sb[sb.length - 1]!);
  const xs = new Set<number>([gap.x]);
  for (let i = 0; i <= ECDF_POINTS; i++) xs.add(Math.round(lo + ((hi - lo) * i) / ECDF_POINTS));
  const points = [...xs].sort((p, q) => p - q).map((x) => ({ x, a: cdfAt(sa, x), b: cdfAt(sb, x) }));
  return { carrier, kind, labels, n, points, gap };
}

const AXIS: Record<SampleKind, string> = {
  ports: 'external port',
  'block visits': 'external port at each block visit',
  steps: 'step between consecutive allocations (ports)',
};

export function twoEcdfsChart(e: TwoEcdfs, stem: string): Chart {
  const series = e.labels.map((l, i) => `${l} (${fmtInt(e.n[i]!)})`) as [string, string];
  const long = e.points.flatMap((p) => [
    { x: p.x, series: series[0], cdf: roundTo(p.a, 5) },
    { x: p.x, series: series[1], cdf: roundTo(p.b, 5) },
  ]);
  const layers: Record<string, unknown>[] = [{
    data: { values: long },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: AXIS[e.kind], scale: { zero: false, nice: false }, axis: { format: 'd', tickCount: 8 } },
      y: { field: 'cdf', type: 'quantitative', title: 'cumulative fraction', scale: { domain: [0, 1] } },
      color: { field: 'series', type: 'nominal', scale: { domain: series, range: [COLORS.data, COLORS.model] }, legend: { title: null } },
      // Solid for the first campaign, dashed for the second: apart in greyscale print too.
      strokeDash: { field: 'series', type: 'nominal', scale: { domain: series, range: [[1, 0], [6, 3]] }, legend: null },
      tooltip: [{ field: 'series', title: 'campaign' }, { field: 'x', type: 'quantitative', format: 'd', title: AXIS[e.kind] }, { field: 'cdf', type: 'quantitative', format: '.4f' }],
    },
  }];
  if (e.gap) {
    layers.push({
      data: { values: [{ x: e.gap.x, label: `largest gap D = ${fmtSig(e.gap.d, 2)} at ${e.gap.x}` }] },
      mark: { type: 'rule', color: COLORS.muted, strokeDash: [2, 2] },
      encoding: { x: { field: 'x', type: 'quantitative' }, tooltip: [{ field: 'label', title: 'KS' }] },
    });
  }
  return {
    kind: 'chart',
    name: `${stem}-compare-ecdf`,
    title: `${e.carrier}: ${e.kind} in ${e.labels[0]} and ${e.labels[1]}`,
    caption: e.gap
      ? `Empirical CDFs of the test sample (${e.kind}), solid ${e.labels[0]}, dashed ${e.labels[1]}; the dotted rule marks the largest gap, the Kolmogorov–Smirnov D = ${fmtSig(e.gap.d, 3)}.`
      : `No ${e.kind} to draw in one of the campaigns.`,
    spec: topLevel({ width: WIDTH, height: HEIGHT, layer: layers }),
    rows: e.points.map((p) => ({ carrier: e.carrier, sample: e.kind, x: p.x, [`cdf_${e.labels[0]}`]: roundTo(p.a, 6), [`cdf_${e.labels[1]}`]: roundTo(p.b, 6) })),
    columns: ['carrier', 'sample', 'x', `cdf_${e.labels[0]}`, `cdf_${e.labels[1]}`],
  };
}
