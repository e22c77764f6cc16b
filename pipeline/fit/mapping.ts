/**
 * Mapping behaviour (RFC 4787) from the captures themselves. Evidence is one local port
 * sending to a second server port while its mapping is alive: consecutive sends in the
 * same run, within `windowS`. Same external port: endpoint-independent; a new one:
 * endpoint-dependent. A local port drawn again in a later run says nothing (its mapping
 * expired), so only pairs inside the window count (docs/design.md).
 */
import type { MappingBehavior } from '../bias/types.ts';
import type { RunTally } from '../contracts/partials.ts';
import type { Observations } from './observations.ts';

export interface MappingEvidence {
  /** Pairs of sends from one local port to two server ports inside the window. */
  pairs: number;
  sameExternal: number;
  differentExternal: number;
  windowS: number;
}

export interface MappingFit {
  behavior: MappingBehavior;
  evidence: MappingEvidence;
  /** Share of packets with a known local port (not 0) whose external port equals it. */
  portPreservation: number;
  preservationSample: number;
  observedRange: [number, number];
  /** 1 where a packet rode a mapping an earlier packet created (not a fresh allocation). */
  reused: Uint8Array;
}

/** Fewer evidence pairs than this and the behaviour is `unknown`. */
export const MIN_MAPPING_PAIRS = 10;
/** Share of pairs that must agree; below it the evidence is mixed and the answer `unknown`. */
export const MAPPING_AGREEMENT = 0.95;

/** The mapping fit without the per-packet reuse flags: what partials (contracts/partials.ts) give. */
export type MappingSummary = Omit<MappingFit, 'reused'>;

/**
 * Each run's mapping tallies (evidence pairs, preservation, port range) and which packets
 * rode a live mapping. Per run because a mapping never outlives its run: the tallies of
 * runs computed apart add up to the carrier's.
 */
export function mappingTallies(obs: Observations, windowS: number): { runs: RunTally[]; reused: Uint8Array } {
  const reused = new Uint8Array(obs.n);
  const last = new Int32Array(65536).fill(-1);
  const touched: number[] = [];
  const runs: RunTally[] = obs.runs.map((run) => ({ run, windowS, joined: 0, pairs: 0, sameExternal: 0, knownLocal: 0, keptLocal: 0, minPort: null, maxPort: null }));
  let currentRun = -1;
  let t = runs[0]!;
  const windowMs = windowS * 1000;
  for (let i = 0; i < obs.n; i++) {
    if (obs.run[i] !== currentRun) {
      for (const p of touched) last[p] = -1;
      touched.length = 0;
      currentRun = obs.run[i]!;
      t = runs[currentRun]!;
    }
    const ext = obs.external[i]!;
    t.joined += 1;
    if (t.minPort === null || ext < t.minPort) t.minPort = ext;
    if (t.maxPort === null || ext > t.maxPort) t.maxPort = ext;
    const port = obs.local[i]!;
    if (port === 0) continue;
    t.knownLocal += 1;
    if (ext === port) t.keptLocal += 1;
    const j = last[port]!;
    if (j >= 0 && obs.sendTime[i]! - obs.sendTime[j]! <= windowMs) {
      if (obs.external[j] === ext) reused[i] = 1;
      if (obs.dest[j] !== obs.dest[i]) {
        t.pairs += 1;
        if (obs.external[j] === ext) t.sameExternal += 1;
      }
    }
    if (j < 0) touched.push(port);
    last[port] = i;
  }
  return { runs, reused };
}

/** The carrier's mapping behaviour from its runs' tallies and its end-marker ports ([port, count], by port). */
export function mappingOf(runs: readonly RunTally[], markers: readonly [number, number][], windowS: number): MappingSummary {
  let pairs = 0;
  let same = 0;
  let preserved = 0;
  let known = 0;
  let seen = 0;
  let lo = 65535;
  let hi = 0;
  for (const r of runs) {
    pairs += r.pairs;
    same += r.sameExternal;
    preserved += r.keptLocal;
    known += r.knownLocal;
    seen += r.joined;
    if (r.minPort !== null && r.minPort < lo) lo = r.minPort;
    if (r.maxPort !== null && r.maxPort > hi) hi = r.maxPort;
  }
  for (const [p, count] of markers) {
    seen += count;
    if (p < lo) lo = p;
    if (p > hi) hi = p;
  }
  let behavior: MappingBehavior = 'unknown';
  if (pairs >= MIN_MAPPING_PAIRS) {
    if (same / pairs >= MAPPING_AGREEMENT) behavior = 'endpoint-independent';
    else if ((pairs - same) / pairs >= MAPPING_AGREEMENT) behavior = 'endpoint-dependent';
  }
  return {
    behavior,
    evidence: { pairs, sameExternal: same, differentExternal: pairs - same, windowS },
    portPreservation: known === 0 ? 0 : preserved / known,
    preservationSample: known,
    observedRange: seen === 0 ? [0, 0] : [lo, hi],
  };
}

/** End-marker ports as [port, count] by port. */
export function markerTally(ports: readonly number[]): [number, number][] {
  const counts = new Map<number, number>();
  for (const p of ports) counts.set(p, (counts.get(p) ?? 0) + 1);
  return [...counts.entries()].sort((x, y) => x[0] - y[0]);
}

export function fitMapping(obs: Observations, windowS: number): MappingFit {
  const { runs, reused } = mappingTallies(obs, windowS);
  return { ...mappingOf(runs, markerTally(obs.markerPorts), windowS), reused };
}
