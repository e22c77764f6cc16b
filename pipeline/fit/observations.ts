/**
 * A carrier's joined packets as columns of typed arrays, in send order, plus the
 * end-marker external ports (allocations too, though no client row describes them).
 * Fitting works on columns because carriers reach millions of packets.
 */
import { readRecords } from '../io/csv.ts';
import type { StageContext } from '../context.ts';
import { carrierFile, carrierIngestFile, carrierNames, readManifest } from '../derived/ingested.ts';
import type { FileNames } from '../io/names.ts';

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

class Growable<T extends Uint16Array | Uint32Array | Float64Array> {
  constructor(public data: T, private readonly make: (n: number) => T) {}
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.make(Math.max(1024, this.data.length * 2));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  done(): T {
    return this.data.slice(0, this.length) as T;
  }
}

export function joinedFile(ctx: StageContext, carrier: string, names: FileNames = carrierNames(readManifest(ctx))): string {
  return carrierFile(ctx, names, 'joined', carrier, '.csv');
}

/** Read `joined/<carrier>.csv` and the carrier's end-marker rows. */
export async function readObservations(ctx: StageContext, carrier: string, names: FileNames = carrierNames(readManifest(ctx))): Promise<Observations> {
  const run = new Growable(new Uint32Array(0), (n) => new Uint32Array(n));
  const sendTime = new Growable(new Float64Array(0), (n) => new Float64Array(n));
  const sendSeq = new Growable(new Uint32Array(0), (n) => new Uint32Array(n));
  const local = new Growable(new Uint16Array(0), (n) => new Uint16Array(n));
  const dest = new Growable(new Uint16Array(0), (n) => new Uint16Array(n));
  const external = new Growable(new Uint16Array(0), (n) => new Uint16Array(n));
  const runs: string[] = [];
  const runIds = new Map<string, number>();
  await readRecords(joinedFile(ctx, carrier, names), (f, recordNo) => {
    if (recordNo === 1) return;
    // uuid,run,send_seq,send_time,recv_time,local_port,dest_port,external_port,server_port,...
    let r = runIds.get(f[1]!);
    if (r === undefined) {
      r = runs.length;
      runs.push(f[1]!);
      runIds.set(f[1]!, r);
    }
    run.push(r);
    sendSeq.push(Number(f[2]));
    sendTime.push(Number(f[3]));
    local.push(Number(f[5]));
    dest.push(Number(f[6]));
    external.push(Number(f[7]));
  });
  const markerPorts: number[] = [];
  await readRecords(carrierIngestFile(ctx, carrier, 'server.csv', names), (f, recordNo) => {
    if (recordNo === 1) return;
    if (f[2] === 'end-marker') markerPorts.push(Number(f[5]));
  });
  return { n: run.length, run: run.done(), runs, sendTime: sendTime.done(), sendSeq: sendSeq.done(), local: local.done(), dest: dest.done(), external: external.done(), markerPorts };
}
