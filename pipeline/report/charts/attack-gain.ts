/**
 * The attack cost of a whole campaign in one small figure: for each carrier pair, how
 * many times fewer packets per side the biased attack needs than the naive one for 99%
 * success (naive p99 / biased p99), as a lower-triangular heat map on a log colour
 * scale, each cell labelled with the gain and the biased packets. A pair the biased
 * plan never takes to 99% within its budget is drawn grey and labelled so.
 */
import type { AttackReport } from '../../contracts/attack.ts';
import { fmtInt, fmtSig, roundTo } from '../format.ts';
import { CONFIG, topLevel, type Chart } from './chart.ts';

export interface GainCell {
  a: string;
  b: string;
  naive: number | null;
  biased: number | null;
  /** naive p99 / biased p99; null when either is not reached. */
  gain: number | null;
  strategy: string;
}

export interface AttackGain {
  /** Carriers in the file's pair order (a before b). */
  order: string[];
  cells: GainCell[];
}

/** Step 1: one cell per pair, from the p99 costs. */
export function attackGain(file: AttackReport): AttackGain {
  const order: string[] = [];
  for (const p of file.pairs) for (const c of [p.a, p.b]) if (!order.includes(c)) order.push(c);
  const cells = file.pairs.map((p) => {
    const naive = p.naive.p99 ?? null;
    const biased = p.biased.p99 ?? null;
    return { a: p.a, b: p.b, naive, biased, gain: naive !== null && biased !== null && biased > 0 ? naive / biased : null, strategy: p.biased.strategy };
  });
  return { order, cells };
}

export function attackGainSpec(g: AttackGain): ReturnType<typeof topLevel> {
  const values = g.cells.map((c) => ({
    ...c,
    shade: c.gain === null ? null : Math.max(1, c.gain),
    lines: c.gain === null ? ['—', 'not reached'] : [`×${fmtSig(c.gain, c.gain >= 100 ? 3 : 2)}`, `${fmtInt(c.biased)} pkts`],
    dark: c.gain !== null && c.gain >= 8,
  }));
  const axis = { labelAngle: 0, labelLimit: 140, domain: false, ticks: false };
  const step = 78;
  return topLevel({
    data: { values },
    width: { step },
    height: { step: 46 },
    encoding: {
      x: { field: 'a', type: 'nominal', sort: g.order, scale: { domain: g.order }, title: 'carrier a', axis: { ...axis, orient: 'top', labelAngle: g.order.length > 5 ? -30 : 0, labelAlign: g.order.length > 5 ? 'left' : 'center' } },
      y: { field: 'b', type: 'nominal', sort: g.order, scale: { domain: g.order }, title: 'carrier b', axis },
      tooltip: [
        { field: 'a', title: 'carrier a' }, { field: 'b', title: 'carrier b' },
        { field: 'naive', title: 'naive packets for 99%', format: ',' }, { field: 'biased', title: 'biased packets for 99%', format: ',' },
        { field: 'gain', title: 'gain', format: '.3~r' }, { field: 'strategy', title: 'biased strategy' },
      ],
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 2 },
        encoding: {
          color: {
            field: 'shade', type: 'quantitative', title: 'gain at 99% (naive / biased packets)',
            scale: { type: 'log', domain: [1, Math.max(10, ...values.map((v) => v.shade ?? 1))], range: ['#f3f6fa', '#0b3c7a'] },
            legend: { format: '~s', gradientLength: 160 },
          },
        },
      },
      {
        // Cells the biased plan never takes to 99%: grey, under the labels.
        transform: [{ filter: 'datum.shade === null' }],
        mark: { type: 'rect', stroke: 'white', strokeWidth: 2, color: '#d5d5d5' },
      },
      {
        mark: { type: 'text', fontSize: 11, lineHeight: 13, baseline: 'middle', dy: -6 },
        encoding: {
          text: { field: 'lines' },
          color: { condition: { test: 'datum.dark', value: 'white' }, value: '#111111' },
        },
      },
    ],
    config: { ...CONFIG, view: { stroke: null } },
  });
}

export function attackGainChart(g: AttackGain): Chart {
  return {
    kind: 'chart',
    name: 'attack-gain-p99',
    title: 'Gain of the biased attack by carrier pair (99% success)',
    caption: 'Each cell: how many times fewer packets per side biased guessing needs than uniform guessing for a 99% chance that the two NATs\' ports meet (closed form), and the biased packets per side; darker is a larger gain (log scale); grey: the biased plan does not reach 99% within its budget. One figure per pair with the full curves: figures/attack-success-<a>-x-<b>.',
    spec: attackGainSpec(g),
    rows: g.cells.map((c) => ({ a: c.a, b: c.b, naive_p99: c.naive, biased_p99: c.biased, gain_p99: roundTo(c.gain, 6), biased_strategy: c.strategy })),
  };
}
