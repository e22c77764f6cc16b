/**
 * The carrier-pair success matrix as a heat map laid out like the seed paper's Table I
 * (row carrier a, column carrier b, lower triangle), one panel per strategy. Each cell
 * is shaded by success rate on a single-hue scale (greyscale-safe) and labelled with
 * successes/trials, the rate and its 95% Wilson interval, so print needs no colour key.
 */
import type { Strategy, SuccessMatrix as TrialsMatrix } from '../../contracts/matrix.ts';
import { fmtInt, fmtPct, roundTo } from '../format.ts';
import { cellView, matrixOrder, strategiesIn, type MatrixCellView } from '../tables/matrix.ts';
import { CONFIG, topLevel, type Chart } from './chart.ts';

export interface SuccessMatrix {
  order: string[];
  strategies: Strategy[];
  cells: MatrixCellView[];
}

export function successMatrix(m: TrialsMatrix, strategies: Strategy[] = strategiesIn(m)): SuccessMatrix {
  return { order: matrixOrder(m), strategies, cells: m.cells.filter((c) => strategies.includes(c.strategy)).map(cellView) };
}

export function successMatrixSpec(s: SuccessMatrix): ReturnType<typeof topLevel> {
  const predicted = s.cells.some((c) => c.predicted);
  const values = s.cells.map((c) => ({
    a: c.a, b: c.b, strategy: c.strategy, rate: c.rate, successes: c.successes, trials: c.trials,
    lines: [c.countText, c.rateText, `[${c.wilsonText}]`, ...(c.predicted ? [`model ${fmtPct(c.predicted.p, c.predicted.p > 0.99 || c.predicted.p < 0.01 ? 1 : 0)}${c.predicted.inside ? '' : ' ✗'}`] : [])],
    outcomes: c.outcomes, wilson: c.wilsonText,
    predicted: c.predicted ? `${fmtPct(c.predicted.p, 1)} within ${fmtInt(c.predicted.budget)} packets (${c.predicted.plan}${c.predicted.assumed ? ', assumed budget' : ''}${c.sendRateText ? `, ${c.sendRateText}` : ''}), ${c.predicted.inside ? 'inside' : 'outside'} the interval` : 'none',
  }));
  const lines = predicted ? 4 : 3;
  const axis = { labelAngle: 0, labelLimit: 120, domain: false, ticks: false };
  return topLevel({
    data: { values },
    facet: { column: { field: 'strategy', type: 'nominal', sort: s.strategies, title: null, header: { labelFontSize: 13, labelExpr: "datum.value + ' strategy'" } } },
    spec: {
      width: { step: predicted ? 100 : 86 },
      height: { step: 20 + 14 * lines },
      encoding: {
        x: { field: 'b', type: 'nominal', sort: s.order, scale: { domain: s.order }, title: 'carrier b', axis: { ...axis, orient: 'top' } },
        y: { field: 'a', type: 'nominal', sort: s.order, scale: { domain: s.order }, title: 'carrier a', axis },
        // On both layers, so the labels over a cell show its tooltip too.
        tooltip: [
          { field: 'a', title: 'carrier a' }, { field: 'b', title: 'carrier b' }, { field: 'strategy' },
          { field: 'successes', title: 'successes' }, { field: 'trials', title: 'trials' },
          { field: 'rate', title: 'rate', format: '.0%' }, { field: 'wilson', title: '95% Wilson' }, { field: 'outcomes', title: 'outcomes (trial order)' },
          ...(predicted ? [{ field: 'predicted', title: 'model predicts' }] : []),
        ],
      },
      layer: [
        {
          mark: { type: 'rect', stroke: 'white', strokeWidth: 2 },
          encoding: {
            color: { field: 'rate', type: 'quantitative', title: 'success rate', scale: { domain: [0, 1], range: ['#f3f6fa', '#0b3c7a'] }, legend: { format: '.0%', gradientLength: 120 } },
          },
        },
        {
          // Lines centred on the cell: vega centres the first line, so lift the block by half the rest.
          mark: { type: 'text', fontSize: 11, lineHeight: 14, baseline: 'middle', dy: -7 * (lines - 1) },
          encoding: {
            text: { field: 'lines' },
            color: { condition: { test: 'datum.rate > 0.5', value: 'white' }, value: '#111111' },
          },
        },
      ],
    },
    resolve: { scale: { x: 'shared', y: 'shared' } },
    config: { ...CONFIG, view: { stroke: null } },
  });
}

export function successMatrixChart(s: SuccessMatrix): Chart {
  return {
    kind: 'chart',
    name: 'success-matrix',
    title: 'Hole-punching success by carrier pair',
    caption: `Each cell: successes/trials, success rate and [its 95% Wilson interval] for one carrier pair (row carrier a, column carrier b, as in Table I of the seed paper)${s.cells.some((c) => c.predicted) ? ', and the success the fitted models predict for the packets the trials spent (✗: outside the interval)' : ''}; darker is more successful.`,
    spec: successMatrixSpec(s),
    rows: s.cells.map((c) => ({
      a: c.a, b: c.b, strategy: c.strategy, trials: c.trials, successes: c.successes, failures: c.failures, outcomes: c.outcomes,
      rate: roundTo(c.rate, 6), wilson_low: roundTo(c.wilson[0], 6), wilson_high: roundTo(c.wilson[1], 6), mean_packets: c.meanPackets,
      predicted_budget: c.predicted?.budget ?? null, predicted_p: c.predicted ? roundTo(c.predicted.p, 6) : null, predicted_inside: c.predicted ? c.predicted.inside : null,
    })),
  };
}
