/**
 * What every chart module produces, and the look they share. A chart is built in three
 * steps, each a plain function that tests can call alone (as vega-lite splits a feature
 * into component, parse and assemble): derived data -> a small typed description ->
 * a Vega-Lite spec. `Chart` bundles the spec with the rows behind it (written as CSV
 * next to the figure) and the stable file stem the figure is saved under.
 */
import type { Config, TopLevelSpec } from 'vega-lite';

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface Chart {
  kind: 'chart';
  /** File stem under figures/: stable across reruns (`KPN-port-histogram`). */
  name: string;
  /** Heading shown above the chart in the page (not drawn into the figure, so papers caption it themselves). */
  title: string;
  /** One or two sentences under the chart: what is drawn, units, how the data were reduced. */
  caption: string;
  spec: TopLevelSpec;
  /** The data behind the chart, one object per CSV row. */
  rows: Row[];
  /** CSV column order (default: keys of the first row). */
  columns?: string[];
}

export function isChart(value: unknown): value is Chart {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'chart';
}

/**
 * Colours that stay apart in greyscale print: observed data mid blue, the model near
 * black and dashed; naive dashed orange (light grey in print), biased solid dark blue.
 */
export const COLORS = {
  data: '#5b8ec2',
  model: '#1a1a1a',
  naive: '#e08214',
  biased: '#1f3f7a',
  band: '#e3e3e3',
  muted: '#8c8c8c',
} as const;

/** DejaVu Sans is what the PNGs are rasterised with (shipped by an npm package), so SVG and PNG agree. */
export const FONT = 'DejaVu Sans, Verdana, Geneva, sans-serif';

export const CONFIG: Config = {
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: '#bbbbbb' },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#ececec', domainColor: '#777777', tickColor: '#777777', labelColor: '#222222', titleColor: '#222222' },
  legend: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', orient: 'top', direction: 'horizontal', labelLimit: 0, titleLimit: 0 },
  header: { labelFontSize: 12, titleFontSize: 12, labelColor: '#222222', titleFontWeight: 'normal' },
  title: { fontSize: 13, fontWeight: 'normal', anchor: 'start' },
  line: { strokeWidth: 1.8 },
};

export const WIDTH = 560;
export const HEIGHT = 240;

/** A top-level spec with the shared config and schema. */
export function topLevel(spec: Record<string, unknown>): TopLevelSpec {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG, ...spec } as TopLevelSpec;
}
