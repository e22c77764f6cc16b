/**
 * ingest: stream every raw file of a campaign, validate each row against docs/design.md's
 * formats, write normalized copies under `derived/<campaign>/ingest/`, malformed rows
 * to `derived/<campaign>/rejects.csv`, and a manifest with every file's sha256 and
 * counts. Every line of every file lands in exactly one count: header, blank, data
 * row, control row (end markers) or reject.
 */
import fs from 'node:fs';
import path from 'node:path';
import { splitFields } from '../io/csv.ts';
import { readLineBytes } from '../io/byte-reader.ts';
import { ByteRow, clientBytes, serverBytes, type ByteRowHandler } from './ingest-bytes.ts';
import { InputError } from '../errors.ts';
import { fileHash, formatCount, silentLogger, Throttle, type StageContext } from '../context.ts';
import { FileNames } from '../io/names.ts';
import { readCampaign, type CampaignLayout, type CarrierLayout, type RawFile, type RunFile } from '../raw/layout.ts';
import { poolFor, threadsFor, type Pool } from '../threads.ts';
import {
  FORMATS, DOMAINS, END_MARKER, FileTimes, badMessageId, isUuid, mapColumns, parseBool, parseCount, parseDelay, parsePort, parseRate,
  type ColumnMap, type FileKind,
} from '../raw/formats.ts';
import { timeUnitWarnings, type CaptureTimes } from '../raw/time-units.ts';
import { INGEST_SCHEMA, MANIFEST, type CarrierIngest, type FileRecord, type IngestManifest } from '../contracts/manifest.ts';
import {
  CLIENT_ROWS, NAT_TYPE, SERVER_ROWS, TIMEOUT_ROWS, TRIAL_ROWS, type CaptureUnitNote, type ClientRow, type ClientRowWriter, type Extras, type ServerRow, type ServerRowWriter,
  type TimeoutRow, type TrialRow,
} from '../contracts/ingest-rows.ts';
import { UnitLedger } from '../units.ts';
import { MAX_RAW, REJECTS, type RejectRow } from '../contracts/rejects.ts';
import { OutputFolder, replaceFolder } from '../contracts/folder.ts';
import type { RowWriter } from '../contracts/rows.ts';
/** Longest line read (characters): a longer one is one rejects row, never held whole. */
export const MAX_LINE_LENGTH = 65_536;

export interface IngestResult {
  manifest: IngestManifest;
  outputs: string[];
  /** Rows the byte path read (stages/ingest-bytes.ts); the rest took the string path. */
  byteRows: number;
}

export interface IngestOptions {
  /** Offer capture rows to the byte path first (default); off, every line takes the string path (tests compare the two). */
  bytePath?: boolean;
  /**
   * Worker threads reading raw capture files. Default: 2 (at most the machine's cores)
   * when the campaign's capture files reach WORKER_MIN_BYTES, else none (the main thread
   * reads them: a worker costs about a second to boot). Outputs do not depend on it.
   */
  workers?: number;
}

/**
 * Capture bytes from which ingest reads them on worker threads. Booting a worker costs
 * about a second of CPU (tsx compiles the ingest modules again); at 1M packets (140 MB)
 * on a loaded 2-core machine two workers measured slower than the main thread alone
 * (ingest 4.2-4.7 s against 3.3-3.5 s), so only campaigns well past that use them.
 */
export const WORKER_MIN_BYTES = 256 << 20;

/** Called for each valid data row with its fields mapped; returns a reason to reject or a normalized row. */
type RowHandler = (fields: string[], lineNo: number) => string | { row: string; control?: boolean };

class Rejects {
  count = 0;
  constructor(private readonly sink: (row: RejectRow) => void) {}
  add(file: string, line: number, reason: string, raw: string): void {
    this.count += 1;
    this.sink({ file, line, reason, raw });
  }
}

/** What reading one file needs: where its rejects go, progress, and the byte path switch. */
interface ReadState {
  ctx: StageContext;
  rejects: Rejects;
  throttle: Throttle;
  rowsDone: number;
  byteRows: number;
  bytePath: boolean;
  filesDone: number;
  filesTotal: number;
}

interface IngestState extends ReadState {
  /** Per raw capture file reuse (issue 13 item 3): an unchanged file's columns and note are carried over. */
  ledger: UnitLedger;
}

function extrasOf(map: ColumnMap, fields: string[]): Extras {
  if (map.extras.length === 0) return null;
  // Column names are data: a column called __proto__ must stay a column.
  const obj = Object.create(null) as Record<string, string>;
  for (const e of map.extras) obj[e.name] = fields[e.index]!;
  return obj;
}

/**
 * Stream one file, dispatching its header, blank lines, rows and rejects. With
 * `makeBytes`, rows after the header are first offered to its byte path
 * (stages/ingest-bytes.ts); what it declines comes here as text.
 */
async function ingestFile(
  state: ReadState, file: RawFile, kind: FileKind, carrier: string | null, run: string | null,
  makeHandler: (map: ColumnMap) => RowHandler, makeBytes?: (map: ColumnMap) => ByteRowHandler, sha256?: string,
): Promise<FileRecord> {
  const record: FileRecord = {
    path: file.rel, sha256: '', kind, carrier, run, lines: 0, header: false, blank: 0, rows: 0, control: 0, rejected: 0, extraColumns: [],
  };
  const shaPromise = sha256 ?? fileHash(state.ctx, file.abs);
  let map: ColumnMap | null = null;
  let handle: RowHandler | null = null;
  let bytes: ByteRowHandler | null = null;
  const reject = (line: number, reason: string, raw: string) => {
    record.rejected += 1;
    state.rejects.add(file.rel, line, reason, raw);
  };
  const capture = kind === 'client' || kind === 'server';
  const overlong = (head: string, length: number, lineNo: number) =>
    reject(lineNo, `line is ${length} characters long, over the limit of ${MAX_LINE_LENGTH}; not read`, head);
  const counted = (control: boolean) => {
    if (control) record.control += 1;
    else record.rows += 1;
    state.rowsDone += 1;
    if (state.throttle.due()) {
      state.ctx.log.progress(`ingest ${state.ctx.campaign}: ${formatCount(state.rowsDone)} rows (${state.throttle.rate(state.rowsDone)}), ${state.filesDone}/${state.filesTotal} files`);
    }
  };
  const onBytes = (buf: Buffer, start: number, end: number, lineNo: number): boolean => {
    const r = bytes === null ? ByteRow.Declined : bytes(buf, start, end, lineNo);
    if (r === ByteRow.Declined) return false;
    counted(r === ByteRow.Control);
    state.byteRows += 1;
    return true;
  };
  record.lines = await readLineBytes(file.abs, onBytes, (line, lineNo) => {
    if (line.trim().length === 0) {
      record.blank += 1;
      return;
    }
    const fields = splitFields(line);
    if (fields === null) {
      reject(lineNo, 'unterminated quote', line);
      return;
    }
    // An end marker is a control row whatever its shape (README): a malformed one is kept nowhere.
    const marker = capture && fields[0] === END_MARKER;
    if (marker && (map === null ? fields.length < FORMATS[kind].columns.length : fields.length !== map.width)) {
      record.control += 1;
      return;
    }
    if (map === null) {
      const mapped = mapColumns(FORMATS[kind], fields);
      if (typeof mapped === 'string') throw new InputError(file.rel, lineNo, mapped);
      map = mapped;
      handle = makeHandler(map);
      bytes = state.bytePath ? (makeBytes?.(map) ?? null) : null;
      record.extraColumns = map.extras.map((e) => e.name);
      if (map.hasHeader) {
        record.header = true;
        return;
      }
    }
    if (fields.length !== map.width && !(kind === 'trials' && fields.length === map.width - 1 && trialsOptionalLast(map))) {
      const id = fields[0] ?? '';
      reject(lineNo, capture && !isUuid(id) ? badMessageId(fields) : `expected ${map.width} columns, got ${fields.length}`, line);
      return;
    }
    const out = handle!(fields, lineNo);
    if (typeof out === 'string') {
      reject(lineNo, out, line);
      return;
    }
    counted(out.control === true);
  }, { maxLineLength: MAX_LINE_LENGTH, onOverlong: overlong });
  record.sha256 = await shaPromise;
  state.filesDone += 1;
  return record;
}

function clientHandler(out: ClientRowWriter, counts: CarrierIngest, times: FileTimes): (map: ColumnMap) => RowHandler {
  return (map) => {
    const [iId, iTime, iLocal, iDest, iStatus] = map.known as [number, number, number, number, number];
    // One row object per file, refilled per row: no garbage for millions of rows.
    const row: ClientRow = { run: '', line: 0, uuid: '', time: 0, localPort: 0, destPort: 0, status: 'S', extra: null };
    return (f, lineNo) => {
      const id = f[iId]!;
      if (id === END_MARKER) return { row: '', control: true };
      if (!isUuid(id)) return badMessageId(f);
      const time = times.parse(f[iTime]!, lineNo);
      if (typeof time === 'string') return time;
      const local = parsePort(f[iLocal]!, 'sender port', true);
      if (typeof local === 'string') return local;
      const dest = parsePort(f[iDest]!, 'receiver port');
      if (typeof dest === 'string') return dest;
      const status = f[iStatus]!.toUpperCase();
      if (status !== 'S' && status !== 'F') return `success ${JSON.stringify(f[iStatus])} is not S or F`;
      if (status === 'S') counts.sent += 1;
      else counts.failed += 1;
      counts.clientRows += 1;
      row.line = lineNo;
      row.uuid = id.toLowerCase();
      row.time = time;
      row.localPort = local;
      row.destPort = dest;
      row.status = status;
      row.extra = extrasOf(map, f);
      out.write(row);
      return { row: '' };
    };
  };
}

function serverHandler(out: ServerRowWriter, counts: CarrierIngest, times: FileTimes): (map: ColumnMap) => RowHandler {
  return (map) => {
    const [iId, iTime, iExt, iPort] = map.known as [number, number, number, number];
    const row: ServerRow = { run: '', line: 0, kind: 'packet', uuid: '', time: 0, externalPort: 0, serverPort: 0, extra: null };
    return (f, lineNo) => {
      const id = f[iId]!;
      const marker = id === END_MARKER;
      if (!marker && !isUuid(id)) return badMessageId(f);
      const time = times.parse(f[iTime]!, lineNo);
      const ext = parsePort(f[iExt]!, 'sender port');
      const port = parsePort(f[iPort]!, 'receiver port');
      // A marker's ports are observations when readable; an unreadable marker is still a control row.
      if (typeof time === 'string' || typeof ext === 'string' || typeof port === 'string') {
        return marker ? { row: '', control: true } : [time, ext, port].find((v) => typeof v === 'string') ?? '';
      }
      if (!marker) counts.serverRows += 1;
      row.line = lineNo;
      row.kind = marker ? 'end-marker' : 'packet';
      row.uuid = marker ? '' : id.toLowerCase();
      row.time = time;
      row.externalPort = ext;
      row.serverPort = port;
      row.extra = extrasOf(map, f);
      out.write(row);
      return { row: '', control: marker };
    };
  };
}

function timeoutHandler(out: RowWriter<TimeoutRow>, file: string, counts: CarrierIngest): (map: ColumnMap) => RowHandler {
  return (map) => {
    const [iId, iKind, iDelay, iReplied] = map.known as [number, number, number, number];
    return (f, lineNo) => {
      const id = f[iId]!;
      if (id.length === 0) return 'probe_id is empty';
      const kind = f[iKind]!.toLowerCase();
      if (kind !== 'wait' && kind !== 'idle') return `kind ${JSON.stringify(f[iKind])} is not wait or idle`;
      const delay = parseDelay(f[iDelay]!, 'delay_s');
      if (typeof delay === 'string') return delay;
      const replied = parseBool(f[iReplied]!, 'replied');
      if (typeof replied === 'string') return replied;
      counts.timeoutProbes += 1;
      out.write({ file, line: lineNo, probeId: id, kind, delayS: delay, replied });
      return { row: '' };
    };
  };
}

/** A trials row may leave out its last field when the header's last column is an optional one (packets or rate_pps). */
function trialsOptionalLast(map: ColumnMap): boolean {
  const required = FORMATS.trials.columns.length - FORMATS.trials.optional;
  return map.known.slice(required).includes(map.width - 1);
}

function trialsHandler(out: RowWriter<TrialRow>, file: string): (map: ColumnMap) => RowHandler {
  return (map) => {
    const [iA, iB, iStrategy, iTrial, iOutcome, iPackets, iRate] = map.known as [number, number, number, number, number, number, number];
    return (f, lineNo) => {
      const a = f[iA]!;
      const b = f[iB]!;
      if (a.length === 0 || b.length === 0) return 'carrier_a and carrier_b must both be named';
      const strategy = f[iStrategy]!.toLowerCase();
      if (strategy !== 'naive' && strategy !== 'biased') return `strategy ${JSON.stringify(f[iStrategy])} is not naive or biased`;
      const trial = parseCount(f[iTrial]!, 'trial', DOMAINS.maxTrial);
      if (typeof trial === 'string') return trial;
      const outcome = f[iOutcome]!.toUpperCase();
      if (outcome !== 'S' && outcome !== 'F') return `outcome ${JSON.stringify(f[iOutcome])} is not S or F`;
      const packetsField = iPackets >= 0 ? (f[iPackets] ?? '') : '';
      const packets = packetsField.length > 0 ? parseCount(packetsField, 'packets', DOMAINS.maxTrialPackets) : null;
      if (typeof packets === 'string') return packets;
      const rateField = iRate >= 0 ? (f[iRate] ?? '') : '';
      const ratePps = rateField.length > 0 ? parseRate(rateField, 'rate_pps') : null;
      if (typeof ratePps === 'string') return ratePps;
      out.write({ file, line: lineNo, a, b, strategy, trial, outcome, packets, ratePps });
      return { row: '' };
    };
  };
}

function emptyCounts(): CarrierIngest {
  return {
    runs: [], clientRows: 0, failed: 0, sent: 0, serverRows: 0, control: 0, rejected: 0, timeoutProbes: 0, natType: false,
    clientExtraColumns: [], serverExtraColumns: [],
  };
}

function union(into: string[], more: string[]): void {
  for (const m of more) if (!into.includes(m)) into.push(m);
}

/** Every row writer of the folder being built; all committed or all aborted together. */
class Outputs {
  private readonly writers: RowWriter<never>[] = [];
  constructor(readonly folder: OutputFolder) {}
  add<W extends RowWriter<never>>(w: W): W {
    this.writers.push(w);
    return w;
  }
  commit(): void {
    for (const w of this.writers) w.commit();
  }
  abort(): void {
    for (const w of this.writers) w.abort();
  }
}

/** The counts a capture file adds to its carrier's (what its handlers count). */
function addCounts(into: CarrierIngest, more: CaptureUnitNote['counts']): void {
  into.clientRows += more.clientRows;
  into.failed += more.failed;
  into.sent += more.sent;
  into.serverRows += more.serverRows;
}

/** One raw capture file to read into its column file and note: plain data, so a worker thread can take it. */
export interface CaptureJob {
  abs: string;
  rel: string;
  side: 'client' | 'server';
  carrier: string;
  run: string;
  sha256: string;
  bytePath: boolean;
  /** The ingest folder being built, and the unit's place in it (contracts/ingest-rows.ts unitFiles). */
  folderDir: string;
  stem: string;
  runStem: string;
}

export interface CaptureRead {
  note: CaptureUnitNote;
  byteRows: number;
}

/**
 * Read one raw capture file into its column file and write its unit note (the manifest
 * record, rejects, counts and time-unit evidence): everything ingest takes from the file
 * comes back through the note, whether it was read now, on a worker, or carried over.
 * `ctx` only serves progress lines (workers pass none).
 */
export async function readCapture(job: CaptureJob, ctx: StageContext | null = null): Promise<CaptureRead> {
  const folder = new OutputFolder('ingest', job.folderDir);
  const rejects: RejectRow[] = [];
  // The rejects writer cuts raw at MAX_RAW (adding "..."); one more character keeps that cut the same when the note is replayed.
  const sink = (r: RejectRow) => rejects.push({ ...r, raw: r.raw.slice(0, MAX_RAW + 1) });
  const state: ReadState = {
    ctx: ctx ?? { campaign: '', paths: { raw: '', derived: '', reports: '' }, log: silentLogger },
    rejects: new Rejects(sink), throttle: new Throttle(), rowsDone: 0, byteRows: 0, bytePath: job.bytePath, filesDone: 0, filesTotal: 1,
  };
  const own = emptyCounts();
  const times = new FileTimes();
  const file: RunFile = { abs: job.abs, rel: job.rel, run: job.run };
  let record: FileRecord;
  if (job.side === 'client') {
    const out = CLIENT_ROWS.open(folder, job.stem, job.runStem, job.run);
    record = await writeCapture(out, () => ingestFile(state, file, 'client', job.carrier, job.run, clientHandler(out, own, times), (map) => clientBytes(map, out, own, times), job.sha256));
  } else {
    const out = SERVER_ROWS.open(folder, job.stem, job.runStem, job.run);
    record = await writeCapture(out, () => ingestFile(state, file, 'server', job.carrier, job.run, serverHandler(out, own, times), (map) => serverBytes(map, out, own, times), job.sha256));
  }
  const note: CaptureUnitNote = {
    record, rejects, counts: { clientRows: own.clientRows, failed: own.failed, sent: own.sent, serverRows: own.serverRows }, times: { counts: { ...times.counts }, first: times.first },
  };
  await (job.side === 'client' ? CLIENT_ROWS : SERVER_ROWS).writeNote(folder, job.stem, job.runStem, note);
  return { note, byteRows: state.byteRows };
}

/** Read a file into `out`, committing its column file only when the whole file was read. */
async function writeCapture(out: ClientRowWriter | ServerRowWriter, read: () => Promise<FileRecord>): Promise<FileRecord> {
  try {
    const record = await read();
    out.commit();
    return record;
  } catch (e) {
    out.abort();
    throw e;
  }
}

/** A capture file's unit: its ledger key and how its note comes (carried over: null; else the read, perhaps already running on a worker). */
interface PlannedCapture {
  job: CaptureJob;
  key: string;
  read: (() => Promise<CaptureRead>) | null;
}

/**
 * Every capture file of the campaign in ingest's order, each carried over when its key
 * (the raw file's sha256, where its output goes, ingest's code) is unchanged, else handed
 * to `pool` at once (reads overlap the hashing of the next files) or left for the main
 * thread to read when its turn comes.
 */
async function planCaptures(state: IngestState, layout: CampaignLayout, names: FileNames, folder: OutputFolder, pool: Pool | null): Promise<PlannedCapture[]> {
  const plan: PlannedCapture[] = [];
  for (const carrier of layout.carriers) {
    const stem = names.stem(carrier.name);
    for (const side of ['client', 'server'] as const) {
      const runNames = (side === 'client' ? CLIENT_ROWS : SERVER_ROWS).runNames(carrier[side].map((f) => f.run));
      for (const f of carrier[side]) {
        const sha256 = await fileHash(state.ctx, f.abs);
        const job: CaptureJob = {
          abs: f.abs, rel: f.rel, side, carrier: carrier.name, run: f.run, sha256, bytePath: state.bytePath, folderDir: folder.dir, stem, runStem: runNames.stem(f.run),
        };
        const key = state.ledger.key({ sha256, side, carrier: carrier.name, stem, runStem: job.runStem, run: f.run, rel: f.rel });
        let read: PlannedCapture['read'] = null;
        if (!(await state.ledger.reuse(f.rel, key, [folder]))) {
          if (pool) {
            const running = pool.run<CaptureRead>(job);
            running.catch(() => {}); // awaited in order later; a failure is reported there
            read = () => running;
          } else {
            read = () => readCapture(job, state.ctx);
          }
        }
        plan.push({ job, key, read });
      }
    }
  }
  return plan;
}

/** Take one capture file's note into the campaign: its rejects in file order, counts, time units; record a newly read unit in the ledger. */
async function applyCapture(state: IngestState, p: PlannedCapture, folder: OutputFolder, counts: CarrierIngest, times: FileTimes): Promise<FileRecord> {
  const rows = p.job.side === 'client' ? CLIENT_ROWS : SERVER_ROWS;
  let note: CaptureUnitNote;
  if (p.read === null) {
    note = rows.readNote(folder, p.job.stem, p.job.runStem);
  } else {
    const read = await p.read();
    note = read.note;
    state.byteRows += read.byteRows;
    const unitFiles = rows.unitFiles(p.job.stem, p.job.runStem);
    await state.ledger.record(p.job.rel, p.key, [{ out: folder, rel: unitFiles.columns }, { out: folder, rel: unitFiles.note }]);
  }
  for (const r of note.rejects) state.rejects.add(r.file, r.line, r.reason, r.raw);
  addCounts(counts, note.counts);
  Object.assign(times.counts, note.times.counts);
  times.first = note.times.first as FileTimes['first'];
  state.rowsDone += note.record.rows + note.record.control;
  state.filesDone += 1;
  return note.record;
}

async function ingestCarrier(state: IngestState, carrier: CarrierLayout, plan: PlannedCapture[], files: FileRecord[], outs: Outputs, names: FileNames): Promise<CarrierIngest> {
  const counts = emptyCounts();
  const stem = names.stem(carrier.name);
  const captureTimes: CaptureTimes[] = [];
  for (const p of plan.filter((x) => x.job.carrier === carrier.name)) {
    const times = new FileTimes();
    const rec = await applyCapture(state, p, outs.folder, counts, times);
    union(p.job.side === 'client' ? counts.clientExtraColumns : counts.serverExtraColumns, rec.extraColumns);
    counts.control += rec.control;
    captureTimes.push({ rel: p.job.rel, side: p.job.side, run: p.job.run, times });
    files.push(rec);
  }
  for (const w of timeUnitWarnings(captureTimes)) state.ctx.log.warn(w);
  counts.runs = [...new Set([...carrier.client, ...carrier.server].map((f) => f.run))];
  if (carrier.timeouts.length > 0) {
    const timeouts = outs.add(TIMEOUT_ROWS.open(outs.folder, stem));
    for (const f of carrier.timeouts) files.push(await ingestFile(state, f, 'timeouts', carrier.name, null, timeoutHandler(timeouts, f.rel, counts)));
  }
  if (carrier.natType) {
    const rec = await ingestNatType(state, carrier.natType, carrier.name, outs.folder, stem);
    counts.natType = rec.rows === 1;
    files.push(rec);
  }
  counts.rejected = files.filter((f) => f.carrier === carrier.name).reduce((s, f) => s + f.rejected, 0);
  return counts;
}

async function ingestNatType(state: IngestState, file: RawFile, carrier: string, out: OutputFolder, stem: string): Promise<FileRecord> {
  const text = fs.readFileSync(file.abs, 'utf8');
  const record: FileRecord = {
    path: file.rel, sha256: await fileHash(state.ctx, file.abs), kind: 'nat-type', carrier, run: null,
    lines: text.split('\n').length, header: false, blank: 0, rows: 0, control: 0, rejected: 0, extraColumns: [],
  };
  try {
    const value = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('expected a JSON object');
    await NAT_TYPE.write(out, stem, { ...value });
    record.rows = 1;
  } catch (e) {
    record.rejected = 1;
    state.rejects.add(file.rel, 1, `not a readable nat-type.json: ${(e as Error).message}`, text.slice(0, MAX_RAW));
  }
  return record;
}

/** Run the ingest stage for one campaign. */
export async function ingest(ctx: StageContext, opts: IngestOptions = {}): Promise<IngestResult> {
  const layout = readCampaign(ctx.paths.raw, ctx.campaign);
  for (const c of layout.carriers) {
    for (const u of c.unknown) ctx.log.warn(`${u.rel}: not a natatlas input (expected client-*.csv, server-*.csv, timeouts*.csv, nat-type.json); ignored`);
    const serverRuns = new Set(c.server.map((f) => f.run));
    for (const f of c.client) {
      if (!serverRuns.has(f.run)) ctx.log.warn(`${f.rel}: no server-${f.run}.csv beside it; packets of that run that reached no other server file count as lost`);
    }
  }
  const files: FileRecord[] = [];
  // Carrier names are data: a carrier called __proto__ must stay a carrier.
  const carriers = Object.create(null) as Record<string, CarrierIngest>;
  const names = new FileNames(layout.carriers.map((c) => c.name), 'carrier');
  const filesTotal = layout.trials.length + layout.carriers.reduce((s, c) => s + c.client.length + c.server.length + c.timeouts.length + (c.natType ? 1 : 0), 0);
  const { writer: rejectsWriter, file: rejectsFile } = REJECTS.open(ctx);
  const state: IngestState = { ctx, rejects: new Rejects((r) => rejectsWriter.write(r)), throttle: new Throttle(), rowsDone: 0, byteRows: 0, bytePath: opts.bytePath ?? true, filesDone: 0, filesTotal,
    ledger: UnitLedger.open(ctx, 'ingest', new URL('./ingest.ts', import.meta.url)),
  };
  let trials = { rows: 0, rejected: 0 };
  let manifest: IngestManifest | undefined;
  let dir: string;
  try {
    dir = await replaceFolder(ctx, 'ingest', async (folder) => {
      const outs = new Outputs(folder);
      const captureBytes = layout.carriers.reduce((s, c) => s + [...c.client, ...c.server].reduce((t, f) => t + fs.statSync(f.abs).size, 0), 0);
      const workers = opts.workers ?? (captureBytes >= WORKER_MIN_BYTES ? threadsFor(2) : 0);
      const pool = workers > 1 ? poolFor(new URL('./ingest-worker.ts', import.meta.url), workers) : null;
      let plan: PlannedCapture[] = [];
      try {
        plan = await planCaptures(state, layout, names, folder, pool);
        for (const carrier of layout.carriers) carriers[carrier.name] = await ingestCarrier(state, carrier, plan, files, outs, names);
        if (layout.trials.length > 0) {
          const out = outs.add(TRIAL_ROWS.open(folder));
          for (const f of layout.trials) {
            const rec = await ingestFile(state, f, 'trials', null, null, trialsHandler(out, f.rel));
            trials = { rows: trials.rows + rec.rows, rejected: trials.rejected + rec.rejected };
            files.push(rec);
          }
        }
        outs.commit();
      } catch (e) {
        outs.abort();
        // Workers may still be writing into the folder: let them finish before it is removed.
        if (pool) await Promise.allSettled(plan.map((p) => p.read?.()));
        throw e;
      } finally {
        await pool?.close();
      }
      manifest = { schema: INGEST_SCHEMA, campaign: ctx.campaign, files, carriers, trials, rejected: state.rejects.count };
      await MANIFEST.write(folder, manifest);
    });
    rejectsWriter.commit();
  } catch (e) {
    rejectsWriter.abort();
    throw e;
  }
  await state.ledger.save();
  const { reused } = state.ledger.counts;
  ctx.log.info(`ingest ${ctx.campaign}: ${layout.carriers.length} carriers, ${files.length} files${reused > 0 ? ` (${reused} capture files unchanged, carried over)` : ''}, ${formatCount(state.rowsDone)} rows, ${formatCount(state.rejects.count)} rejected (${path.relative(process.cwd(), rejectsFile)})`);
  return { manifest: manifest!, outputs: [dir, rejectsFile], byteRows: state.byteRows };
}
