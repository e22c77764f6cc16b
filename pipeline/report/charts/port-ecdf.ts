/**
 * Empirical CDF of the external ports against the model's CDF, with the largest gap
 * (the Kolmogorov–Smirnov distance, computed exactly over every port) marked. Works for
 * every family, including lumpy block marginals where a Q-Q plot reads poorly.
 */
import type { PortSegment } from '../../bias/types.ts';
import type { JoinedScan } from '../data/joined.ts';
import { fmtInt, fmtSig, roundTo } from '../format.ts';
import { fileStem } from '../names.ts';
import { COLORS, HEIGHT, topLevel, WIDTH, type Chart } from './chart.ts';

/** Points drawn per curve (evenly spaced ports); the KS gap is exact regardless. */
export const ECDF_POINTS = 240;

export interface PortEcdf {
  carrier: string;
  n: number;
  modelFamily: string | null;
  points: { port: number; observed: number; model: number | null }[];
  /** sup |ECDF - model CDF| over all ports, and where it is reached; null without a model. */
  ks: { d: number; port: number } | null;
}

/** Model CDF at every port 0..65535 from a piecewise-uniform marginal. */
export function marginalCdf(marginal: readonly PortSegment[]): Float64Array {
  const pdf = new Float64Array(65536);
  for (const [lo, hi, m] of marginal) {
    const per = m / (hi - lo + 1);
    for (let p = Math.max(0, lo); p <= Math.min(65535, hi); p++) pdf[p]! += per;
  }
  let acc = 0;
  for (let p = 0; p < 65536; p++) {
    acc += pdf[p]!;
    pdf[p] = acc;
  }
  return pdf;
}

/** Step 1: both CDFs on a grid of ports, and the exact KS distance. */
export function portEcdf(scan: JoinedScan, marginal: readonly PortSegment[] | null, modelFamily: string | null): PortEcdf {
  const model = marginal && marginal.length > 0 ? marginalCdf(marginal) : null;
  const observed = new Float64Array(65536);
  let acc = 0;
  let ks: { d: number; port: number } | null = model ? { d: 0, port: 0 } : null;
  for (let p = 0; p < 65536; p++) {
    acc += scan.externalCounts[p]!;
    observed[p] = scan.n > 0 ? acc / scan.n : 0;
    if (model && ks) {
      // Ports are integers: both CDFs are step functions on them, so the sup is over ports.
      const d = Math.abs(observed[p]! - model[p]!);
      if (d > ks.d + 1e-12) ks = { d, port: p };
    }
  }
  let lo = scan.n > 0 ? scan.min : 0;
  let hi = scan.n > 0 ? scan.max : 65535;
  if (marginal && marginal.length > 0) {
    lo = Math.min(lo, marginal[0]![0]);
    hi = Math.max(hi, marginal[marginal.length - 1]![1]);
  }
  lo = Math.max(0, lo - 1);
  const points: PortEcdf['points'] = [];
  for (let i = 0; i <= ECDF_POINTS; i++) {
    const port = Math.round(lo + ((hi - lo) * i) / ECDF_POINTS);
    if (points.length > 0 && points[points.length - 1]!.port === port) continue;
    points.push({ port, observed: observed[port]!, model: model ? model[port]! : null });
  }
  return { carrier: scan.carrier, n: scan.n, modelFamily: model ? modelFamily : null, points, ks };
}

export function portEcdfSpec(e: PortEcdf): ReturnType<typeof topLevel> {
  const observed = `observed (${fmtInt(e.n)} packets)`;
  const model = `model: ${e.modelFamily ?? 'none'}`;
  const long = e.points.flatMap((p) => [
    { port: p.port, series: observed, cdf: roundTo(p.observed, 5) },
    ...(p.model === null ? [] : [{ port: p.port, series: model, cdf: roundTo(p.model, 5) }]),
  ]);
  const layers: Record<string, unknown>[] = [
    {
      data: { values: long },
      mark: { type: 'line' },
      encoding: {
        x: { field: 'port', type: 'quantitative', title: 'external port', scale: { zero: false, nice: false }, axis: { format: 'd', tickCount: 8 } },
        y: { field: 'cdf', type: 'quantitative', title: 'cumulative fraction of packets', scale: { domain: [0, 1] } },
        color: { field: 'series', type: 'nominal', scale: { domain: [observed, model], range: [COLORS.data, COLORS.model] }, legend: { title: null } },
        strokeDash: { field: 'series', type: 'nominal', scale: { domain: [observed, model], range: [[1, 0], [6, 3]] }, legend: null },
        tooltip: [{ field: 'series', title: 'curve' }, { field: 'port', type: 'quantitative', format: 'd' }, { field: 'cdf', type: 'quantitative', format: '.4f' }],
      },
    },
  ];
  if (e.ks) {
    const first = e.points[0]?.port ?? 0;
    const last = e.points[e.points.length - 1]?.port ?? 65535;
    const rightHalf = e.ks.port > (first + last) / 2;
    layers.push(
      { data: { values: [{ port: e.ks.port }] }, mark: { type: 'rule', color: COLORS.muted, strokeDash: [2, 2] }, encoding: { x: { field: 'port', type: 'quantitative' } } },
      {
        data: { values: [{ port: e.ks.port, label: `largest gap D = ${fmtSig(e.ks.d, 2)} at port ${e.ks.port}` }] },
        // Label on the side of the rule with more room.
        mark: { type: 'text', align: rightHalf ? 'right' : 'left', dx: rightHalf ? -4 : 4, baseline: 'top', fontSize: 11, color: '#333333' },
        encoding: { x: { field: 'port', type: 'quantitative' }, y: { datum: 0.98 }, text: { field: 'label' } },
      },
    );
  }
  return topLevel({ width: WIDTH, height: HEIGHT, layer: layers });
}

export function portEcdfChart(e: PortEcdf, stem = fileStem(e.carrier)): Chart {
  return {
    kind: 'chart',
    name: `${stem}-port-ecdf`,
    title: 'External ports: empirical CDF against the model',
    caption: e.ks
      ? `Solid: fraction of packets at or below each external port; dashed: the fitted marginal (${e.modelFamily}). Kolmogorov–Smirnov distance D = ${fmtSig(e.ks.d, 3)} (exact over all ports).`
      : 'Fraction of packets at or below each external port (no fitted model for this carrier).',
    spec: portEcdfSpec(e),
    rows: e.points.map((p) => ({ carrier: e.carrier, port: p.port, observed_cdf: roundTo(p.observed, 6), model_cdf: roundTo(p.model, 6) })),
  };
}
