/**
 * Success probability against packets per side for each carrier pair: the analytic
 * curves for naive (uniform guessing, dashed) and biased (guessing where the peer's NAT
 * allocates, solid), and the Monte Carlo simulator's estimates as marks. One small
 * panel per pair; the x axis is logarithmic because the two differ by orders of magnitude.
 */
import type { AttackFile, AttackPair } from '../data/evaluate.ts';
import { fmtInt, roundTo } from '../format.ts';
import { fileStem } from '../names.ts';
import { COLORS, topLevel, type Chart } from './chart.ts';

export interface AttackPoint {
  pair: string;
  packets: number;
  strategy: 'naive' | 'biased';
  source: 'analytic' | 'Monte Carlo' | 'realistic';
  p: number;
}

export interface AttackCurves {
  /** Pair labels in file order. */
  pairs: string[];
  points: AttackPoint[];
  simulatorTrials: number | null;
}

export function pairLabel(p: Pick<AttackPair, 'a' | 'b'>): string {
  return `${p.a} × ${p.b}`;
}

/** Step 1: long-format points for the pairs chosen (all by default). */
export function attackCurves(file: AttackFile, keep: (p: AttackPair) => boolean = () => true): AttackCurves {
  const pairs = file.pairs.filter(keep);
  const points: AttackPoint[] = [];
  for (const pair of pairs) {
    const label = pairLabel(pair);
    const c = pair.curve;
    // Biased first so the dashed naive curve is drawn over it where the two coincide.
    const series: [AttackPoint['strategy'], AttackPoint['source'], number[] | null][] = [
      ['biased', 'analytic', c.biased], ['naive', 'analytic', c.naive], ['biased', 'Monte Carlo', c.mcBiased], ['naive', 'Monte Carlo', c.mcNaive],
      ['biased', 'realistic', c.realisticBiased ?? null], ['naive', 'realistic', c.realisticNaive ?? null],
    ];
    for (const [strategy, source, ys] of series) {
      if (!ys) continue;
      c.packets.forEach((packets, i) => {
        const p = ys[i];
        // Log axis: no point at 0 packets; no point where the curve has no value.
        if (packets > 0 && typeof p === 'number' && Number.isFinite(p)) points.push({ pair: label, packets, strategy, source, p: roundTo(p, 6)! });
      });
    }
  }
  return { pairs: pairs.map(pairLabel), points, simulatorTrials: file.simulator?.trials ?? null };
}

export function attackCurvesSpec(a: AttackCurves): ReturnType<typeof topLevel> {
  const strategy = { domain: ['naive', 'biased'] };
  // The Monte Carlo layer only when there are estimates: an empty layer leaves the scales without extent.
  const mc = a.points.some((p) => p.source === 'Monte Carlo');
  const lineTitle = mc ? 'analytic' : 'strategy';
  const columns = a.pairs.length <= 2 ? a.pairs.length : 3;
  return topLevel({
    data: { values: a.points },
    facet: { field: 'pair', type: 'nominal', sort: a.pairs, title: null, header: { labelFontSize: 12 } },
    columns: Math.max(1, columns),
    spec: {
      width: columns <= 1 ? 420 : 210,
      height: 150,
      layer: [
        {
          transform: [{ filter: "datum.source === 'analytic'" }],
          mark: { type: 'line', strokeWidth: 2 },
          encoding: {
            x: { field: 'packets', type: 'quantitative', title: 'packets per side (log scale)', scale: { type: 'log' }, axis: { format: '~s', tickCount: 5 } },
            y: { field: 'p', type: 'quantitative', title: 'success probability', scale: { domain: [0, 1] }, axis: { format: '.0%', tickCount: 5 } },
            color: { field: 'strategy', type: 'nominal', scale: { ...strategy, range: [COLORS.naive, COLORS.biased] }, title: lineTitle },
            strokeDash: { field: 'strategy', type: 'nominal', scale: { ...strategy, range: [[6, 3], [1, 0]] }, title: lineTitle },
            tooltip: [{ field: 'pair' }, { field: 'strategy' }, { field: 'packets', title: 'packets per side', format: ',' }, { field: 'p', title: 'P(success)', format: '.3f' }],
          },
        },
        ...(!a.points.some((p) => p.source === 'realistic') ? [] : [{
          // Simulated with the carrier's timeout, a mapping limit and a send rate: thin, dotted, same colours.
          transform: [{ filter: "datum.source === 'realistic'" }],
          mark: { type: 'line', strokeWidth: 1.2, strokeDash: [1.5, 2.5] },
          encoding: {
            x: { field: 'packets', type: 'quantitative' },
            y: { field: 'p', type: 'quantitative' },
            detail: { field: 'strategy', type: 'nominal' },
            color: { field: 'strategy', type: 'nominal', scale: { ...strategy, range: [COLORS.naive, COLORS.biased] }, title: lineTitle },
            tooltip: [{ field: 'pair' }, { field: 'strategy' }, { field: 'source' }, { field: 'packets', title: 'packets per side', format: ',' }, { field: 'p', title: 'P(success)', format: '.3f' }],
          },
        }]),
        ...(!mc ? [] : [{
          transform: [{ filter: "datum.source === 'Monte Carlo'" }],
          mark: { type: 'point', size: 28, strokeWidth: 1.3 },
          encoding: {
            x: { field: 'packets', type: 'quantitative' },
            y: { field: 'p', type: 'quantitative' },
            shape: { field: 'strategy', type: 'nominal', scale: { ...strategy, range: ['triangle-up', 'circle'] }, title: 'Monte Carlo' },
            color: { field: 'strategy', type: 'nominal', scale: { ...strategy, range: [COLORS.naive, COLORS.biased] }, title: lineTitle },
            tooltip: [{ field: 'pair' }, { field: 'strategy' }, { field: 'source' }, { field: 'packets', title: 'packets per side', format: ',' }, { field: 'p', title: 'P(success)', format: '.3f' }],
          },
        }]),
      ],
    },
    resolve: { scale: { x: 'shared' } },
  });
}

export function attackCurvesChart(a: AttackCurves, carrier?: string): Chart {
  const mc = a.points.some((p) => p.source === 'Monte Carlo');
  return {
    kind: 'chart',
    name: carrier === undefined ? 'attack-success' : `${fileStem(carrier)}-attack-success`,
    title: 'Success probability against packets per side',
    caption: `Dashed: naive (uniform) guessing; solid: the biased plan's closed form, where it has one${mc ? `; marks: Monte Carlo estimates${a.simulatorTrials ? ` (${fmtInt(a.simulatorTrials)} trials per point)` : ''} under the same assumptions as the lines` : ''}${a.points.some((p) => p.source === 'realistic') ? '; dotted: the punch simulator (where the published costs come from), with each NAT\'s fitted allocation process and mapping timeout, a per-subscriber mapping limit and a finite send rate' : ''}. Packets per side on a log scale.`,
    spec: attackCurvesSpec(a),
    rows: a.points.map((p) => ({ pair: p.pair, strategy: p.strategy, source: p.source, packets_per_side: p.packets, success_probability: p.p })),
  };
}
