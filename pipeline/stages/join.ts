/**
 * join: inner join of a carrier's client and server rows on the packet UUID, across all
 * of its runs, into `derived/<campaign>/joined/<carrier>.cols` (in send order), plus
 * `summary/<carrier>.json` where every ingested row lands in exactly one count.
 *
 * Client rows go into typed arrays behind a UUID hash index (sized from the ingest
 * manifest); server rows stream past it, file by file, straight from their column
 * files. Memory is ~60 bytes per client row, so the capture-sized join never needs a
 * data frame (arquero measured 2.35 GB for 2M rows).
 *
 * A carrier is one unit of the join's ledger (pipeline/units.ts): keyed by its raw
 * files' sha256s and manifest counts, ingest's code and join's, an unchanged carrier's
 * joined rows and summary are carried over instead of joined again.
 */
import type { FileNames } from '../io/names.ts';
import { campaignFolder, formatCount, Throttle, type Logger, type StageContext } from '../context.ts';
import { poolFor, threadsFor } from '../threads.ts';
import { carrierNames, readManifest, type CarrierIngest, type IngestManifest } from '../contracts/manifest.ts';
import { CLIENT_ROWS, SERVER_ROWS, type Extras } from '../contracts/ingest-rows.ts';
import { codeHash } from '../code-closure.ts';
import { UnitLedger } from '../units.ts';
import { JOINED, joinedExtraColumns, type JoinedRowWords } from '../contracts/joined.ts';
import { SUMMARIES, SUMMARY_SCHEMA, type CarrierSummary } from '../contracts/summary.ts';
import { OutputFolder, replaceFolder } from '../contracts/folder.ts';
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

/**
 * Ids for a carrier's runs and extras across its files, in order of first appearance:
 * each column file numbers its own (ids into its dictionaries), join numbers the carrier's.
 */
class CarrierIds<T> {
  readonly values: T[] = [];
  private readonly ids = new Map<string, number>();
  constructor(private readonly key: (v: T) => string) {}

  /** The carrier's ids of a file's dictionary entries. */
  map(dictionary: readonly T[]): Uint32Array {
    const out = new Uint32Array(dictionary.length);
    dictionary.forEach((v, i) => {
      const k = this.key(v);
      let id = this.ids.get(k);
      if (id === undefined) {
        id = this.values.length;
        this.values.push(v);
        this.ids.set(k, id);
      }
      out[i] = id;
    });
    return out;
  }
}

const extrasKey = (e: Extras) => (e === null ? '' : JSON.stringify(e));

function loadClient(ctx: StageContext, carrier: string, manifest: IngestManifest, counts: CarrierIngest, tally: Tally, throttle: Throttle): ClientLoad {
  const table = new ClientTable(counts.clientRows);
  const index = table.index;
  const runIds = new CarrierIds<string>((r) => r);
  const extraIds = new CarrierIds<Extras>(extrasKey);
  extraIds.map([null]);
  const sentInRun: number[] = [];
  const batch = new Int32Array(UuidIndex.BATCH);
  let done = 0;
  CLIENT_ROWS.forEachFile(ctx, manifest, carrier, (c) => {
    const runOf = runIds.map(c.runs);
    const extraOf = extraIds.map(c.extras);
    const uuid = c.uuid;
    for (let i = 0; i < c.rows; i++) {
      const k = i % UuidIndex.BATCH;
      if (k === 0) index.addBatch(uuid, i, Math.min(UuidIndex.BATCH, c.rows - i), batch);
      const row = batch[k]!;
      if (row < 0) {
        tally.clientDuplicates += 1;
        continue;
      }
      const run = runOf[c.run[i]!]!;
      while (sentInRun.length <= run) sentInRun.push(0);
      table.run[row] = run;
      table.sendTime[row] = c.time[i]!;
      table.local[row] = c.localPort[i]!;
      table.dest[row] = c.destPort[i]!;
      const failed = c.failed[i]!;
      table.failed[row] = failed;
      if (failed === 0) table.sendSeq[row] = sentInRun[run]!++;
      table.clientExtra[row] = extraOf[c.extra[i]!]!;
    }
    done += c.rows;
    if (throttle.due()) ctx.log.progress(`join ${ctx.campaign}/${carrier}: ${formatCount(done)} client rows (${throttle.rate(done)})`);
  });
  return { table, runs: runIds.values, extras: extraIds.values };
}

function streamServer(ctx: StageContext, carrier: string, manifest: IngestManifest, table: ClientTable, tally: Tally, throttle: Throttle): Extras[] {
  // RFC 4737: a packet is reordered when it arrives after one sent later than it.
  const runIds = new CarrierIds<string>((r) => r);
  const extraIds = new CarrierIds<Extras>(extrasKey);
  extraIds.map([null]);
  const index = table.index;
  let currentRun = -1;
  let maxSeq = -1;
  const batch = new Int32Array(UuidIndex.BATCH);
  let done = 0;
  SERVER_ROWS.forEachFile(ctx, manifest, carrier, (c) => {
    const runOf = runIds.map(c.runs);
    const extraOf = extraIds.map(c.extras);
    const uuid = c.uuid;
    for (let i = 0; i < c.rows; i++) {
      const k = i % UuidIndex.BATCH;
      if (k === 0) index.findBatch(uuid, i, Math.min(UuidIndex.BATCH, c.rows - i), batch);
      if (c.marker[i] === 1) continue;
      tally.serverRows += 1;
      const run = runOf[c.run[i]!]!;
      if (run !== currentRun) {
        currentRun = run;
        maxSeq = -1;
      }
      const row = batch[k]!;
      if (row < 0) tally.strangers += 1;
      else if (table.matched[row] === 1) tally.serverDuplicates += 1;
      else if (table.failed[row] === 1) {
        table.matched[row] = 2;
        tally.failedSeen += 1;
      } else {
        table.matched[row] = 1;
        tally.joined += 1;
        table.recvTime[row] = c.time[i]!;
        table.external[row] = c.externalPort[i]!;
        table.serverPort[row] = c.serverPort[i]!;
        table.serverExtra[row] = extraOf[c.extra[i]!]!;
        if (row < maxSeq) tally.reordered += 1;
        else maxSeq = row;
      }
    }
    done += c.rows;
    if (throttle.due()) ctx.log.progress(`join ${ctx.campaign}/${carrier}: ${formatCount(done)} server rows (${throttle.rate(done)})`);
  });
  return extraIds.values;
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
  out.reserve(joined);
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
  ctx: StageContext, manifest: IngestManifest, names: FileNames, carrier: string, joinedDir: OutputFolder, summaryDir: OutputFolder,
): Promise<CarrierSummary> {
  const counts = manifest.carriers[carrier]!;
  const tally: Tally = { clientDuplicates: 0, serverRows: 0, joined: 0, strangers: 0, failedSeen: 0, serverDuplicates: 0, reordered: 0 };
  const throttle = new Throttle();
  const load = loadClient(ctx, carrier, manifest, counts, tally, throttle);
  const { table } = load;
  const serverExtras = streamServer(ctx, carrier, manifest, table, tally, throttle);
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

/** One carrier to join, as plain data (a worker thread can take it). */
export interface JoinJob {
  campaign: string;
  folder: string;
  paths: StageContext['paths'];
  manifest: IngestManifest;
  carrier: string;
  /** The joined/ and summary/ folders being built. */
  joinedDir: string;
  summaryDir: string;
}

/** Join one carrier (on the main thread or a worker); its info lines come back for the stage to log in carrier order. */
export async function joinJob(job: JoinJob, log: Logger | null = null): Promise<{ summary: CarrierSummary; lines: string[] }> {
  const lines: string[] = [];
  const logger: Logger = log ?? { info: (m) => lines.push(m), warn: (m) => lines.push(m), progress: () => {} };
  const ctx: StageContext = { campaign: job.campaign, folder: job.folder, paths: job.paths, log: logger };
  const summary = await joinCarrier(ctx, job.manifest, carrierNames(job.manifest), job.carrier, new OutputFolder('joined', job.joinedDir), new OutputFolder('summary', job.summaryDir));
  return { summary, lines };
}

/** Client rows from which joining carriers on worker threads pays for booting them (about a second of CPU each; ingest.ts WORKER_MIN_BYTES). */
export const JOIN_WORKER_MIN_ROWS = 2_000_000;

/**
 * Run the join stage for one campaign; needs the ingest stage's output. `workers`: threads
 * joining carriers (default 2, at most the machine's cores, once the carriers to join hold
 * JOIN_WORKER_MIN_ROWS client rows; else the main thread). Outputs do not depend on it.
 */
export async function join(ctx: StageContext, opts: { workers?: number } = {}): Promise<{ summaries: CarrierSummary[]; outputs: string[] }> {
  const manifest = readManifest(ctx);
  const names = carrierNames(manifest);
  const summaries: CarrierSummary[] = [];
  const ledger = UnitLedger.open(ctx, 'join', new URL('./join.ts', import.meta.url));
  // A carrier's rows are a function of its raw files and ingest's code: key by those (not by rehashing the column files).
  const ingestCode = codeHash(new URL('./ingest.ts', import.meta.url));
  let summaryDir = '';
  const joinedDir = await replaceFolder(ctx, 'joined', async (joined) => {
    summaryDir = await replaceFolder(ctx, 'summary', async (summary) => {
      const carriers = Object.keys(manifest.carriers).sort();
      const keys = new Map(carriers.map((c) => [c, ledger.key({ ingestCode, campaign: ctx.campaign, carrier: c, stem: names.stem(c), files: manifest.files.filter((f) => f.carrier === c), counts: manifest.carriers[c] })]));
      const reused = new Set<string>();
      for (const c of carriers) if (await ledger.reuse(c, keys.get(c)!, [joined, summary])) reused.add(c);
      const toJoin = carriers.filter((c) => !reused.has(c));
      const rows = toJoin.reduce((s, c) => s + manifest.carriers[c]!.clientRows, 0);
      const workers = Math.min(toJoin.length, opts.workers ?? (rows >= JOIN_WORKER_MIN_ROWS ? threadsFor(2) : 0));
      const pool = workers > 1 ? poolFor(new URL('./join-worker.ts', import.meta.url), workers) : null;
      const job = (carrier: string): JoinJob => ({ campaign: ctx.campaign, folder: campaignFolder(ctx), paths: ctx.paths, manifest, carrier, joinedDir: joined.dir, summaryDir: summary.dir });
      // Started at once on the pool (carriers join side by side), taken in carrier order.
      const running = new Map(pool ? toJoin.map((c) => {
        const p = pool.run<{ summary: CarrierSummary; lines: string[] }>(job(c));
        p.catch(() => {});
        return [c, p] as const;
      }) : []);
      try {
        for (const carrier of carriers) {
          const stem = names.stem(carrier);
          if (reused.has(carrier)) {
            summaries.push(SUMMARIES.readFrom(summary, stem));
            ctx.log.info(`join ${ctx.campaign}/${carrier}: unchanged, carried over`);
            continue;
          }
          const done = await (running.get(carrier) ?? joinJob(job(carrier), ctx.log));
          for (const line of done.lines) ctx.log.info(line);
          summaries.push(done.summary);
          await ledger.record(carrier, keys.get(carrier)!, [{ out: joined, rel: JOINED.rel(stem).slice('joined/'.length) }, { out: summary, rel: SUMMARIES.rel(stem).slice('summary/'.length) }]);
        }
      } catch (e) {
        // Workers may still be writing into the folders: let them finish before they are removed.
        await Promise.allSettled(running.values());
        throw e;
      } finally {
        await pool?.close();
      }
    });
  });
  await ledger.save();
  return { summaries, outputs: [joinedDir, summaryDir] };
}
