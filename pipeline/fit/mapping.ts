/**
 * Mapping behaviour (RFC 4787) from the captures themselves. Evidence is one local port
 * sending to a second server port while its mapping is alive: consecutive sends in the
 * same run, within `windowS`. Same external port: endpoint-independent; a new one:
 * endpoint-dependent. A local port drawn again in a later run says nothing (its mapping
 * expired), so only pairs inside the window count (docs/design.md).
 */
import type { MappingBehavior } from '../bias/types.ts';
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

export function fitMapping(obs: Observations, windowS: number): MappingFit {
  const reused = new Uint8Array(obs.n);
  const last = new Int32Array(65536).fill(-1);
  const touched: number[] = [];
  let pairs = 0;
  let same = 0;
  let currentRun = -1;
  let preserved = 0;
  let known = 0;
  let lo = 65535;
  let hi = 0;
  const windowMs = windowS * 1000;
  for (let i = 0; i < obs.n; i++) {
    if (obs.run[i] !== currentRun) {
      for (const p of touched) last[p] = -1;
      touched.length = 0;
      currentRun = obs.run[i]!;
    }
    const ext = obs.external[i]!;
    if (ext < lo) lo = ext;
    if (ext > hi) hi = ext;
    const port = obs.local[i]!;
    if (port === 0) continue;
    known += 1;
    if (ext === port) preserved += 1;
    const j = last[port]!;
    if (j >= 0 && obs.sendTime[i]! - obs.sendTime[j]! <= windowMs) {
      if (obs.external[j] === ext) reused[i] = 1;
      if (obs.dest[j] !== obs.dest[i]) {
        pairs += 1;
        if (obs.external[j] === ext) same += 1;
      }
    }
    if (j < 0) touched.push(port);
    last[port] = i;
  }
  for (const p of obs.markerPorts) {
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
    observedRange: obs.n + obs.markerPorts.length === 0 ? [0, 0] : [lo, hi],
    reused,
  };
}
