/**
 * Success probability against packets per side for each carrier pair: the analytic
 * curves for naive (uniform guessing, dashed) and biased (guessing where the peer's NAT
 * allocates, solid), the realistic Monte Carlo curves (dotted), and the Monte Carlo
 * check as marks; one legend names every line style. Small panels per pair (each with
 * its own axes) for pages, one figure per pair for papers; the x axis is logarithmic
 * because the two differ by orders of magnitude.
 */
import type { AttackReport, PairAttack } from '../../contracts/attack.ts';
import { fmtInt, roundTo } from '../format.ts';
import { fileStem, pairStem } from '../names.ts';
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

export function pairLabel(p: Pick<PairAttack, 'a' | 'b'>): string {
  return `${p.a} × ${p.b}`;
}

/** Step 1: long-format points for the pairs chosen (all by default). */
export function attackCurves(file: AttackReport, keep: (p: PairAttack) => boolean = () => true): AttackCurves {
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

/** Line styles, one legend entry each: colour says the strategy, dash says how the curve was made. */
const LINE_SERIES = [
  { strategy: 'naive', source: 'analytic', label: 'naive (uniform guessing), closed form', color: COLORS.naive, dash: [6, 3], width: 2 },
  { strategy: 'biased', source: 'analytic', label: 'biased (bias tables), closed form', color: COLORS.biased, dash: [1, 0], width: 2 },
  { strategy: 'naive', source: 'realistic', label: 'naive, Monte Carlo with timeout and limits', color: COLORS.naive, dash: [1.5, 2.5], width: 1.4 },
  { strategy: 'biased', source: 'realistic', label: 'biased, Monte Carlo with timeout and limits', color: COLORS.biased, dash: [1.5, 2.5], width: 1.4 },
] as const;

function seriesOf(p: AttackPoint): string {
  return LINE_SERIES.find((s) => s.strategy === p.strategy && s.source === p.source)?.label ?? `${p.strategy}, ${p.source}`;
}

/** The layers of one panel: lines (legend: every line style) and the Monte Carlo check marks. */
function attackLayers(a: AttackCurves, orient: 'top' | 'right'): Record<string, unknown>[] {
  const present = LINE_SERIES.filter((s) => a.points.some((p) => p.strategy === s.strategy && p.source === s.source));
  const domain = present.map((s) => s.label);
  const mc = a.points.some((p) => p.source === 'Monte Carlo');
  const x = { field: 'packets', type: 'quantitative', title: 'packets per side (log scale)', scale: { type: 'log' }, axis: { format: '~s', tickCount: 5 } };
  const y = { field: 'p', type: 'quantitative', title: 'success probability', scale: { domain: [0, 1] }, axis: { format: '.0%', tickCount: 5 } };
  const tooltip = [{ field: 'pair' }, { field: 'series', title: 'curve' }, { field: 'packets', title: 'packets per side', format: ',' }, { field: 'p', title: 'P(success)', format: '.3f' }];
  const legend = { title: null, orient, symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 400, direction: 'vertical', columns: orient === 'top' && domain.length > 2 ? 2 : 1 };
  const layers: Record<string, unknown>[] = [{
    transform: [{ filter: "datum.source !== 'Monte Carlo'" }],
    mark: { type: 'line' },
    encoding: {
      x, y,
      detail: { field: 'series', type: 'nominal' },
      color: { field: 'series', type: 'nominal', scale: { domain, range: present.map((s) => s.color) }, legend },
      strokeDash: { field: 'series', type: 'nominal', scale: { domain, range: present.map((s) => [...s.dash]) }, legend },
      strokeWidth: { field: 'series', type: 'nominal', scale: { domain, range: present.map((s) => s.width) }, legend: null },
      tooltip,
    },
  }];
  if (mc) {
    layers.push({
      transform: [{ filter: "datum.source === 'Monte Carlo'" }],
      mark: { type: 'point', size: 30, strokeWidth: 1.3, filled: false },
      encoding: {
        x, y,
        shape: { field: 'strategy', type: 'nominal', scale: { domain: ['naive', 'biased'], range: ['triangle-up', 'circle'] }, legend: { title: 'Monte Carlo check (closed-form assumptions)', orient, direction: orient === 'top' ? 'horizontal' : 'vertical' } },
        stroke: { condition: { test: "datum.strategy === 'naive'", value: COLORS.naive }, value: COLORS.biased },
        tooltip,
      },
    });
  }
  return layers;
}

/** All pairs in panels (three a row, an x axis under every panel), or one pair alone. */
export function attackCurvesSpec(a: AttackCurves): ReturnType<typeof topLevel> {
  const values = a.points.map((p) => ({ ...p, series: seriesOf(p) }));
  if (a.pairs.length === 1) return topLevel({ data: { values }, width: 400, height: 220, layer: attackLayers(a, 'right') });
  const columns = a.pairs.length <= 2 ? a.pairs.length : 3;
  return topLevel({
    data: { values },
    facet: { field: 'pair', type: 'nominal', sort: a.pairs, title: null, header: { labelFontSize: 12 } },
    columns,
    spec: { width: 210, height: 150, layer: attackLayers(a, 'top') },
    resolve: { scale: { x: 'shared' }, axis: { x: 'independent', y: 'independent' } },
  });
}

function captionOf(a: AttackCurves): string {
  const sources = new Set(a.points.map((p) => p.source));
  const parts = ['Dashed orange: naive (uniform) guessing; solid blue: the biased plan\'s closed form, where it has one'];
  if (sources.has('realistic')) parts.push('dotted: the punch simulator (where the published costs come from), with each NAT\'s fitted allocation process and mapping timeout, a per-subscriber mapping limit and a finite send rate (same colours)');
  if (sources.has('Monte Carlo')) parts.push(`marks: Monte Carlo estimates${a.simulatorTrials ? ` (${fmtInt(a.simulatorTrials)} trials per point)` : ''} under the closed forms' assumptions, which should sit on the lines`);
  return `${parts.join('; ')}. Packets per side on a log scale.`;
}

function attackRows(a: AttackCurves): Chart['rows'] {
  return a.points.map((p) => ({ pair: p.pair, strategy: p.strategy, source: p.source, packets_per_side: p.packets, success_probability: p.p }));
}

/** Every pair with `carrier` (a carrier page), or all pairs. */
export function attackCurvesChart(a: AttackCurves, carrier?: string, stem = carrier === undefined ? undefined : fileStem(carrier)): Chart {
  return {
    kind: 'chart',
    name: stem === undefined ? 'attack-success' : `${stem}-attack-success`,
    title: 'Success probability against packets per side',
    caption: captionOf(a),
    spec: attackCurvesSpec(a),
    rows: attackRows(a),
  };
}

/** One pair alone, for papers: `figures/attack-success-<a>-x-<b>`. */
export function attackPairChart(file: AttackReport, pair: PairAttack, stem: (name: string) => string = fileStem): Chart {
  const a = attackCurves(file, (p) => p === pair);
  return {
    kind: 'chart',
    name: `attack-success-${pairStem(pair.a, pair.b, stem)}`,
    title: `Success probability against packets per side: ${pairLabel(pair)}`,
    caption: captionOf(a),
    spec: attackCurvesSpec(a),
    rows: attackRows(a),
  };
}
