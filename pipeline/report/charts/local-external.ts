/**
 * Local (phone) source port against the external port the NAT chose. A port-preserving
 * NAT puts its packets on the dashed diagonal. Up to POINT_LIMIT packets are drawn as
 * points; a larger capture as 2048 x 2048-port cells shaded by how many packets fell in
 * each (all packets counted), so the picture holds however large the capture is.
 */
import type { JoinedScan } from '../data/joined.ts';
import { LOCAL_EXTERNAL_BIN } from '../data/joined.ts';
import { fmtInt, fmtPct } from '../format.ts';
import { fileStem } from '../names.ts';
import { COLORS, topLevel, type Chart } from './chart.ts';

export interface LocalExternal {
  carrier: string;
  n: number;
  preserved: number;
  mode: 'points' | 'bins';
  points: { local: number; external: number }[];
  bins: { local: number; external: number; count: number }[];
  binSize: number;
}

export function localExternal(scan: JoinedScan): LocalExternal {
  return {
    carrier: scan.carrier,
    n: scan.n,
    preserved: scan.preserved,
    mode: scan.localExternalStride === 1 ? 'points' : 'bins',
    points: scan.localExternalStride === 1 ? scan.localExternal : [],
    bins: scan.localExternalStride === 1 ? [] : scan.localExternalBins.map(([local, external, count]) => ({ local, external, count })),
    binSize: LOCAL_EXTERNAL_BIN,
  };
}

export function localExternalSpec(l: LocalExternal): ReturnType<typeof topLevel> {
  const port = { type: 'quantitative', scale: { domain: [0, 65536], nice: false }, axis: { format: 'd' } };
  const diagonal = {
    data: { values: [{ local: 0, external: 0 }, { local: 65535, external: 65535 }] },
    mark: { type: 'line', color: COLORS.model, strokeDash: [5, 4], strokeWidth: 1 },
    encoding: { x: { field: 'local', ...port }, y: { field: 'external', ...port } },
  };
  const body = l.mode === 'points'
    ? {
        data: { values: l.points },
        mark: { type: 'point', shape: 'square', filled: true, size: 5, opacity: 0.5, color: COLORS.biased, aria: false },
        encoding: {
          x: { field: 'local', title: 'local (phone) source port', ...port },
          y: { field: 'external', title: 'external (NAT) port', ...port },
          tooltip: [{ field: 'local', title: 'local port' }, { field: 'external', title: 'external port' }],
        },
      }
    : {
        data: { values: l.bins.map((b) => ({ ...b, local2: b.local + l.binSize, external2: b.external + l.binSize })) },
        mark: { type: 'rect', aria: false },
        encoding: {
          x: { field: 'local', title: 'local (phone) source port', ...port },
          x2: { field: 'local2' },
          y: { field: 'external', title: 'external (NAT) port', ...port },
          y2: { field: 'external2' },
          color: { field: 'count', type: 'quantitative', title: `packets per ${l.binSize} × ${l.binSize}-port cell`, scale: { type: 'log', scheme: 'blues' } },
          tooltip: [{ field: 'local', title: 'local from' }, { field: 'external', title: 'external from' }, { field: 'count', title: 'packets' }],
        },
      };
  return topLevel({ width: 300, height: 300, layer: [body, diagonal] });
}

export function localExternalChart(l: LocalExternal, stem = fileStem(l.carrier)): Chart {
  const rate = l.n > 0 ? l.preserved / l.n : 0;
  return {
    kind: 'chart',
    name: `${stem}-local-vs-external`,
    title: 'Local port against external port',
    caption: `${l.mode === 'points' ? `All ${fmtInt(l.n)} joined packets` : `${fmtInt(l.n)} joined packets in ${l.binSize}-port cells`}; the dashed diagonal is port preservation (external = local): ${fmtInt(l.preserved)} packets (${fmtPct(rate, 1)}) kept their port.`,
    spec: localExternalSpec(l),
    rows: l.mode === 'points'
      ? l.points.map((p) => ({ carrier: l.carrier, local_port: p.local, external_port: p.external }))
      : l.bins.map((b) => ({ carrier: l.carrier, local_from: b.local, external_from: b.external, bin_size: l.binSize, packets: b.count })),
  };
}
