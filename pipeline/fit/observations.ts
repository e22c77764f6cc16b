/**
 * A carrier's joined packets as columns of typed arrays, in send order, plus the
 * end-marker external ports (allocations too, though no client row describes them).
 * Fitting works on columns because carriers reach millions of packets.
 */
import type { StageContext } from '../context.ts';
import { carrierNames, readManifest } from '../contracts/manifest.ts';
import { JOINED } from '../contracts/joined.ts';
import { SERVER_ROWS } from '../contracts/ingest-rows.ts';
import type { FileNames } from '../io/names.ts';
import { Growable } from '../io/growable.ts';

export interface Observations {
  n: number;
  /** Run index per packet; runs[] holds the names. */
  run: Uint32Array;
  runs: string[];
  sendTime: Float64Array;
  /** Index among the run's sent packets (lost ones included). */
  sendSeq: Uint32Array;
  local: Uint16Array;
  dest: Uint16Array;
  external: Uint16Array;
  /** External ports of END OF MESSAGE markers (fresh sockets, so fresh allocations). */
  markerPorts: number[];
}

/** The carrier's joined packets and its end-marker rows (contracts/joined.ts, contracts/ingest-rows.ts). */
export async function readObservations(ctx: StageContext, carrier: string, names: FileNames = carrierNames(readManifest(ctx))): Promise<Observations> {
  const run = new Growable(new Uint32Array(0), (n) => new Uint32Array(n));
  const sendTime = new Growable(new Float64Array(0), (n) => new Float64Array(n));
  const sendSeq = new Growable(new Uint32Array(0), (n) => new Uint32Array(n));
  const local = new Growable(new Uint16Array(0), (n) => new Uint16Array(n));
  const dest = new Growable(new Uint16Array(0), (n) => new Uint16Array(n));
  const external = new Growable(new Uint16Array(0), (n) => new Uint16Array(n));
  const runs: string[] = [];
  const runIds = new Map<string, number>();
  await JOINED.forEach(ctx, names, carrier, (row) => {
    let r = runIds.get(row.run);
    if (r === undefined) {
      r = runs.length;
      runs.push(row.run);
      runIds.set(row.run, r);
    }
    run.push(r);
    sendSeq.push(row.sendSeq);
    sendTime.push(row.sendTime);
    local.push(row.localPort);
    dest.push(row.destPort);
    external.push(row.externalPort);
  });
  const markerPorts: number[] = [];
  await SERVER_ROWS.forEach(ctx, names, carrier, (row) => {
    if (row.kind === 'end-marker') markerPorts.push(row.externalPort);
  });
  return { n: run.length, run: run.done(), runs, sendTime: sendTime.done(), sendSeq: sendSeq.done(), local: local.done(), dest: dest.done(), external: external.done(), markerPorts };
}
