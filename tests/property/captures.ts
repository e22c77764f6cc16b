/**
 * Generated capture campaigns for the property tests. A campaign is first an abstract
 * description of every line of every file (a send, a receipt, an end marker, a row
 * known to be bad and why, a blank line), then rendered with the surface variety real
 * captures have: header spellings and column orders, extra columns, headerless files,
 * quoted fields, CRLF, a BOM, upper-case UUIDs, spacing, shuffled lines, a missing final
 * newline. `expectedCounts` counts the description by README's rules without calling
 * any pipeline code, so the pipeline's counts are checked against an independent answer.
 */
import fc from 'fast-check';

/** UUIDs come from a small pool so that runs and carriers reuse them. */
export const POOL = 40;

/** The i-th UUID of the pool (hex letters in it, so case matters when it is upper-cased). */
export function uuidOf(i: number): string {
  return `${(i + 1).toString(16).padStart(8, '0')}-7a1e-4c2b-9d3f-${((i + 1) * 104729).toString(16).padStart(12, '0')}`;
}

const T0 = 1_700_000_000_000;

/** Why a row is bad; each kind is a reject by README's formats whatever else the row holds. */
export type JunkKind = 'few' | 'many' | 'badId' | 'badTime' | 'badPort' | 'badStatus' | 'unterminated' | 'commaInQuote' | 'serverLog';

export interface Junk {
  kind: 'junk';
  junk: JunkKind;
  /** Picks the variant of the junk (which bad value, which field). */
  pick: number;
  key: number;
}
export interface Blank {
  kind: 'blank';
  text: '' | '  ' | '\t';
  key: number;
}
/** How a good row is written: which fields are quoted (bit mask), upper-case UUID, spacing. */
export interface Look {
  quote: number;
  upper: boolean;
  spaced: boolean;
}
export interface Send {
  kind: 'send';
  uuid: number;
  status: 'S' | 'F' | 's' | 'f';
  time: number;
  local: number;
  dest: number;
  look: Look;
  key: number;
}
export interface Recv {
  kind: 'recv';
  uuid: number;
  time: number;
  ext: number;
  port: number;
  look: Look;
  key: number;
}
export interface End {
  kind: 'end';
  time: number;
  port: number;
  look: Look;
  key: number;
}
export type Line = Send | Recv | End | Junk | Blank;

/** A file's header: spelling, column order (a permutation of known + extra columns) or none. */
export interface Layout {
  spelling: 0 | 1 | 2;
  /** Column indices in file order; indices past the format's columns are extras. */
  order: number[];
  headerless: boolean;
}
export interface FileStyle {
  crlf: boolean;
  bom: boolean;
  finalEol: boolean;
  leadingBlanks: number;
}
export interface CaptureFile {
  kind: 'client' | 'server';
  layout: Layout;
  style: FileStyle;
  lines: Line[];
}
export interface ProbeRow {
  kind: 'probe';
  id: string;
  wait: boolean;
  delay: number;
  replied: string;
  key: number;
}
export interface TableFile {
  kind: 'timeouts' | 'trials';
  layout: Layout;
  style: FileStyle;
  lines: (ProbeRow | TrialRow | Junk | Blank)[];
}
export interface TrialRow {
  kind: 'trial';
  a: number;
  b: number;
  strategy: string;
  trial: number;
  outcome: string;
  packets: number | null;
  key: number;
}
export interface Run {
  run: number;
  client: CaptureFile | null;
  server: CaptureFile | null;
}
export interface Carrier {
  name: string;
  runs: Run[];
  timeouts: TableFile | null;
}
export interface Campaign {
  carriers: Carrier[];
  trials: TableFile | null;
}

// ---------------------------------------------------------------- rendering

const COLUMNS = {
  client: ['Message id', 'Time', 'Sender Port', 'Receiver Port', 'Success'],
  server: ['Message id', 'Time', 'Sender Port', 'Receiver Port'],
  timeouts: ['probe_id', 'kind', 'delay_s', 'replied'],
  trials: ['carrier_a', 'carrier_b', 'strategy', 'trial', 'outcome', 'packets'],
} as const;
const EXTRAS = { client: ['Network'], server: ['Sender IP', 'Sender Interface'], timeouts: ['note'], trials: ['note'] } as const;
const EXTRA_VALUES = { client: ['LTE'], server: ['198.51.100.7', 'eth0'], timeouts: ['lab'], trials: ['lab'] } as const;

function spell(name: string, spelling: number): string {
  if (spelling === 1) return name.toLowerCase().replace(/ /g, '_');
  if (spelling === 2) return ` ${name.toUpperCase()} `;
  return name;
}

function columnsOf(kind: keyof typeof COLUMNS, layout: Layout): string[] {
  const all = [...COLUMNS[kind], ...EXTRAS[kind]];
  return layout.order.map((i) => spell(all[i]!, layout.spelling));
}

/** A row's values in format order (known columns, then extras), as the file's layout orders them. */
function ordered(kind: keyof typeof COLUMNS, layout: Layout, known: string[]): string[] {
  const all = [...known, ...EXTRA_VALUES[kind]];
  return layout.order.map((i) => all[i]!);
}

function join(values: string[], look: Look | null): string {
  const q = look?.quote ?? 0;
  return values.map((v, i) => ((q >> i) & 1 ? `"${v}"` : v)).join(look?.spaced === false ? ',' : ', ');
}

function knownValues(line: Send | Recv | End, kind: 'client' | 'server'): string[] {
  if (line.kind === 'send') {
    const id = line.look.upper ? uuidOf(line.uuid).toUpperCase() : uuidOf(line.uuid);
    return [id, String(line.time), String(line.local), String(line.dest), line.status];
  }
  if (line.kind === 'recv') {
    const id = line.look.upper ? uuidOf(line.uuid).toUpperCase() : uuidOf(line.uuid);
    return [id, String(line.time), String(line.ext), String(line.port)];
  }
  return kind === 'client'
    ? ['END OF MESSAGE', String(line.time), String(line.port), '5000', 'S']
    : ['END OF MESSAGE', String(line.time), String(line.port), '5000'];
}

/** A good row of the file's kind to corrupt into junk. */
function baseRow(kind: keyof typeof COLUMNS, pick: number): string[] {
  switch (kind) {
    case 'client': return [uuidOf(pick % POOL), String(T0 + pick), '40000', '5000', 'S'];
    case 'server': return [uuidOf(pick % POOL), String(T0 + pick), '50000', '5000'];
    case 'timeouts': return [`j${pick}`, 'wait', '30', 'true'];
    case 'trials': return ['A', 'B', 'naive', String(pick), 'S', '100'];
  }
}

/** Render a junk row: a good row of the file's kind with the one defect its kind names. */
function renderJunk(kind: keyof typeof COLUMNS, layout: Layout, j: Junk): string {
  const values = ordered(kind, layout, baseRow(kind, j.pick));
  const at = (name: number) => layout.order.indexOf(name);
  const width = values.length;
  const v = j.pick;
  switch (j.junk) {
    case 'few':
      // Trials may omit a trailing packets column; two fewer is always short.
      return values.slice(0, kind === 'trials' ? -2 : -1).join(', ');
    case 'many':
      return [...values, 'surplus'].join(', ');
    case 'badId': {
      const bad = kind === 'client' || kind === 'server'
        ? ['not-a-uuid', uuidOf(v % POOL).slice(1), uuidOf(v % POOL).replace(/a/, 'g'), ''][v % 4]!
        : '';
      values[at(0)] = bad;
      if (kind === 'trials') values[at(1)] = '';
      return values.join(', ');
    }
    case 'badTime': {
      const col = kind === 'client' || kind === 'server' ? 1 : kind === 'timeouts' ? 2 : 3;
      values[at(col)] = ['abc', '-5', '', '12:00:01', 'NaN', '1e400'][v % 6]!;
      return values.join(', ');
    }
    case 'badPort': {
      const col = kind === 'client' || kind === 'server' ? 2 + (v % 2) : kind === 'timeouts' ? 3 : 5;
      // Trials' column here is packets, where 70000 is a fine count.
      values[at(col)] = kind === 'trials' ? ['-1', 'x', '1.5'][v % 3]! : ['70000', '-1', 'x', '1.5', '65536'][v % 5]!;
      return values.join(', ');
    }
    case 'badStatus': {
      const col = kind === 'client' ? 4 : kind === 'timeouts' ? 1 : kind === 'trials' ? 2 + 2 * (v % 2) : 0;
      values[at(col)] = ['X', '', 'OK', 'SS'][v % 4]!;
      return values.join(', ');
    }
    case 'unterminated': {
      const col = v % width;
      values[col] = `"${values[col]}`;
      return values.join(', ');
    }
    case 'commaInQuote': {
      const col = kind === 'client' || kind === 'server' ? 1 : kind === 'timeouts' ? 2 : 3;
      values[at(col)] = `"${v},5"`;
      return values.join(', ');
    }
    case 'serverLog':
      return `Failed, to, launch, ${1000 + v}`;
  }
}

function renderCapture(file: CaptureFile): string {
  const lines: string[] = [];
  for (let i = 0; i < file.style.leadingBlanks; i++) lines.push('');
  if (!file.layout.headerless) lines.push(columnsOf(file.kind, file.layout).join(file.style.crlf ? ',' : ', '));
  for (const line of file.lines) {
    if (line.kind === 'blank') lines.push(line.text);
    else if (line.kind === 'junk') lines.push(renderJunk(file.kind, file.layout, line));
    else lines.push(join(ordered(file.kind, file.layout, knownValues(line, file.kind)), line.look));
  }
  return finish(lines, file.style);
}

function renderTable(file: TableFile, carriers: string[]): string {
  const lines: string[] = [];
  for (let i = 0; i < file.style.leadingBlanks; i++) lines.push('');
  lines.push(columnsOf(file.kind, file.layout).join(','));
  for (const line of file.lines) {
    if (line.kind === 'blank') lines.push(line.text);
    else if (line.kind === 'junk') lines.push(renderJunk(file.kind, file.layout, line));
    else if (line.kind === 'probe') lines.push(ordered('timeouts', file.layout, [line.id, line.wait ? 'wait' : 'IDLE', String(line.delay), line.replied]).join(','));
    else {
      const values = ordered('trials', file.layout, [carriers[line.a % carriers.length]!, carriers[line.b % carriers.length]!, line.strategy, String(line.trial), line.outcome, line.packets === null ? '' : String(line.packets)]);
      lines.push(values.join(','));
    }
  }
  return finish(lines, file.style);
}

function finish(lines: string[], style: FileStyle): string {
  const eol = style.crlf ? '\r\n' : '\n';
  return `${style.bom ? '\uFEFF' : ''}${lines.join(eol)}${style.finalEol ? eol : ''}`;
}

/** Every file of the campaign, by path under the raw root. */
export function renderCampaign(c: Campaign, campaign = 'camp', runName: (run: number) => string = String): Record<string, string> {
  const files: Record<string, string> = {};
  for (const carrier of c.carriers) {
    for (const r of carrier.runs) {
      if (r.client) files[`${campaign}/${carrier.name}/client-${runName(r.run)}.csv`] = renderCapture(r.client);
      if (r.server) files[`${campaign}/${carrier.name}/server-${runName(r.run)}.csv`] = renderCapture(r.server);
    }
    if (carrier.timeouts) files[`${campaign}/${carrier.name}/timeouts.csv`] = renderTable(carrier.timeouts, []);
  }
  if (c.trials) files[`${campaign}/trials.csv`] = renderTable(c.trials, c.carriers.map((x) => x.name));
  return files;
}

// ---------------------------------------------------------------- the independent count

export interface FileCounts {
  lines: number;
  header: boolean;
  blank: number;
  rows: number;
  control: number;
  rejected: number;
  /** Line numbers (1-based) of the rejected rows. */
  rejectLines: number[];
}

function classify(line: Line | ProbeRow | TrialRow): 'row' | 'control' | 'reject' | 'blank' {
  if (line.kind === 'blank') return 'blank';
  if (line.kind === 'junk') return 'reject';
  if (line.kind === 'end') return 'control';
  return 'row';
}

/**
 * Per-file counts. A line is text ended by a newline, or text after the last newline
 * when there is any: an empty last line without a newline after it is no line at all.
 */
function countsOf(file: CaptureFile | TableFile): FileCounts {
  const header = !(file.layout.headerless && (file.kind === 'client' || file.kind === 'server'));
  const all: { cls: 'header' | 'row' | 'control' | 'reject' | 'blank'; empty: boolean }[] = [];
  for (let i = 0; i < file.style.leadingBlanks; i++) all.push({ cls: 'blank', empty: true });
  if (header) all.push({ cls: 'header', empty: false });
  for (const l of file.lines) all.push({ cls: classify(l), empty: l.kind === 'blank' && l.text === '' });
  if (!file.style.finalEol && all.length > 0 && all.at(-1)!.empty) all.pop();
  const out: FileCounts = { lines: all.length, header, blank: 0, rows: 0, control: 0, rejected: 0, rejectLines: [] };
  all.forEach((l, i) => {
    if (l.cls === 'blank') out.blank += 1;
    else if (l.cls === 'row') out.rows += 1;
    else if (l.cls === 'control') out.control += 1;
    else if (l.cls === 'reject') {
      out.rejected += 1;
      out.rejectLines.push(i + 1);
    }
  });
  return out;
}

export interface CarrierExpectation {
  counts: {
    clientRows: number; failed: number; sent: number; clientDuplicates: number;
    serverRows: number; joined: number; lost: number; strangers: number; failedSeen: number; serverDuplicates: number;
    controlRows: number; rejected: number;
  };
  timeoutProbes: number;
  runs: number;
  /** The joined file's rows in send order: uuid, run, send_seq, send_time, recv_time, local_port, dest_port, external_port, server_port. */
  joinedRows: string[][];
  clockOffsetMs: { median: number; p05: number; p95: number } | null;
  outOfOrder: { rows: number; fraction: number };
}

/** Quantile with linear interpolation between order statistics (numpy's default). */
function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (pos - lo);
}

export interface Expectation {
  carriers: Map<string, CarrierExpectation>;
  /** Per file path (relative to the raw root). */
  files: Map<string, FileCounts>;
  trials: { rows: number; rejected: number };
}

/**
 * The counts README promises, from the description: client rows are read run by run in
 * run-number order (natural order of the file names) and line by line, the first row of
 * a UUID decides its status, and the server rows of all the carrier's runs meet all its
 * client rows.
 */
export function expectedCounts(c: Campaign, campaign = 'camp', runName: (run: number) => string = String): Expectation {
  const files = new Map<string, FileCounts>();
  const carriers = new Map<string, CarrierExpectation>();
  for (const carrier of c.carriers) {
    const runs = [...carrier.runs].sort((a, b) => a.run - b.run);
    const counts = { clientRows: 0, failed: 0, sent: 0, clientDuplicates: 0, serverRows: 0, joined: 0, lost: 0, strangers: 0, failedSeen: 0, serverDuplicates: 0, controlRows: 0, rejected: 0 };
    // The first client row of each UUID, in reading order; `seq` numbers a run's sent packets.
    const entries = new Map<string, { send: Send; status: 'S' | 'F'; run: number; seq: number; order: number }>();
    for (const r of runs) {
      if (!r.client) continue;
      let seq = 0;
      for (const l of r.client.lines) {
        if (l.kind === 'end') counts.controlRows += 1;
        if (l.kind !== 'send') continue;
        counts.clientRows += 1;
        const u = uuidOf(l.uuid);
        if (entries.has(u)) {
          counts.clientDuplicates += 1;
          continue;
        }
        const status = l.status.toUpperCase() as 'S' | 'F';
        entries.set(u, { send: l, status, run: r.run, seq: status === 'S' ? seq++ : -1, order: entries.size });
        if (status === 'S') counts.sent += 1;
        else counts.failed += 1;
      }
    }
    // The first server row of each sent UUID joins it; RFC 4737: reordered when it arrives after one sent later.
    const joined = new Map<string, Recv>();
    let reordered = 0;
    for (const r of runs) {
      if (!r.server) continue;
      let latest = -1;
      for (const l of r.server.lines) {
        if (l.kind === 'end') counts.controlRows += 1;
        if (l.kind !== 'recv') continue;
        counts.serverRows += 1;
        const u = uuidOf(l.uuid);
        const e = entries.get(u);
        if (e === undefined) counts.strangers += 1;
        else if (e.status === 'F') counts.failedSeen += 1;
        else if (joined.has(u)) counts.serverDuplicates += 1;
        else {
          joined.set(u, l);
          if (e.order < latest) reordered += 1;
          else latest = e.order;
        }
      }
    }
    counts.joined = joined.size;
    counts.lost = counts.sent - counts.joined;
    const joinedRows: string[][] = [];
    const offsets: number[] = [];
    for (const [u, e] of entries) {
      const recv = joined.get(u);
      if (!recv) continue;
      joinedRows.push([u, runName(e.run), String(e.seq), String(e.send.time), String(recv.time), String(e.send.local), String(e.send.dest), String(recv.ext), String(recv.port)]);
      offsets.push(recv.time - e.send.time);
    }
    offsets.sort((a, b) => a - b);
    let timeoutProbes = 0;
    for (const r of runs) {
      for (const [side, f] of [['client', r.client], ['server', r.server]] as const) {
        if (!f) continue;
        const fc = countsOf(f);
        files.set(`${campaign}/${carrier.name}/${side}-${runName(r.run)}.csv`, fc);
        counts.rejected += fc.rejected;
      }
    }
    if (carrier.timeouts) {
      const fc = countsOf(carrier.timeouts);
      files.set(`${campaign}/${carrier.name}/timeouts.csv`, fc);
      counts.rejected += fc.rejected;
      timeoutProbes = fc.rows;
    }
    carriers.set(carrier.name, {
      counts, timeoutProbes, joinedRows, runs: runs.length,
      clockOffsetMs: offsets.length === 0 ? null : { median: quantile(offsets, 0.5), p05: quantile(offsets, 0.05), p95: quantile(offsets, 0.95) },
      outOfOrder: { rows: reordered, fraction: joined.size === 0 ? 0 : reordered / joined.size },
    });
  }
  let trials = { rows: 0, rejected: 0 };
  if (c.trials) {
    const fc = countsOf(c.trials);
    files.set(`${campaign}/trials.csv`, fc);
    trials = { rows: fc.rows, rejected: fc.rejected };
  }
  return { carriers, files, trials };
}

// ---------------------------------------------------------------- arbitraries

export interface GenOptions {
  /** END OF MESSAGE rows in client files too (README: control rows wherever they are). */
  clientEnds: boolean;
  maxCarriers: number;
  maxRuns: number;
  maxPackets: number;
}

const keyArb = fc.nat(1000);
const lookArb: fc.Arbitrary<Look> = fc.record({
  quote: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(127) }),
  upper: fc.boolean(),
  spaced: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});
const styleArb: fc.Arbitrary<FileStyle> = fc.record({
  crlf: fc.boolean(),
  bom: fc.boolean(),
  finalEol: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  leadingBlanks: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
});

/** Header spelling, which extra columns, their order (sort keys; all zero keeps the format's order), headerless or not. */
function layoutArb(kind: keyof typeof COLUMNS): fc.Arbitrary<Layout> {
  const known = COLUMNS[kind].length;
  const extras = EXTRAS[kind].map((_, i) => known + i);
  return fc
    .record({
      spelling: fc.constantFrom(0 as const, 1 as const, 2 as const),
      extras: fc.subarray(extras),
      keys: fc.oneof({ weight: 2, arbitrary: fc.constant(Array<number>(known + extras.length).fill(0)) }, { weight: 1, arbitrary: fc.array(fc.nat(9), { minLength: known + extras.length, maxLength: known + extras.length }) }),
      headerless: kind === 'client' || kind === 'server' ? fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) : fc.constant(false),
    })
    .map(({ spelling, extras: chosen, keys, headerless }) => {
      // A headerless file is read positionally: the format's columns, in order, nothing else.
      if (headerless) return { spelling, order: Array.from({ length: known }, (_, i) => i), headerless };
      const cols = [...Array.from({ length: known }, (_, i) => i), ...chosen];
      return { spelling, order: [...cols].sort((a, b) => keys[a]! - keys[b]!), headerless };
    });
}

function junkArb(kinds: JunkKind[]): fc.Arbitrary<Junk> {
  return fc.record({ kind: fc.constant('junk' as const), junk: fc.constantFrom(...kinds), pick: fc.nat(999), key: keyArb });
}
const blankArb: fc.Arbitrary<Blank> = fc.record({ kind: fc.constant('blank' as const), text: fc.constantFrom('' as const, '  ' as const, '\t' as const), key: keyArb });
const endArb: fc.Arbitrary<End> = fc.record({
  kind: fc.constant('end' as const), time: fc.integer({ min: T0, max: T0 + 9_000_000 }), port: fc.integer({ min: 1024, max: 65535 }), look: lookArb, key: keyArb,
});

const packetArb = fc.record({
  uuid: fc.nat(POOL - 1),
  status: fc.constantFrom('S' as const, 'S' as const, 'S' as const, 'S' as const, 's' as const, 'F' as const, 'f' as const),
  /** Server copies: lost, seen, or seen twice. */
  seen: fc.constantFrom(0, 1, 1, 1, 1, 2),
  local: fc.integer({ min: 1024, max: 65535 }),
  dest: fc.integer({ min: 5000, max: 5003 }),
  ext: fc.integer({ min: 1024, max: 65535 }),
  delay: fc.integer({ min: 20, max: 900 }),
  look: lookArb,
  key: keyArb,
  copies: fc.tuple(fc.record({ look: lookArb, key: keyArb }), fc.record({ look: lookArb, key: keyArb })),
});

const CLIENT_JUNK: JunkKind[] = ['few', 'many', 'badId', 'badTime', 'badPort', 'badStatus', 'unterminated', 'commaInQuote', 'serverLog'];
const SERVER_JUNK: JunkKind[] = ['few', 'many', 'badId', 'badTime', 'badPort', 'unterminated', 'commaInQuote', 'serverLog'];
const few = <T>(arb: fc.Arbitrary<T>, max: number) => fc.array(arb, { maxLength: max });

function runArb(opts: GenOptions) {
  return fc.record({
    hasClient: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    hasServer: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    packets: few(packetArb, opts.maxPackets),
    strangers: few(fc.record({ uuid: fc.nat(POOL + 9), ext: fc.integer({ min: 1024, max: 65535 }), look: lookArb, key: keyArb }), 3),
    clientExtra: few(fc.oneof(junkArb(CLIENT_JUNK), blankArb, ...(opts.clientEnds ? [endArb] : [])), 4),
    serverExtra: few(fc.oneof(junkArb(SERVER_JUNK), blankArb, endArb), 4),
    client: fc.record({ layout: layoutArb('client'), style: styleArb }),
    server: fc.record({ layout: layoutArb('server'), style: styleArb }),
  });
}

type RunDraft = ReturnType<typeof runArb> extends fc.Arbitrary<infer T> ? T : never;

const byKey = <T extends { key: number }>(xs: T[]): T[] => [...xs].sort((a, b) => a.key - b.key);

/** A headerless file must open with a good row: move the first one to the top, or keep the header. */
function settleLayout(file: CaptureFile): CaptureFile {
  if (!file.layout.headerless) return file;
  const first = file.lines.findIndex((l) => l.kind === 'send' || l.kind === 'recv');
  if (first < 0) return { ...file, layout: { ...file.layout, headerless: false } };
  return { ...file, lines: [file.lines[first]!, ...file.lines.filter((_, i) => i !== first)] };
}

function buildRun(run: number, d: RunDraft): Run {
  const base = T0 + run * 1_000_000;
  const sends: Send[] = [];
  const recvs: Recv[] = [];
  d.packets.forEach((p, i) => {
    const time = base + i * 20;
    sends.push({ kind: 'send', uuid: p.uuid, status: p.status, time, local: p.local, dest: p.dest, look: p.look, key: p.key });
    for (let k = 0; k < p.seen; k++) {
      recvs.push({ kind: 'recv', uuid: p.uuid, time: time + p.delay + 3 * k, ext: p.ext, port: p.dest, look: p.copies[k]!.look, key: p.copies[k]!.key });
    }
  });
  d.strangers.forEach((s, i) => recvs.push({ kind: 'recv', uuid: s.uuid, time: base + 500 + i, ext: s.ext, port: 5000, look: s.look, key: s.key }));
  const hasClient = d.hasClient || !d.hasServer;
  return {
    run,
    client: hasClient ? settleLayout({ kind: 'client', ...d.client, lines: byKey<Line>([...sends, ...d.clientExtra]) }) : null,
    server: d.hasServer ? settleLayout({ kind: 'server', ...d.server, lines: byKey<Line>([...recvs, ...d.serverExtra]) }) : null,
  };
}

const probeArb: fc.Arbitrary<ProbeRow> = fc.record({
  kind: fc.constant('probe' as const), id: fc.nat(99).map((n) => `p${n}`), wait: fc.boolean(), delay: fc.integer({ min: 1, max: 600 }),
  replied: fc.constantFrom('true', 'false', '1', '0', 'yes', 'no', 'TRUE'), key: keyArb,
});
const trialArb: fc.Arbitrary<TrialRow> = fc.record({
  kind: fc.constant('trial' as const), a: fc.nat(5), b: fc.nat(5), strategy: fc.constantFrom('naive', 'biased', 'Biased'), trial: fc.nat(50),
  outcome: fc.constantFrom('S', 'F', 's'), packets: fc.option(fc.integer({ min: 1, max: 2000 })), key: keyArb,
});
const TABLE_JUNK: JunkKind[] = ['few', 'many', 'badId', 'badTime', 'badPort', 'badStatus', 'unterminated', 'commaInQuote', 'serverLog'];

function tableArb(kind: 'timeouts' | 'trials'): fc.Arbitrary<TableFile> {
  const row: fc.Arbitrary<ProbeRow | TrialRow> = kind === 'timeouts' ? probeArb : trialArb;
  return fc
    .record({ layout: layoutArb(kind), style: styleArb, rows: few(row, 8), extra: few(fc.oneof(junkArb(TABLE_JUNK), blankArb), 3) })
    .map(({ layout, style, rows, extra }) => ({ kind, layout, style, lines: byKey<ProbeRow | TrialRow | Junk | Blank>([...rows, ...extra]) }));
}

const CARRIER_NAMES = ['alpha', 'Beta', 'gamma-3', 'd_4'];

/** A small messy campaign: a few carriers, runs, rows; every kind of bad row and surface variation. */
export function campaignArb(opts: GenOptions): fc.Arbitrary<Campaign> {
  const carrierArb = fc.record({
    runNumbers: fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: opts.maxRuns }),
    runs: fc.array(runArb(opts), { minLength: opts.maxRuns, maxLength: opts.maxRuns }),
    timeouts: fc.option(tableArb('timeouts'), { freq: 2 }),
  });
  return fc
    .record({
      names: fc.shuffledSubarray(CARRIER_NAMES, { minLength: 1, maxLength: opts.maxCarriers }),
      carriers: fc.array(carrierArb, { minLength: opts.maxCarriers, maxLength: opts.maxCarriers }),
      trials: fc.option(tableArb('trials'), { freq: 2 }),
    })
    .map(({ names, carriers, trials }) => ({
      carriers: names.map((name, i) => {
        const c = carriers[i]!;
        return { name, runs: c.runNumbers.map((n, j) => buildRun(n, c.runs[j]!)), timeouts: c.timeouts };
      }),
      trials,
    }));
}

// ---------------------------------------------------------------- campaigns from a NAT model

/** mulberry32: a small seeded generator for the bulk of a model campaign (fast-check picks the seed). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type NatModel = 'uniform' | 'block' | 'sequential';

export interface ModelSpec {
  seed: number;
  runNumbers: number[];
  carriers: { model: NatModel; runs: number; packets: number }[];
}

/** Next external port of a NAT model; `state` carries the block or the counter. */
function nextPort(model: NatModel, r: () => number, state: { at: number }): number {
  if (model === 'uniform') return 1024 + Math.floor(r() * (65535 - 1024 + 1));
  if (model === 'block') {
    if (state.at < 0 || r() < 0.1) state.at = 4 + Math.floor(r() * 252);
    return state.at * 256 + Math.floor(r() * 256);
  }
  state.at = state.at < 0 ? 1024 + Math.floor(r() * 60000) : state.at + 1 + Math.floor(r() * 4);
  if (state.at > 65535) state.at = 1024;
  return state.at;
}

function lookOf(r: () => number): Look {
  return { quote: r() < 0.15 ? Math.floor(r() * 64) : 0, upper: r() < 0.2, spaced: r() < 0.8 };
}

function layoutOf(kind: 'client' | 'server', r: () => number): Layout {
  const known = COLUMNS[kind].length;
  if (r() < 0.15) return { spelling: 0, order: Array.from({ length: known }, (_, i) => i), headerless: true };
  const cols = Array.from({ length: known }, (_, i) => i);
  if (kind === 'server' && r() < 0.5) cols.push(known);
  if (r() < 0.3) cols.sort(() => r() - 0.5);
  return { spelling: Math.floor(r() * 3) as 0 | 1 | 2, order: cols, headerless: false };
}

function styleOf(r: () => number): FileStyle {
  return { crlf: r() < 0.3, bom: r() < 0.2, finalEol: r() < 0.8, leadingBlanks: r() < 0.1 ? 1 : 0 };
}

function junkOf(kinds: JunkKind[], r: () => number, key: number): Junk {
  return { kind: 'junk', junk: kinds[Math.floor(r() * kinds.length)]!, pick: Math.floor(r() * 1000), key };
}

/**
 * One carrier's runs from a NAT model: packets sent in order (a quarter reuse the last
 * local port towards another server port, riding its mapping), a few failed sends, lost
 * packets, network duplicates (same external port), strangers, one end marker per run,
 * some bad rows and blank lines. Client UUIDs are unique within the carrier, so which
 * copy of a UUID counts never depends on run order.
 */
function modelCarrier(name: string, spec: ModelSpec['carriers'][number], runNumbers: number[], r: () => number, uuidBase: number): Carrier {
  const state = { at: -1 };
  let uuid = uuidBase;
  const runs: Run[] = runNumbers.slice(0, spec.runs).map((run) => {
    const sends: Line[] = [];
    const recvs: Line[] = [];
    let prev: { local: number; dest: number; ext: number } | null = null;
    const t0 = T0 + run * 1_000_000;
    for (let i = 0; i < spec.packets; i++) {
      const time = t0 + i * 200 + Math.floor(r() * 50);
      let local: number, dest: number, ext: number;
      if (prev && r() < 0.25) {
        local = prev.local;
        dest = prev.dest === 5000 ? 5001 : 5000;
        ext = prev.ext;
      } else {
        local = 30000 + Math.floor(r() * 30000);
        dest = 5000 + Math.floor(r() * 2);
        ext = nextPort(spec.model, r, state);
      }
      const failed = r() < 0.05;
      const id = uuid++;
      sends.push({ kind: 'send', uuid: id, status: failed ? 'F' : r() < 0.1 ? 's' : 'S', time, local, dest, look: lookOf(r), key: i * 10 });
      if (!failed) prev = { local, dest, ext };
      const copies = failed ? (r() < 0.3 ? 1 : 0) : r() < 0.08 ? 0 : r() < 0.05 ? 2 : 1;
      for (let k = 0; k < copies; k++) {
        recvs.push({ kind: 'recv', uuid: id, time: time + 40 + Math.floor(r() * 300) + k, ext, port: dest, look: lookOf(r), key: i * 10 + Math.floor(r() * 25) });
      }
    }
    const last = spec.packets * 10;
    recvs.push({ kind: 'end', time: t0 + spec.packets * 200 + 500, port: nextPort(spec.model, r, state), look: lookOf(r), key: last + 5 });
    for (let k = Math.floor(r() * 3); k > 0; k--) recvs.push({ kind: 'recv', uuid: 100_000 + Math.floor(r() * 1000), time: t0 + 7, ext: 1024 + Math.floor(r() * 60000), port: 5000, look: lookOf(r), key: Math.floor(r() * last) });
    const clientExtra: Line[] = [];
    const serverExtra: Line[] = [];
    for (let k = Math.floor(r() * 3); k > 0; k--) clientExtra.push(junkOf(CLIENT_JUNK, r, Math.floor(r() * last) + 1));
    for (let k = Math.floor(r() * 3); k > 0; k--) serverExtra.push(junkOf(SERVER_JUNK, r, Math.floor(r() * last) + 1));
    if (r() < 0.5) clientExtra.push({ kind: 'blank', text: '', key: Math.floor(r() * last) + 1 });
    if (r() < 0.5) serverExtra.push({ kind: 'blank', text: '  ', key: Math.floor(r() * last) + 1 });
    return {
      run,
      client: settleLayout({ kind: 'client', layout: layoutOf('client', r), style: styleOf(r), lines: byKey([...sends, ...clientExtra]) }),
      server: settleLayout({ kind: 'server', layout: layoutOf('server', r), style: styleOf(r), lines: byKey([...recvs, ...serverExtra]) }),
    };
  });
  // Wait probes bracketing a timeout between 30 and 90 s, in no particular order.
  const timeout = 30 + Math.floor(r() * 60);
  const probes: ProbeRow[] = [5, 15, 25, 40, 60, 80, 100, 120].map((d, i) => ({ kind: 'probe', id: `w${i}`, wait: true, delay: d, replied: d < timeout ? 'true' : 'false', key: Math.floor(r() * 100) }));
  return { name, runs, timeouts: { kind: 'timeouts', layout: { spelling: 0, order: [0, 1, 2, 3], headerless: false }, style: styleOf(r), lines: byKey(probes) } };
}

/** Campaigns with enough packets per carrier for fit to choose a model and bias to write a table. */
export function modelCampaignArb(): fc.Arbitrary<Campaign> {
  return fc
    .record({
      seed: fc.integer({ min: 1, max: 0x7fffffff }),
      runNumbers: fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 3, maxLength: 3 }),
      carriers: fc.array(fc.record({ model: fc.constantFrom<NatModel>('uniform', 'block', 'sequential'), runs: fc.integer({ min: 2, max: 3 }), packets: fc.integer({ min: 30, max: 60 }) }), { minLength: 1, maxLength: 2 }),
    })
    .map((spec) => {
      const r = rng(spec.seed);
      return { carriers: spec.carriers.map((c, i) => modelCarrier(CARRIER_NAMES[i]!, c, spec.runNumbers, r, i * 10_000)), trials: null };
    });
}

/**
 * The same campaign with the lines of each file in another order, keeping what order
 * means: server, timeouts files fully shuffled (server rows are in receive order, which
 * says nothing the join keeps); in client files the bad rows and blank lines move while
 * the sends keep their order, which is the send order the fits read.
 */
export function reorderLines(c: Campaign, seed: number): Campaign {
  const r = rng(seed);
  const shuffle = <T>(xs: T[]): T[] => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  const moveOthers = (lines: Line[]): Line[] => {
    const sends = lines.filter((l) => l.kind === 'send');
    const out: Line[] = [...sends];
    for (const l of lines) if (l.kind !== 'send') out.splice(Math.floor(r() * (out.length + 1)), 0, l);
    return out;
  };
  return {
    trials: c.trials,
    carriers: c.carriers.map((carrier) => ({
      name: carrier.name,
      timeouts: carrier.timeouts && { ...carrier.timeouts, lines: shuffle(carrier.timeouts.lines) },
      runs: carrier.runs.map((run) => ({
        run: run.run,
        client: run.client && settleLayout({ ...run.client, lines: moveOthers(run.client.lines) }),
        server: run.server && settleLayout({ ...run.server, lines: shuffle(run.server.lines) }),
      })),
    })),
  };
}
