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
import { CLIENT_ROWS, ClientRowBytes, SERVER_ROWS, ServerRowBytes, type Extras, type RowBytes } from '../contracts/ingest-rows.ts';
import { JOINED, joinedExtraColumns, type JoinedRowWords } from '../contracts/joined.ts';
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
  /** Extras by id into the client / server reader's dictionary (0: none), so a million rows with one Sender IP hold one object. */
  readonly clientExtra: Int32Array;
  readonly serverExtra: Int32Array;

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
    this.clientExtra = new Int32Array(n);
    this.serverExtra = new Int32Array(n);
  }
}

/** Put the record's UUID into the index's probe words (from its bytes when it is well formed). */
function probeUuid(index: UuidIndex, r: RowBytes): void {
  if (!r.uuidWords(index.probe, 0)) index.setProbe(r.uuidText());
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

interface ClientLoad {
  table: ClientTable;
  runs: string[];
  extras: Extras[];
}

async function loadClient(ctx: StageContext, carrier: string, names: FileNames, counts: CarrierIngest, tally: Tally, throttle: Throttle, bytePath: boolean): Promise<ClientLoad> {
  const table = new ClientTable(counts.clientRows);
  const view = new ClientRowBytes();
  const sentInRun: number[] = [];
  let done = 0;
  await CLIENT_ROWS.forEachBytes(ctx, names, carrier, view, (r) => {
    probeUuid(table.index, r);
    const row = table.index.addProbe();
    if (row < 0) {
      tally.clientDuplicates += 1;
      return;
    }
    const run = r.run();
    if (run === sentInRun.length) sentInRun.push(0);
    table.run[row] = run;
    table.sendTime[row] = r.time();
    table.local[row] = r.localPort();
    table.dest[row] = r.destPort();
    const failed = r.failed();
    table.failed[row] = failed ? 1 : 0;
    if (!failed) table.sendSeq[row] = sentInRun[run]!++;
    table.clientExtra[row] = r.extra();
    if (throttle.due()) ctx.log.progress(`join ${ctx.campaign}/${carrier}: ${formatCount(++done)} client rows (${throttle.rate(done)})`);
  }, bytePath);
  return { table, runs: view.runs.values, extras: view.extras.values };
}

async function streamServer(ctx: StageContext, carrier: string, names: FileNames, table: ClientTable, tally: Tally, throttle: Throttle, bytePath: boolean): Promise<Extras[]> {
  // RFC 4737: a packet is reordered when it arrives after one sent later than it.
  const view = new ServerRowBytes();
  let currentRun = -1;
  let maxSeq = -1;
  let done = 0;
  await SERVER_ROWS.forEachBytes(ctx, names, carrier, view, (r) => {
    if (r.isEndMarker()) return;
    tally.serverRows += 1;
    const run = r.run();
    if (run !== currentRun) {
      currentRun = run;
      maxSeq = -1;
    }
    probeUuid(table.index, r);
    const row = table.index.findProbe();
    if (row < 0) tally.strangers += 1;
    else if (table.matched[row] === 1) tally.serverDuplicates += 1;
    else if (table.failed[row] === 1) {
      table.matched[row] = 2;
      tally.failedSeen += 1;
    } else {
      table.matched[row] = 1;
      tally.joined += 1;
      table.recvTime[row] = r.time();
      table.external[row] = r.externalPort();
      table.serverPort[row] = r.serverPort();
      table.serverExtra[row] = r.extra();
      if (row < maxSeq) tally.reordered += 1;
      else maxSeq = row;
    }
    if (throttle.due()) ctx.log.progress(`join ${ctx.campaign}/${carrier}: ${formatCount(++done)} server rows (${throttle.rate(done)})`);
  }, bytePath);
  return view.extras.values;
}

/** The extra columns' values of a joined row: one array per pair of client and server extras, reused while rows repeat the pair. */
class ExtraValues {
  private lastClient = -1;
  private lastServer = -1;
  private values: string[] = [];
  constructor(private readonly load: ClientLoad, private readonly serverExtras: Extras[], private readonly client: string[], private readonly server: string[]) {}

  of(c: number, s: number): string[] {
    if (c !== this.lastClient || s !== this.lastServer) {
      const ce = this.load.extras[c];
      const se = this.serverExtras[s];
      this.values = [...this.client.map((n) => ce?.[n] ?? ''), ...this.server.map((n) => se?.[n] ?? '')];
      this.lastClient = c;
      this.lastServer = s;
    }
    return this.values;
  }
}

function writeJoined(folder: OutputFolder, stem: string, load: ClientLoad, serverExtras: Extras[], joined: number, clientExtra: string[], serverExtra: string[]): Float64Array {
  const { table, runs } = load;
  const out = JOINED.open(folder, stem, joinedExtraColumns(clientExtra, serverExtra));
  const offsets = new Float64Array(joined);
  let k = 0;
  try {
    const extras = clientExtra.length + serverExtra.length > 0 ? new ExtraValues(load, serverExtras, clientExtra, serverExtra) : null;
    const row: JoinedRowWords = {
      words: table.index.words, at: 0, run: '', sendSeq: 0, sendTime: 0, recvTime: 0, localPort: 0, destPort: 0, externalPort: 0, serverPort: 0, extras: [],
    };
    for (let i = 0; i < table.index.size; i++) {
      if (table.matched[i] !== 1) continue;
      row.at = i * 4;
      row.run = runs[table.run[i]!]!;
      row.sendSeq = table.sendSeq[i]!;
      row.sendTime = table.sendTime[i]!;
      row.recvTime = table.recvTime[i]!;
      row.localPort = table.local[i]!;
      row.destPort = table.dest[i]!;
      row.externalPort = table.external[i]!;
      row.serverPort = table.serverPort[i]!;
      if (extras) row.extras = extras.of(table.clientExtra[i]!, table.serverExtra[i]!);
      offsets[k++] = row.recvTime - row.sendTime;
      out.writeWords(row);
    }
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
  return offsets.sort();
}

async function joinCarrier(
  ctx: StageContext, manifest: IngestManifest, names: FileNames, carrier: string, joinedDir: OutputFolder, summaryDir: OutputFolder, bytePath: boolean,
): Promise<CarrierSummary> {
  const counts = manifest.carriers[carrier]!;
  const tally: Tally = { clientDuplicates: 0, serverRows: 0, joined: 0, strangers: 0, failedSeen: 0, serverDuplicates: 0, reordered: 0 };
  const throttle = new Throttle();
  const load = await loadClient(ctx, carrier, names, counts, tally, throttle, bytePath);
  const { table } = load;
  const serverExtras = await streamServer(ctx, carrier, names, table, tally, throttle, bytePath);
  const offsets = writeJoined(joinedDir, names.stem(carrier), load, serverExtras, tally.joined, counts.clientExtraColumns, counts.serverExtraColumns);
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

/**
 * Run the join stage for one campaign; needs the ingest stage's output. `bytePath: false`
 * reads every record through the string parser (for tests that both paths agree).
 */
export async function join(ctx: StageContext, opts: { bytePath?: boolean } = {}): Promise<{ summaries: CarrierSummary[]; outputs: string[] }> {
  const manifest = readManifest(ctx);
  const names = carrierNames(manifest);
  const summaries: CarrierSummary[] = [];
  let summaryDir = '';
  const joinedDir = await replaceFolder(ctx, 'joined', async (joined) => {
    summaryDir = await replaceFolder(ctx, 'summary', async (summary) => {
      for (const carrier of Object.keys(manifest.carriers).sort()) summaries.push(await joinCarrier(ctx, manifest, names, carrier, joined, summary, opts.bytePath ?? true));
    });
  });
  return { summaries, outputs: [joinedDir, summaryDir] };
}
