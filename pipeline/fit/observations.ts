/**
 * A carrier's joined packets as columns of typed arrays, in send order, plus the
 * end-marker external ports (allocations too, though no client row describes them).
 * Fitting works on columns because carriers reach millions of packets.
 */
import type { StageContext } from '../context.ts';
import { carrierNames, readManifest, type IngestManifest } from '../contracts/manifest.ts';
import { JOINED } from '../contracts/joined.ts';
import { SERVER_ROWS } from '../contracts/ingest-rows.ts';

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

/** The carrier's joined packets and its end-marker rows (contracts/joined.ts, contracts/ingest-rows.ts), as read from their column files. */
export async function readObservations(ctx: StageContext, carrier: string, manifest: IngestManifest = readManifest(ctx)): Promise<Observations> {
  const j = JOINED.columns(ctx, carrierNames(manifest), carrier, ['run', 'sendTime', 'sendSeq', 'localPort', 'destPort', 'externalPort']);
  const markerPorts: number[] = [];
  SERVER_ROWS.forEachFile(ctx, manifest, carrier, (c) => {
    for (let i = 0; i < c.rows; i++) if (c.marker[i] === 1) markerPorts.push(c.externalPort[i]!);
  });
  // The joined file numbers its runs in order of first appearance, as fit's run indices do.
  return { n: j.rows, run: j.run, runs: j.runs, sendTime: j.sendTime, sendSeq: j.sendSeq, local: j.localPort, dest: j.destPort, external: j.externalPort, markerPorts };
}
