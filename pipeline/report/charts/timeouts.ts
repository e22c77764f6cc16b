/**
 * Timeout probes: each probe's delay and whether the reply got in (points, sized by how
 * many probes share the spot), the survival curve of a mapping against delay (step
 * line), and the fitted timeout with its interval (rule and grey band). One panel each
 * for `wait` (mapping made by one outbound packet) and `idle` (silence after an exchange).
 */
import type { CarrierFit, TimeoutFit } from '../../contracts/fit.ts';
import { fmtSeconds } from '../format.ts';
import { fileStem } from '../names.ts';
import { COLORS, CONFIG, topLevel, WIDTH, type Chart, type Row } from './chart.ts';

export type TimeoutKind = 'wait' | 'idle';

export interface TimeoutPanel {
  kind: TimeoutKind;
  seconds: number | null;
  low: number | null;
  high: number | null;
  method: string;
  probes: { delay: number; replied: 0 | 1; count: number }[];
  curve: { delay: number; alive: number }[];
}

export interface TimeoutProbes {
  carrier: string;
  panels: TimeoutPanel[];
}

export const KIND_LABEL: Record<TimeoutKind, string> = {
  wait: 'wait: reply after one outbound packet',
  idle: 'idle: inbound after an exchange and silence',
};

function panel(kind: TimeoutKind, t: TimeoutFit): TimeoutPanel {
  const counts = new Map<string, { delay: number; replied: 0 | 1; count: number }>();
  for (const [delay, replied] of t.points) {
    const key = `${delay}|${replied}`;
    const hit = counts.get(key);
    if (hit) hit.count++;
    else counts.set(key, { delay, replied: replied ? 1 : 0, count: 1 });
  }
  const probes = [...counts.values()].sort((a, b) => a.delay - b.delay || a.replied - b.replied);
  return { kind, seconds: t.seconds, low: t.low, high: t.high, method: t.method, probes, curve: t.curve.map(([delay, alive]) => ({ delay, alive })) };
}

/** Step 1: the panels that have probes. */
export function timeoutProbes(fit: CarrierFit): TimeoutProbes {
  const panels: TimeoutPanel[] = [];
  for (const kind of ['wait', 'idle'] as const) {
    const t = fit.timeouts[kind];
    if (t && t.points.length > 0) panels.push(panel(kind, t));
  }
  return { carrier: fit.carrier, panels };
}

function panelSpec(p: TimeoutPanel, xMax: number): Record<string, unknown> {
  const x = { type: 'quantitative', title: 'delay (s)', scale: { domain: [0, xMax], nice: false } };
  const layers: Record<string, unknown>[] = [];
  if (p.low !== null && p.high !== null) {
    layers.push({
      data: { values: [{ low: p.low, high: p.high }] },
      mark: { type: 'rect', color: COLORS.band },
      encoding: { x: { field: 'low', ...x }, x2: { field: 'high' }, y: { datum: 0 }, y2: { datum: 1 } },
    });
  }
  if (p.curve.length > 0) {
    layers.push({
      data: { values: p.curve },
      mark: { type: 'line', interpolate: 'step-after', color: COLORS.data },
      encoding: {
        x: { field: 'delay', ...x },
        y: { field: 'alive', type: 'quantitative' },
        tooltip: [{ field: 'delay', title: 'delay (s)' }, { field: 'alive', title: 'P(alive)', format: '.2f' }],
      },
    });
  }
  layers.push({
    data: { values: p.probes.map((q) => ({ ...q, outcome: q.replied ? 'reply got in' : 'no reply' })) },
    mark: { type: 'point', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'delay', ...x },
      y: { field: 'replied', type: 'quantitative', title: 'P(mapping alive)', scale: { domain: [-0.08, 1.08], nice: false }, axis: { values: [0, 0.25, 0.5, 0.75, 1] } },
      size: { field: 'count', type: 'quantitative', title: 'probes', scale: { range: [30, 200] }, legend: null },
      shape: { field: 'outcome', type: 'nominal', scale: { domain: ['reply got in', 'no reply'], range: ['circle', 'cross'] }, legend: { title: null } },
      color: { field: 'outcome', type: 'nominal', scale: { domain: ['reply got in', 'no reply'], range: [COLORS.biased, COLORS.naive] }, legend: { title: null } },
      tooltip: [{ field: 'delay', title: 'delay (s)' }, { field: 'outcome' }, { field: 'count', title: 'probes' }],
    },
  });
  if (p.seconds !== null) {
    layers.push(
      { data: { values: [{ s: p.seconds }] }, mark: { type: 'rule', color: COLORS.model, strokeDash: [5, 3] }, encoding: { x: { field: 's', ...x } } },
      {
        data: { values: [{ s: p.seconds, label: `timeout ${fmtSeconds(p.seconds, p.low, p.high)}` }] },
        mark: { type: 'text', align: 'left', dx: 5, dy: -2, baseline: 'bottom', fontSize: 11, color: '#222222' },
        encoding: { x: { field: 's', ...x }, y: { datum: 0.5 }, text: { field: 'label' } },
      },
    );
  }
  return { title: KIND_LABEL[p.kind], width: WIDTH, height: 150, layer: layers };
}

export function timeoutProbesSpec(t: TimeoutProbes): ReturnType<typeof topLevel> {
  const panels = t.panels.map((p) => {
    let xMax = 10;
    for (const q of p.probes) xMax = Math.max(xMax, q.delay);
    for (const c of p.curve) xMax = Math.max(xMax, c.delay);
    if (p.high !== null) xMax = Math.max(xMax, p.high);
    return panelSpec(p, Math.ceil((xMax * 1.05) / 10) * 10);
  });
  return topLevel({
    vconcat: panels,
    spacing: 24,
    resolve: { scale: { x: 'independent', size: 'independent' } },
    config: { ...CONFIG, legend: { ...CONFIG.legend, orient: 'right', direction: 'vertical' } },
  });
}

export function timeoutProbesChart(t: TimeoutProbes, stem = fileStem(t.carrier)): Chart {
  const rows: Row[] = [];
  for (const p of t.panels) {
    for (const q of p.probes) rows.push({ carrier: t.carrier, kind: p.kind, part: 'probe', delay_s: q.delay, replied: q.replied, probes: q.count, alive: null, timeout_s: p.seconds, low_s: p.low, high_s: p.high });
    for (const c of p.curve) rows.push({ carrier: t.carrier, kind: p.kind, part: 'survival', delay_s: c.delay, replied: null, probes: null, alive: c.alive, timeout_s: p.seconds, low_s: p.low, high_s: p.high });
  }
  const methods = t.panels.map((p) => `${p.kind}: ${p.method}`).join('; ');
  return {
    kind: 'chart',
    name: `${stem}-timeouts`,
    title: 'NAT mapping timeouts',
    caption: `Probes at 1 (circle: the reply got in) or 0 (cross: it did not), larger marks for more probes at one delay, the survival of a mapping against delay (step line), and the fitted timeout (dashed) with its interval (grey band). Fit: ${methods}.`,
    spec: timeoutProbesSpec(t),
    rows,
  };
}
