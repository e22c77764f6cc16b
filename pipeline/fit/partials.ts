/**
 * A carrier's fit partials (contracts/partials.ts) from natatlas's own joined rows and
 * probes. The fit stage always fits from partials, whether computed here or by an
 * engine elsewhere (pipeline/sql/partials.sql), so both paths run the same fitting code.
 */
import type { CarrierPartials, ProbeTally } from '../contracts/partials.ts';
import { allocationsOf } from './allocations.ts';
import { mappingTallies, markerTally } from './mapping.ts';
import type { Observations } from './observations.ts';
import type { Probe } from './probes.ts';

/** Probes as tallies per (kind, delay, replied), sorted: the timeout fits pool probes by delay, so order and identity do not matter. */
export function probeTallies(probes: { wait: readonly Probe[]; idle: readonly Probe[] }): ProbeTally[] {
  const out = new Map<string, ProbeTally>();
  for (const kind of ['idle', 'wait'] as const) {
    for (const p of [...probes[kind]].sort((x, y) => x.delay - y.delay || Number(x.replied) - Number(y.replied))) {
      const key = `${kind} ${p.delay} ${p.replied}`;
      const t = out.get(key);
      if (t) t.count += 1;
      else out.set(key, { kind, delayS: p.delay, replied: p.replied, count: 1 });
    }
  }
  return [...out.values()];
}

/** The probes of one kind back from tallies, in delay order. */
export function probesOf(tallies: readonly ProbeTally[], kind: 'wait' | 'idle'): Probe[] {
  const out: Probe[] = [];
  for (const t of tallies) if (t.kind === kind) for (let i = 0; i < t.count; i++) out.push({ delay: t.delayS, replied: t.replied });
  return out;
}

/** A carrier's partials, computed with mapping window `windowS` (seconds). */
export function partialsOf(carrier: string, obs: Observations, windowS: number, probes: ProbeTally[], counts: { sent: number; lost: number }): CarrierPartials {
  const { runs, reused } = mappingTallies(obs, windowS);
  const { markers: _markers, ...allocations } = allocationsOf(obs, reused);
  return { carrier, windowS, runs, allocations, markers: markerTally(obs.markerPorts), probes, sent: counts.sent, lost: counts.lost };
}
