/**
 * The TypeScript engine module: one constant per carrier holding its table (marginal,
 * conditional model, attack numbers, timeouts) with `nextPort`/`nextPortAfter` samplers,
 * plus `CARRIERS` and `carrierByName`. Self-contained (no imports) and erasable syntax
 * only, so an engine can vendor the file and run it under tsc, tsx or Node's type
 * stripping. The sampling semantics are @natatlas/bias's (pipeline/bias/src/sample.ts).
 */
import type { BiasTable, PortSegment, DeltaSegment } from '@natatlas/bias';
import type { ExportInput, ExportedCarrier } from './inputs.ts';
import { commentText, header, tsNumber, tsString, wrapList } from './literals.ts';

export const TS_FILE = 'bias-tables.ts';

const PRELUDE = `/** A uniform draw on [0, 1): the engine's seeded PRNG. */
export type Uniform = () => number;

/** An inclusive range and its probability mass: [from, to, mass]. */
export type Segment = readonly [from: number, to: number, mass: number];

/** How the next port depends on the last one seen (null: ports are independent). */
export type Conditional =
  | null
  | {
      readonly kind: 'block';
      /** Aligned block size (a power of two). */
      readonly blockSize: number;
      /** Probability that the next port stays in the last port's block. */
      readonly pSameBlock: number;
      /** Mean allocations a subscriber gets from one block. */
      readonly perBlock: number;
    }
  | {
      readonly kind: 'delta';
      /** Histogram of (next port - last port). */
      readonly segments: readonly Segment[];
    };

/** One carrier's port model: what an engine's per-carrier sampler implements. */
export interface PortSampler {
  /** The carrier's name in the campaign (its folder name). */
  readonly carrier: string;
  /** A port a fresh mapping gets: a draw from the marginal. */
  nextPort(random: Uniform): number;
  /**
   * The next port after \`last\`: block: in last's aligned block with probability pSameBlock
   * (uniform in it), else a marginal draw; delta: last + a gap from the histogram, or a
   * marginal draw when that leaves 0..65535; none: a marginal draw.
   */
  nextPortAfter(last: number, random: Uniform): number;
}

/** A carrier's bias table as constants, with its samplers. */
export interface CarrierTable extends PortSampler {
  readonly schema: string;
  /** sha256 of the bias table file these constants came from. */
  readonly sha256: string;
  readonly family: string;
  readonly behavior: string;
  readonly portPreservation: number;
  /** The marginal: sorted, disjoint port ranges whose masses sum to 1. */
  readonly marginal: readonly Segment[];
  readonly conditional: Conditional;
  /** Packets per side for 50% and 99% success against a peer of the same carrier. */
  readonly attack: {
    readonly naive: { readonly p50: number; readonly p99: number };
    /** With the table; \`strategy\` names the published plan (naive when no gain is claimed). */
    readonly biased: { readonly p50: number | null; readonly p99: number | null; readonly strategy: string };
  };
  /** Median mapping lifetimes in seconds (null: not measured). */
  readonly timeouts: { readonly wait: number | null; readonly idle: number | null };
}

const PORT_MAX = 65535;

/** Inverse CDF over the segments, then uniform within the chosen one, from one draw. */
function segmentSampler(segments: readonly Segment[]): (random: Uniform) => number {
  const n = segments.length;
  const cum = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += segments[i]![2];
    cum[i] = total;
  }
  for (let i = 0; i < n; i++) cum[i]! /= total;
  cum[n - 1] = 1;
  return (random) => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u < cum[mid]!) hi = mid;
      else lo = mid + 1;
    }
    const below = lo === 0 ? 0 : cum[lo - 1]!;
    const [from, to] = segments[lo]!;
    const width = to - from + 1;
    const offset = Math.floor(((u - below) / (cum[lo]! - below)) * width);
    return from + Math.min(width - 1, Math.max(0, offset));
  };
}

function carrierTable(t: Omit<CarrierTable, 'nextPort' | 'nextPortAfter'>): CarrierTable {
  const nextPort = segmentSampler(t.marginal);
  const c = t.conditional;
  let nextPortAfter: (last: number, random: Uniform) => number;
  if (c === null) {
    nextPortAfter = (_last, random) => nextPort(random);
  } else if (c.kind === 'block') {
    nextPortAfter = (last, random) => {
      if (random() >= c.pSameBlock) return nextPort(random);
      return Math.min(PORT_MAX, last - (last % c.blockSize) + Math.floor(random() * c.blockSize));
    };
  } else {
    const gap = segmentSampler(c.segments);
    nextPortAfter = (last, random) => {
      const next = last + gap(random);
      return next >= 0 && next <= PORT_MAX ? next : nextPort(random);
    };
  }
  return { ...t, nextPort, nextPortAfter };
}
`;

function segments(segs: readonly (PortSegment | DeltaSegment)[], indent: string): string {
  return `[\n${wrapList(segs.map(([a, b, m]) => `[${tsNumber(a)}, ${tsNumber(b)}, ${tsNumber(m)}]`), indent, 4)},\n${indent.slice(2)}]`;
}

function conditional(c: BiasTable['conditional']): string {
  if (c === null) return 'null';
  if (c.kind === 'block') return `{ kind: 'block', blockSize: ${tsNumber(c.blockSize)}, pSameBlock: ${tsNumber(c.pSameBlock)}, perBlock: ${tsNumber(c.perBlock)} }`;
  return `{\n    kind: 'delta',\n    segments: ${segments(c.segments, '      ')},\n  }`;
}

function nullable(x: number | null): string {
  return x === null ? 'null' : tsNumber(x);
}

function carrier(c: ExportedCarrier): string {
  const t = c.table;
  const a = t.attack;
  return `/** Carrier ${commentText(c.name)}: ${t.model.family} model, ${t.mapping.behavior} mapping. */
export const ${c.id}: CarrierTable = carrierTable({
  carrier: ${tsString(c.name)},
  schema: ${tsString(t.schema)},
  sha256: ${tsString(c.sha256)},
  family: ${tsString(t.model.family)},
  behavior: ${tsString(t.mapping.behavior)},
  portPreservation: ${tsNumber(t.mapping.portPreservation)},
  marginal: ${segments(t.marginal, '    ')},
  conditional: ${conditional(t.conditional)},
  attack: {
    naive: { p50: ${tsNumber(a.naive.p50)}, p99: ${tsNumber(a.naive.p99)} },
    biased: { p50: ${nullable(a.biased.p50)}, p99: ${nullable(a.biased.p99)}, strategy: ${tsString(a.biased.strategy)} },
  },
  timeouts: { wait: ${nullable(t.timeouts.wait?.seconds ?? null)}, idle: ${nullable(t.timeouts.idle?.seconds ?? null)} },
});
`;
}

/** The module's text: deterministic for the same tables. */
export function renderTypeScript(input: ExportInput): string {
  return `${header(input)}
${PRELUDE}
${input.carriers.map(carrier).join('\n')}
/** The campaign the tables come from. */
export const CAMPAIGN = ${tsString(input.campaign)};
/** The bias table contract version of every table here. */
export const SCHEMA = ${tsString(input.schema)};

/** Every carrier, in name order. */
export const CARRIERS: readonly CarrierTable[] = [
${wrapList(input.carriers.map((c) => c.id), '  ', 8)},
];

/** The carrier called \`name\` in the campaign (its folder name), if it has a table. */
export function carrierByName(name: string): CarrierTable | undefined {
  return CARRIERS.find((c) => c.carrier === name);
}
`;
}
