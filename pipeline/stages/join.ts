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
import { csvField, csvRow, readRecordBytes } from '../io/csv.ts';
import { ByteFields } from '../io/byte-fields.ts';
import { ByteLines } from '../io/byte-lines.ts';
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
  /** Extras by id in `extras` (0: none), so a million rows with one Sender IP hold one object. */
  readonly clientExtra: Int32Array;
  readonly serverExtra: Int32Array;
  readonly extras = new FieldDictionary<Record<string, string> | null>(decodeExtra);

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
    this.extras.id(NO_EXTRA, 0);
  }
}

/** An empty extras field: id 0 of every table's dictionary. */
const NO_EXTRA = ByteFields.of(['']);

/**
 * Ids for one column's distinct values, in order of first appearance. A row that repeats
 * the last row's bytes (a run name, a Sender IP: thousands of rows in a row) costs a
 * byte comparison; only a change is decoded and looked up.
 */
class FieldDictionary<T> {
  readonly values: T[] = [];
  private readonly ids = new Map<string, number>();
  private last = -1;
  private lastBytes = Buffer.alloc(64);
  private lastLength = 0;
  private lastQuoted = 0;

  constructor(private readonly make: (text: string) => T) {}

  id(f: ByteFields, i: number): number {
    if (this.last >= 0 && f.sameAs(i, this.lastBytes, 0, this.lastLength, this.lastQuoted)) return this.last;
    const text = f.text(i);
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(this.make(text));
      this.ids.set(text, id);
    }
    const length = f.length(i);
    if (length > this.lastBytes.length) this.lastBytes = Buffer.alloc(2 * length);
    f.buf.copy(this.lastBytes, 0, f.starts[i]!, f.ends[i]!);
    this.lastLength = length;
    this.lastQuoted = f.quoted[i]!;
    this.last = id;
    return id;
  }
}

/** Put the UUID of field i into the index's probe words (from its bytes when it is well formed). */
function probeUuid(index: UuidIndex, f: ByteFields, i: number): void {
  if (!f.uuidWords(i, index.probe, 0)) index.setProbe(f.text(i));
}

const END_MARKER_KIND = Buffer.from('end-marker', 'latin1');

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

async function loadClient(ctx: StageContext, carrier: string, names: FileNames, counts: CarrierIngest, tally: Tally, throttle: Throttle, bytePath: boolean): Promise<{ table: ClientTable; runs: string[] }> {
  const table = new ClientTable(counts.clientRows);
  const runs = new FieldDictionary<string>((t) => t);
  const sentInRun: number[] = [];
  let done = 0;
  await readRecordBytes(carrierIngestFile(ctx, carrier, 'client.csv', names), (f, recordNo) => {
    if (recordNo === 1) return;
    probeUuid(table.index, f, 2);
    const row = table.index.addProbe();
    if (row < 0) {
      tally.clientDuplicates += 1;
      return;
    }
    const run = runs.id(f, 0);
    if (run === sentInRun.length) sentInRun.push(0);
    table.run[row] = run;
    table.sendTime[row] = f.number(3);
    table.local[row] = f.number(4);
    table.dest[row] = f.number(5);
    const failed = f.isChar(6, 70);
    table.failed[row] = failed ? 1 : 0;
    if (!failed) table.sendSeq[row] = sentInRun[run]!++;
    table.clientExtra[row] = f.count > 7 ? table.extras.id(f, 7) : 0;
    if (throttle.due()) ctx.log.progress(`join ${ctx.campaign}/${carrier}: ${formatCount(++done)} client rows (${throttle.rate(done)})`);
  }, bytePath);
  return { table, runs: runs.values };
}

async function streamServer(ctx: StageContext, carrier: string, names: FileNames, table: ClientTable, tally: Tally, throttle: Throttle, bytePath: boolean): Promise<void> {
  // RFC 4737: a packet is reordered when it arrives after one sent later than it.
  const runs = new FieldDictionary<string>((t) => t);
  let currentRun = -1;
  let maxSeq = -1;
  let done = 0;
  await readRecordBytes(carrierIngestFile(ctx, carrier, 'server.csv', names), (f, recordNo) => {
    if (recordNo === 1) return;
    if (f.quoted[2] === 1 ? f.text(2) === 'end-marker' : f.equals(2, END_MARKER_KIND)) return;
    tally.serverRows += 1;
    const run = runs.id(f, 0);
    if (run !== currentRun) {
      currentRun = run;
      maxSeq = -1;
    }
    probeUuid(table.index, f, 3);
    const row = table.index.findProbe();
    if (row < 0) tally.strangers += 1;
    else if (table.matched[row] === 1) tally.serverDuplicates += 1;
    else if (table.failed[row] === 1) {
      table.matched[row] = 2;
      tally.failedSeen += 1;
    } else {
      table.matched[row] = 1;
      tally.joined += 1;
      table.recvTime[row] = f.number(4);
      table.external[row] = f.number(5);
      table.serverPort[row] = f.number(6);
      table.serverExtra[row] = f.count > 7 ? table.extras.id(f, 7) : 0;
      if (row < maxSeq) tally.reordered += 1;
      else maxSeq = row;
    }
    if (throttle.due()) ctx.log.progress(`join ${ctx.campaign}/${carrier}: ${formatCount(++done)} server rows (${throttle.rate(done)})`);
  }, bytePath);
}

/** The extras columns of a joined row, cached for the last pair of extras seen (rows repeat them). */
class ExtraColumns {
  private lastClient = -1;
  private lastServer = -1;
  private text = '';
  constructor(private readonly table: ClientTable, private readonly client: string[], private readonly server: string[]) {}
  of(i: number): string {
    const c = this.table.clientExtra[i]!;
    const s = this.table.serverExtra[i]!;
    if (c !== this.lastClient || s !== this.lastServer) {
      const ce = this.table.extras.values[c];
      const se = this.table.extras.values[s];
      let line = '';
      for (const n of this.client) line += `,${csvField(ce?.[n] ?? '')}`;
      for (const n of this.server) line += `,${csvField(se?.[n] ?? '')}`;
      this.text = line;
      this.lastClient = c;
      this.lastServer = s;
    }
    return this.text;
  }
}

function writeJoined(file: string, table: ClientTable, joined: number, runs: string[], clientExtra: string[], serverExtra: string[]): Float64Array {
  const names = extraNames(clientExtra, serverExtra);
  const out = new AtomicWriter(file);
  const offsets = new Float64Array(joined);
  let k = 0;
  try {
    out.write(`${csvRow([...JOIN_COLUMNS, ...names.client, ...names.server])}\n`);
    const rows = new ByteLines(out);
    const runField = runs.map((r) => Buffer.from(csvField(r), 'utf8'));
    const extras = clientExtra.length + serverExtra.length > 0 ? new ExtraColumns(table, clientExtra, serverExtra) : null;
    const words = table.index.words;
    for (let i = 0; i < table.index.size; i++) {
      if (table.matched[i] !== 1) continue;
      const send = table.sendTime[i]!;
      const recv = table.recvTime[i]!;
      offsets[k++] = recv - send;
      const run = runField[table.run[i]!]!;
      rows.uuidWords(words, i * 4).byte(44).bytes(run, 0, run.length).byte(44).int(table.sendSeq[i]!).byte(44).num(send).byte(44).num(recv)
        .byte(44).int(table.local[i]!).byte(44).int(table.dest[i]!).byte(44).int(table.external[i]!).byte(44).int(table.serverPort[i]!);
      if (extras) rows.utf8(extras.of(i));
      rows.end();
    }
    rows.flush();
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
  return offsets.sort();
}

async function joinCarrier(ctx: StageContext, manifest: IngestManifest, names: FileNames, carrier: string, joinedDir: string, summaryDir: string, bytePath: boolean): Promise<CarrierSummary> {
  const counts = manifest.carriers[carrier]!;
  const tally: Tally = { clientDuplicates: 0, serverRows: 0, joined: 0, strangers: 0, failedSeen: 0, serverDuplicates: 0, reordered: 0 };
  const throttle = new Throttle();
  const { table, runs } = await loadClient(ctx, carrier, names, counts, tally, throttle, bytePath);
  await streamServer(ctx, carrier, names, table, tally, throttle, bytePath);
  const offsets = writeJoined(path.join(joinedDir, `${names.stem(carrier)}.csv`), table, tally.joined, runs, counts.clientExtraColumns, counts.serverExtraColumns);
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

/**
 * Run the join stage for one campaign; needs the ingest stage's output. `bytePath: false`
 * reads every record through the string parser (for tests that both paths agree).
 */
export async function join(ctx: StageContext, opts: { bytePath?: boolean } = {}): Promise<{ summaries: CarrierSummary[]; outputs: string[] }> {
  const manifest = readManifest(ctx);
  const names = carrierNames(manifest);
  const joinedDir = derivedPath(ctx, 'joined');
  const summaryDir = derivedPath(ctx, 'summary');
  const summaries: CarrierSummary[] = [];
  await replaceDir(joinedDir, (jtmp) =>
    replaceDir(summaryDir, async (stmp) => {
      for (const carrier of Object.keys(manifest.carriers).sort()) summaries.push(await joinCarrier(ctx, manifest, names, carrier, jtmp, stmp, opts.bytePath ?? true));
    }),
  );
  return { summaries, outputs: [joinedDir, summaryDir] };
}
