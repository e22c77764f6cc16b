/**
 * join: inner join of a carrier's client and server rows on the packet UUID, across all
 * of its runs, into `derived/<campaign>/joined/<carrier>.csv` (in send order), plus
 * `summary/<carrier>.json` where every ingested row lands in exactly one count.
 *
 * Client rows go into typed arrays behind a UUID hash index (sized from the ingest
 * manifest); server rows stream past it. Memory is ~60 bytes per client row, so the
 * capture-sized join never needs a data frame (arquero measured 2.35 GB for 2M rows).
 */
import path from 'node:path';
import { AtomicWriter, replaceDir, writeFileAtomic } from '../io/atomic.ts';
import { csvField, csvRow, readRecords } from '../io/csv.ts';
import { stableStringify } from '../io/json.ts';
import type { FileNames } from '../io/names.ts';
import { derivedPath, formatCount, Throttle, type StageContext } from '../context.ts';
import { carrierIngestFile, carrierNames, decodeExtra, readManifest, type CarrierIngest, type IngestManifest } from '../derived/ingested.ts';
import { UuidIndex } from './uuid-index.ts';
import { JOIN_COLUMNS, SUMMARY_SCHEMA, type CarrierSummary } from '../derived/joined.ts';

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

/** Column names for extras, prefixed only where they would collide. */
function extraNames(clientExtra: string[], serverExtra: string[]): { client: string[]; server: string[] } {
  const fixed = new Set<string>(JOIN_COLUMNS);
  const clash = (n: string, other: string[]) => fixed.has(n) || other.includes(n);
  return {
    client: clientExtra.map((n) => (clash(n, serverExtra) ? `client.${n}` : n)),
    server: serverExtra.map((n) => (clash(n, clientExtra) ? `server.${n}` : n)),
  };
}

async function loadClient(ctx: StageContext, carrier: string, names: FileNames, counts: CarrierIngest, tally: Tally, throttle: Throttle): Promise<{ table: ClientTable; runs: string[] }> {
  const table = new ClientTable(counts.clientRows);
  const runs: string[] = [];
  const runIds = new Map<string, number>();
  const sentInRun: number[] = [];
  let done = 0;
  await readRecords(carrierIngestFile(ctx, carrier, 'client.csv', names), (f, recordNo) => {
    if (recordNo === 1) return;
    const { row, added } = table.index.add(f[2]!);
    if (!added) {
      tally.clientDuplicates += 1;
      return;
    }
    let run = runIds.get(f[0]!);
    if (run === undefined) {
      run = runs.length;
      runs.push(f[0]!);
      runIds.set(f[0]!, run);
      sentInRun.push(0);
    }
    table.run[row] = run;
    table.sendTime[row] = Number(f[3]);
    table.local[row] = Number(f[4]);
    table.dest[row] = Number(f[5]);
    table.failed[row] = f[6] === 'F' ? 1 : 0;
    if (f[6] !== 'F') table.sendSeq[row] = sentInRun[run]!++;
    const extra = decodeExtra(f[7] ?? '');
    if (extra) table.clientExtra.set(row, extra);
    if (throttle.due()) ctx.log.progress(`join ${ctx.campaign}/${carrier}: ${formatCount(++done)} client rows (${throttle.rate(done)})`);
  });
  return { table, runs };
}

async function streamServer(ctx: StageContext, carrier: string, names: FileNames, table: ClientTable, tally: Tally, throttle: Throttle): Promise<void> {
  // RFC 4737: a packet is reordered when it arrives after one sent later than it.
  let currentRun = '';
  let maxSeq = -1;
  let done = 0;
  await readRecords(carrierIngestFile(ctx, carrier, 'server.csv', names), (f, recordNo) => {
    if (recordNo === 1) return;
    if (f[2] === 'end-marker') return;
    tally.serverRows += 1;
    if (f[0] !== currentRun) {
      currentRun = f[0]!;
      maxSeq = -1;
    }
    const row = table.index.find(f[3]!);
    if (row < 0) tally.strangers += 1;
    else if (table.matched[row] === 1) tally.serverDuplicates += 1;
    else if (table.failed[row] === 1) {
      table.matched[row] = 2;
      tally.failedSeen += 1;
    } else {
      table.matched[row] = 1;
      tally.joined += 1;
      table.recvTime[row] = Number(f[4]);
      table.external[row] = Number(f[5]);
      table.serverPort[row] = Number(f[6]);
      const extra = decodeExtra(f[7] ?? '');
      if (extra) table.serverExtra.set(row, extra);
      if (row < maxSeq) tally.reordered += 1;
      else maxSeq = row;
    }
    if (throttle.due()) ctx.log.progress(`join ${ctx.campaign}/${carrier}: ${formatCount(++done)} server rows (${throttle.rate(done)})`);
  });
}

function writeJoined(file: string, table: ClientTable, runs: string[], clientExtra: string[], serverExtra: string[]): Float64Array {
  const names = extraNames(clientExtra, serverExtra);
  const out = new AtomicWriter(file);
  const offsets: number[] = [];
  try {
    out.write(`${csvRow([...JOIN_COLUMNS, ...names.client, ...names.server])}\n`);
    const runField = runs.map((r) => csvField(r));
    const hasExtras = clientExtra.length + serverExtra.length > 0;
    for (let i = 0; i < table.index.size; i++) {
      if (table.matched[i] !== 1) continue;
      const send = table.sendTime[i]!;
      const recv = table.recvTime[i]!;
      offsets.push(recv - send);
      let line = `${table.index.uuidOf(i)},${runField[table.run[i]!]},${table.sendSeq[i]},${send},${recv},${table.local[i]},${table.dest[i]},${table.external[i]},${table.serverPort[i]}`;
      if (hasExtras) {
        const ce = table.clientExtra.get(i);
        const se = table.serverExtra.get(i);
        for (const n of clientExtra) line += `,${csvField(ce?.[n] ?? '')}`;
        for (const n of serverExtra) line += `,${csvField(se?.[n] ?? '')}`;
      }
      out.write(`${line}\n`);
    }
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
  return Float64Array.from(offsets).sort();
}

async function joinCarrier(ctx: StageContext, manifest: IngestManifest, names: FileNames, carrier: string, joinedDir: string, summaryDir: string): Promise<CarrierSummary> {
  const counts = manifest.carriers[carrier]!;
  const tally: Tally = { clientDuplicates: 0, serverRows: 0, joined: 0, strangers: 0, failedSeen: 0, serverDuplicates: 0, reordered: 0 };
  const throttle = new Throttle();
  const { table, runs } = await loadClient(ctx, carrier, names, counts, tally, throttle);
  await streamServer(ctx, carrier, names, table, tally, throttle);
  const offsets = writeJoined(path.join(joinedDir, `${names.stem(carrier)}.csv`), table, runs, counts.clientExtraColumns, counts.serverExtraColumns);
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
  await writeFileAtomic(path.join(summaryDir, `${names.stem(carrier)}.json`), stableStringify(summary));
  ctx.log.info(`join ${ctx.campaign}/${carrier}: ${formatCount(tally.joined)} joined of ${formatCount(sent)} sent, ${formatCount(summary.counts.lost)} lost, ${formatCount(tally.strangers)} strangers`);
  return summary;
}

/** Run the join stage for one campaign; needs the ingest stage's output. */
export async function join(ctx: StageContext): Promise<{ summaries: CarrierSummary[]; outputs: string[] }> {
  const manifest = readManifest(ctx);
  const names = carrierNames(manifest);
  const joinedDir = derivedPath(ctx, 'joined');
  const summaryDir = derivedPath(ctx, 'summary');
  const summaries: CarrierSummary[] = [];
  await replaceDir(joinedDir, (jtmp) =>
    replaceDir(summaryDir, async (stmp) => {
      for (const carrier of Object.keys(manifest.carriers).sort()) summaries.push(await joinCarrier(ctx, manifest, names, carrier, jtmp, stmp));
    }),
  );
  return { summaries, outputs: [joinedDir, summaryDir] };
}
