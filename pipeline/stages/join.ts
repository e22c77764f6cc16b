/**
 * join: inner join of a carrier's client and server rows on the packet UUID, across all
 * of its runs, into `derived/<campaign>/joined/<carrier>.csv` (in send order), plus
 * `summary/<carrier>.json` where every ingested row lands in exactly one count.
 *
 * Client rows go into typed arrays behind a UUID hash index (sized from the ingest
 * manifest); server rows stream past it. Memory is ~60 bytes per client row, so the
 * capture-sized join never needs a data frame (arquero measured 2.35 GB for 2M rows).
 */
import type { FileNames } from '../io/names.ts';
import { formatCount, Throttle, type StageContext } from '../context.ts';
import { carrierNames, readManifest, type CarrierIngest, type IngestManifest } from '../contracts/manifest.ts';
import { CLIENT_ROWS, SERVER_ROWS } from '../contracts/ingest-rows.ts';
import { JOINED, joinedExtraColumns } from '../contracts/joined.ts';
import { SUMMARIES, SUMMARY_SCHEMA, type CarrierSummary } from '../contracts/summary.ts';
import { replaceFolder, type OutputFolder } from '../contracts/folder.ts';
import { UuidIndex } from './uuid-index.ts';

/** Per matched-packet state, one slot per unique client UUID. */
class ClientTable {
  readonly index: UuidIndex;
  readonly run: Uint32Array;
  readonly sendTime: Float64Array;
  /** Index of the row among its run's S rows. */
  readonly sendSeq: Uint32Array;
  readonly local: Uint16Array;
  readonly dest: Uint16Array;
  readonly failed: Uint8Array;
  /** 0 = not seen by the server, 1 = joined. */
  readonly matched: Uint8Array;
  readonly recvTime: Float64Array;
  readonly external: Uint16Array;
  readonly serverPort: Uint16Array;
  readonly clientExtra = new Map<number, Record<string, string>>();
  readonly serverExtra = new Map<number, Record<string, string>>();

  constructor(n: number) {
    this.index = new UuidIndex(n);
    this.run = new Uint32Array(n);
    this.sendTime = new Float64Array(n);
    this.sendSeq = new Uint32Array(n);
    this.local = new Uint16Array(n);
    this.dest = new Uint16Array(n);
    this.failed = new Uint8Array(n);
    this.matched = new Uint8Array(n);
    this.recvTime = new Float64Array(n);
    this.external = new Uint16Array(n);
    this.serverPort = new Uint16Array(n);
  }
}

interface Tally {
  clientDuplicates: number;
  serverRows: number;
  joined: number;
  strangers: number;
  failedSeen: number;
  serverDuplicates: number;
  reordered: number;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

async function loadClient(ctx: StageContext, carrier: string, names: FileNames, counts: CarrierIngest, tally: Tally, throttle: Throttle): Promise<{ table: ClientTable; runs: string[] }> {
  const table = new ClientTable(counts.clientRows);
  const runs: string[] = [];
  const runIds = new Map<string, number>();
  const sentInRun: number[] = [];
  let done = 0;
  await CLIENT_ROWS.forEach(ctx, names, carrier, (r) => {
    const { row, added } = table.index.add(r.uuid);
    if (!added) {
      tally.clientDuplicates += 1;
      return;
    }
    let run = runIds.get(r.run);
    if (run === undefined) {
      run = runs.length;
      runs.push(r.run);
      runIds.set(r.run, run);
      sentInRun.push(0);
    }
    table.run[row] = run;
    table.sendTime[row] = r.time;
    table.local[row] = r.localPort;
    table.dest[row] = r.destPort;
    table.failed[row] = r.status === 'F' ? 1 : 0;
    if (r.status !== 'F') table.sendSeq[row] = sentInRun[run]!++;
    if (r.extra) table.clientExtra.set(row, r.extra);
    if (throttle.due()) ctx.log.progress(`join ${ctx.campaign}/${carrier}: ${formatCount(++done)} client rows (${throttle.rate(done)})`);
  });
  return { table, runs };
}

async function streamServer(ctx: StageContext, carrier: string, names: FileNames, table: ClientTable, tally: Tally, throttle: Throttle): Promise<void> {
  // RFC 4737: a packet is reordered when it arrives after one sent later than it.
  let currentRun = '';
  let maxSeq = -1;
  let done = 0;
  await SERVER_ROWS.forEach(ctx, names, carrier, (r) => {
    if (r.kind === 'end-marker') return;
    tally.serverRows += 1;
    if (r.run !== currentRun) {
      currentRun = r.run;
      maxSeq = -1;
    }
    const row = table.index.find(r.uuid);
    if (row < 0) tally.strangers += 1;
    else if (table.matched[row] === 1) tally.serverDuplicates += 1;
    else if (table.failed[row] === 1) {
      table.matched[row] = 2;
      tally.failedSeen += 1;
    } else {
      table.matched[row] = 1;
      tally.joined += 1;
      table.recvTime[row] = r.time;
      table.external[row] = r.externalPort;
      table.serverPort[row] = r.serverPort;
      if (r.extra) table.serverExtra.set(row, r.extra);
      if (row < maxSeq) tally.reordered += 1;
      else maxSeq = row;
    }
    if (throttle.due()) ctx.log.progress(`join ${ctx.campaign}/${carrier}: ${formatCount(++done)} server rows (${throttle.rate(done)})`);
  });
}

function writeJoined(folder: OutputFolder, stem: string, table: ClientTable, runs: string[], clientExtra: string[], serverExtra: string[]): Float64Array {
  const out = JOINED.open(folder, stem, joinedExtraColumns(clientExtra, serverExtra));
  const offsets: number[] = [];
  try {
    const hasExtras = clientExtra.length + serverExtra.length > 0;
    const none: string[] = [];
    for (let i = 0; i < table.index.size; i++) {
      if (table.matched[i] !== 1) continue;
      const send = table.sendTime[i]!;
      const recv = table.recvTime[i]!;
      offsets.push(recv - send);
      let extras = none;
      if (hasExtras) {
        const ce = table.clientExtra.get(i);
        const se = table.serverExtra.get(i);
        extras = [...clientExtra.map((n) => ce?.[n] ?? ''), ...serverExtra.map((n) => se?.[n] ?? '')];
      }
      out.write({
        uuid: table.index.uuidOf(i), run: runs[table.run[i]!]!, sendSeq: table.sendSeq[i]!, sendTime: send, recvTime: recv,
        localPort: table.local[i]!, destPort: table.dest[i]!, externalPort: table.external[i]!, serverPort: table.serverPort[i]!, extras,
      });
    }
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
  return Float64Array.from(offsets).sort();
}

async function joinCarrier(ctx: StageContext, manifest: IngestManifest, names: FileNames, carrier: string, joinedDir: OutputFolder, summaryDir: OutputFolder): Promise<CarrierSummary> {
  const counts = manifest.carriers[carrier]!;
  const tally: Tally = { clientDuplicates: 0, serverRows: 0, joined: 0, strangers: 0, failedSeen: 0, serverDuplicates: 0, reordered: 0 };
  const throttle = new Throttle();
  const { table, runs } = await loadClient(ctx, carrier, names, counts, tally, throttle);
  await streamServer(ctx, carrier, names, table, tally, throttle);
  const offsets = writeJoined(joinedDir, names.stem(carrier), table, runs, counts.clientExtraColumns, counts.serverExtraColumns);
  let failed = 0;
  let sent = 0;
  for (let i = 0; i < table.index.size; i++) {
    if (table.failed[i] === 1) failed += 1;
    else sent += 1;
  }
  const summary: CarrierSummary = {
    schema: SUMMARY_SCHEMA,
    campaign: ctx.campaign,
    carrier,
    files: manifest.files.filter((f) => f.carrier === carrier).map((f) => ({ path: f.path, sha256: f.sha256 })),
    runs: counts.runs.length,
    counts: {
      clientRows: counts.clientRows,
      failed,
      sent,
      clientDuplicates: tally.clientDuplicates,
      serverRows: tally.serverRows,
      joined: tally.joined,
      lost: sent - tally.joined,
      strangers: tally.strangers,
      failedSeen: tally.failedSeen,
      serverDuplicates: tally.serverDuplicates,
      // End markers of both sides, malformed ones included: counted at ingest, kept nowhere else.
      controlRows: counts.control,
      rejected: counts.rejected,
    },
    clockOffsetMs: offsets.length === 0 ? null : { median: quantile(offsets, 0.5), p05: quantile(offsets, 0.05), p95: quantile(offsets, 0.95) },
    outOfOrder: { rows: tally.reordered, fraction: tally.joined === 0 ? 0 : tally.reordered / tally.joined },
  };
  await SUMMARIES.write(summaryDir, names.stem(carrier), summary);
  ctx.log.info(`join ${ctx.campaign}/${carrier}: ${formatCount(tally.joined)} joined of ${formatCount(sent)} sent, ${formatCount(summary.counts.lost)} lost, ${formatCount(tally.strangers)} strangers`);
  return summary;
}

/** Run the join stage for one campaign; needs the ingest stage's output. */
export async function join(ctx: StageContext): Promise<{ summaries: CarrierSummary[]; outputs: string[] }> {
  const manifest = readManifest(ctx);
  const names = carrierNames(manifest);
  const summaries: CarrierSummary[] = [];
  let summaryDir = '';
  const joinedDir = await replaceFolder(ctx, 'joined', async (joined) => {
    summaryDir = await replaceFolder(ctx, 'summary', async (summary) => {
      for (const carrier of Object.keys(manifest.carriers).sort()) summaries.push(await joinCarrier(ctx, manifest, names, carrier, joined, summary));
    });
  });
  return { summaries, outputs: [joinedDir, summaryDir] };
}
