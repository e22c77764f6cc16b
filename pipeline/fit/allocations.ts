/**
 * The external ports the NAT freshly allocated, in send order: every joined packet
 * except those that rode an earlier packet's live mapping. This is the sample every
 * allocation family is fitted to, and the sequence the conditional models read.
 */
import type { AllocationColumns } from '../contracts/partials.ts';
import type { Observations } from './observations.ts';

export interface Allocations extends AllocationColumns {
  /** End-marker allocations: they have no send time, so only the port range and this count use them. */
  markers: number;
}

export function allocationsOf(obs: Observations, reused: Uint8Array): Allocations {
  let n = 0;
  for (let i = 0; i < obs.n; i++) if (reused[i] === 0) n += 1;
  const port = new Uint16Array(n);
  const run = new Uint32Array(n);
  const time = new Float64Array(n);
  const sendSeq = new Uint32Array(n);
  const local = new Uint16Array(n);
  let k = 0;
  for (let i = 0; i < obs.n; i++) {
    if (reused[i] !== 0) continue;
    port[k] = obs.external[i]!;
    run[k] = obs.run[i]!;
    time[k] = obs.sendTime[i]!;
    sendSeq[k] = obs.sendSeq[i]!;
    local[k] = obs.local[i]!;
    k += 1;
  }
  return { n, port, run, time, sendSeq, local, markers: obs.markerPorts.length };
}

/** Whether allocation i starts its run (no previous allocation to condition on). */
export function startsRun(a: Allocations, i: number): boolean {
  return i === 0 || a.run[i] !== a.run[i - 1];
}
