/**
 * External port against send order within a run: the first sends of the first runs,
 * one panel per run. Block NATs show as flat steps, sequential ones as ramps, random
 * ones as noise. `send_seq` counts lost packets too, so gaps are allocations nobody saw.
 */
import type { JoinedScan } from '../data/joined.ts';
import { SEND_ORDER_PER_RUN, SEND_ORDER_RUNS, SEND_ORDER_STRIDE } from '../data/joined.ts';
import { fmtInt } from '../format.ts';
import { fileStem } from '../names.ts';
import { COLORS, topLevel, type Chart } from './chart.ts';

export interface SendOrder {
  carrier: string;
  /** Runs drawn, in order, and how many the carrier has. */
  runs: string[];
  totalRuns: number;
  perRun: number;
  /** Every how many sends one is drawn. */
  stride: number;
  points: { run: string; seq: number; external: number }[];
}

export function sendOrder(scan: JoinedScan): SendOrder {
  return {
    carrier: scan.carrier,
    runs: scan.runs.slice(0, SEND_ORDER_RUNS),
    totalRuns: scan.runs.length,
    perRun: SEND_ORDER_PER_RUN,
    stride: SEND_ORDER_STRIDE,
    points: scan.sendOrder,
  };
}

export function sendOrderSpec(s: SendOrder): ReturnType<typeof topLevel> {
  const width = s.runs.length <= 2 ? 270 : 150;
  return topLevel({
    data: { values: s.points },
    facet: { column: { field: 'run', type: 'ordinal', sort: s.runs, title: 'run', header: { labelOrient: 'top', titleOrient: 'top' } } },
    spec: {
      width,
      height: 220,
      mark: { type: 'point', shape: 'square', filled: true, size: 4, opacity: 0.7, color: COLORS.biased, aria: false },
      encoding: {
        x: { field: 'seq', type: 'quantitative', title: 'packet # in run', scale: { domain: [0, s.perRun] } },
        y: { field: 'external', type: 'quantitative', title: 'external port', scale: { domain: [0, 65535], nice: false }, axis: { format: 'd' } },
        tooltip: [{ field: 'run' }, { field: 'seq', title: 'packet #' }, { field: 'external', title: 'external port' }],
      },
    },
  });
}

export function sendOrderChart(s: SendOrder, stem = fileStem(s.carrier)): Chart {
  const shown = s.runs.length < s.totalRuns ? `the first ${s.runs.length} of ${s.totalRuns} runs` : `all ${s.totalRuns} run${s.totalRuns === 1 ? '' : 's'}`;
  return {
    kind: 'chart',
    name: `${stem}-send-order`,
    title: 'External port against send order',
    caption: `Each dot is a joined packet: its position among the run's sent packets (lost ones counted) and the external port the NAT gave it; ${s.stride > 1 ? `every ${ordinal(s.stride)} of ` : ''}the first ${fmtInt(s.perRun)} sends of ${shown}.`,
    spec: sendOrderSpec(s),
    rows: s.points.map((p) => ({ carrier: s.carrier, run: p.run, send_seq: p.seq, external_port: p.external })),
  };
}

function ordinal(n: number): string {
  return n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
}
