/**
 * One capture run as the published Android app and its server would log it: the
 * phone's `client-NN.csv` (every send attempt, in send order) and the server's
 * `server-NN.csv` (bind-failure junk first, then every received packet in receive
 * order), with the messy parts of real captures: privileged-port bind failures, port
 * 0, losses, closed server ports, duplicates, strangers, reordering, clock offset,
 * end markers and, on request, malformed rows.
 *
 * Client rows stream straight to disk; server rows of one run are buffered (they must
 * be sorted by receive time), so memory is bounded by one run, not the campaign.
 * Every decision is counted in `CaptureCounts`, the truth the join is tested against.
 */
import type { AtomicWriter } from '../io/atomic.ts';
import { NatatlasError } from '../errors.ts';
import type { Rng } from '../random.ts';
import type { Nat } from './models.ts';
import { ByteLines } from '../io/byte-lines.ts';

export interface CaptureOptions {
  /** Send rate of the phone (the app: 50/s, one packet every 20 ms). */
  packetsPerSecond: number;
  /** Runs start this far apart (and at least the NAT wait timeout after the previous run ends). */
  runSpacingS: number;
  /** Phone time of the first send of run 1, epoch ms (2023-03-01T10:00:00Z). */
  startMs: number;
  /** Server port range the phone sends to, inclusive. */
  serverPorts: [number, number];
  /** Server ports per run that fail to bind (junk rows; packets to them are lost). */
  failedServerPorts: number;
  /** Probability that a send reuses the previous send's local port towards another server port. */
  reuseRate: number;
  /** Probability that a sent packet is lost in the network. */
  lossRate: number;
  /** Probability that the server receives a delivered packet twice. */
  duplicateRate: number;
  /** Server rows from other sources, per sent packet. */
  strangerRate: number;
  /** Probability that binding a non-privileged, non-zero port fails anyway. */
  bindFailureRate: number;
  /** Extra probability of a port-0 ("any") socket, on top of the uniform draw's 1/65536. */
  portZeroRate: number;
  /** Server clock minus phone clock, whole ms. */
  clockOffsetMs: number;
  /** Minimum one-way delay, ms. */
  baseDelayMs: number;
  /** Mean of the exponential delay jitter on top of the base, ms. */
  jitterMs: number;
  /** END OF MESSAGE packets at the end of each run. */
  endMarkers: number;
  /** Add a `Sender IP` column to the server files. */
  senderIp: boolean;
  /** Malformed rows injected per written client row and per written server row. */
  malformedRate: number;
  /** Repetitions of each timeout search (Algorithms 2 and 3). */
  probeRepeats: number;
}

export const DEFAULT_CAPTURE: Readonly<CaptureOptions> = Object.freeze({
  packetsPerSecond: 50,
  runSpacingS: 300,
  startMs: Date.UTC(2023, 2, 1, 10, 0, 0),
  serverPorts: [10000, 10999] as [number, number],
  failedServerPorts: 3,
  reuseRate: 0.05,
  lossRate: 0.02,
  duplicateRate: 0.001,
  strangerRate: 0.002,
  bindFailureRate: 0.0005,
  portZeroRate: 0,
  clockOffsetMs: -1234,
  baseDelayMs: 25,
  jitterMs: 15,
  endMarkers: 3,
  senderIp: false,
  malformedRate: 0,
  probeRepeats: 3,
});

export const CAPTURE_KEYS = Object.keys(DEFAULT_CAPTURE) as (keyof CaptureOptions)[];

/** Every count the join stage can be checked against (see SimulationReport). */
export interface CaptureCounts {
  /** Data rows in client files = failed + sent. */
  clientRows: number;
  failed: number;
  /** F rows on ports 1..1023. */
  failedPrivileged: number;
  /** F rows from the random bind-failure rate on other ports. */
  failedBind: number;
  /** S rows = lost + joined. */
  sent: number;
  lost: number;
  lostInNetwork: number;
  /** Sent to a server port that failed to bind. */
  lostToClosedPorts: number;
  joined: number;
  /** Data rows in server files (no header, junk, end markers or malformed) = joined + serverDuplicates + strangers. */
  serverRows: number;
  serverDuplicates: number;
  strangers: number;
  /** END OF MESSAGE rows. */
  control: number;
  /** `Failed, to, launch, <port>` rows. */
  junk: number;
  malformed: { client: number; server: number };
  /** Sends reusing the previous send's local port towards a different server port. */
  reusedPorts: number;
  /** ... of which left from the same external port as the previous send. */
  reusedSameExternal: number;
  /** Reused sends where both it and the previous send were joined (visible in the files). */
  reusedObserved: number;
  reusedObservedSameExternal: number;
  /** S rows with local port 0. */
  portZero: number;
  /** Joined first copies received after one sent later in the same run (RFC 4737), per server file. */
  reordered: number;
  /** New NAT mappings made (data packets and end markers). */
  allocations: number;
}

export function emptyCounts(): CaptureCounts {
  return {
    clientRows: 0, failed: 0, failedPrivileged: 0, failedBind: 0, sent: 0, lost: 0, lostInNetwork: 0, lostToClosedPorts: 0,
    joined: 0, serverRows: 0, serverDuplicates: 0, strangers: 0, control: 0, junk: 0, malformed: { client: 0, server: 0 },
    reusedPorts: 0, reusedSameExternal: 0, reusedObserved: 0, reusedObservedSameExternal: 0, portZero: 0, reordered: 0, allocations: 0,
  };
}

export const CLIENT_HEADER = 'Message id, Time, Sender Port, Receiver Port, Success';
export const SERVER_HEADER = 'Message id, Time, Sender Port, Receiver Port';
export const SENDER_IP_HEADER = 'Sender IP';
export const END_OF_MESSAGE = 'END OF MESSAGE';
/** Ephemeral range the phone's OS picks from for port 0 and for end-marker sockets (Linux default). */
export const EPHEMERAL: readonly [number, number] = [32768, 60999];

function bad(what: string, key: string, message: string): never {
  throw new NatatlasError(`${what}: capture option ${key} ${message}`);
}

function num(what: string, key: keyof CaptureOptions, v: unknown, lo: number, hi: number, int = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(what, key, `must be a finite number, got ${JSON.stringify(v)}`);
  if (int && !Number.isInteger(v)) bad(what, key, `must be a whole number, got ${v}`);
  if (v < lo || v > hi) bad(what, key, `must be in ${lo}..${hi}, got ${v}`);
  return v;
}

/** Defaults filled in and every option checked; throws a NatatlasError naming the option. */
export function resolveCapture(partial: Partial<CaptureOptions> | undefined, what = 'capture'): CaptureOptions {
  const o: Record<string, unknown> = { ...DEFAULT_CAPTURE, ...(partial ?? {}) };
  for (const key of Object.keys(partial ?? {})) {
    if (!(CAPTURE_KEYS as string[]).includes(key)) bad(what, key, `is unknown; expected one of ${CAPTURE_KEYS.join(', ')}`);
  }
  const ports = o.serverPorts;
  if (!Array.isArray(ports) || ports.length !== 2) bad(what, 'serverPorts', `must be [lo, hi], got ${JSON.stringify(ports)}`);
  const lo = num(what, 'serverPorts', ports[0], 1, 65535, true);
  const hi = num(what, 'serverPorts', ports[1], lo, 65535, true);
  const failedServerPorts = num(what, 'failedServerPorts', o.failedServerPorts, 0, hi - lo, true);
  const rate = (k: keyof CaptureOptions) => num(what, k, o[k], 0, 1);
  if (typeof o.senderIp !== 'boolean') bad(what, 'senderIp', `must be true or false, got ${JSON.stringify(o.senderIp)}`);
  return {
    packetsPerSecond: num(what, 'packetsPerSecond', o.packetsPerSecond, 0.001, 1e6),
    runSpacingS: num(what, 'runSpacingS', o.runSpacingS, 0, 1e9),
    startMs: num(what, 'startMs', o.startMs, 0, 8.64e15, true),
    serverPorts: [lo, hi],
    failedServerPorts,
    reuseRate: rate('reuseRate'),
    lossRate: rate('lossRate'),
    duplicateRate: rate('duplicateRate'),
    strangerRate: rate('strangerRate'),
    bindFailureRate: rate('bindFailureRate'),
    portZeroRate: rate('portZeroRate'),
    clockOffsetMs: num(what, 'clockOffsetMs', o.clockOffsetMs, -1e12, 1e12, true),
    baseDelayMs: num(what, 'baseDelayMs', o.baseDelayMs, 0, 1e7),
    jitterMs: num(what, 'jitterMs', o.jitterMs, 0, 1e7),
    endMarkers: num(what, 'endMarkers', o.endMarkers, 0, 1000, true),
    senderIp: o.senderIp,
    malformedRate: rate('malformedRate'),
    probeRepeats: num(what, 'probeRepeats', o.probeRepeats, 0, 1000, true),
  };
}

/** Server row kinds. */
const DATA = 0;
const STRANGER = 1;
const MARKER = 2;

/**
 * Server rows of one run, buffered for the sort by receive time. Columns live in typed
 * arrays (no per-row strings) and rows are formatted only when written.
 */
class ServerBuffer {
  length = 0;
  private cap: number;
  recv: Float64Array;
  /** Send index within the run for the first copy of a joined packet, else -1. */
  seq: Int32Array;
  u0: Uint32Array;
  u1: Uint32Array;
  u2: Uint32Array;
  u3: Uint32Array;
  ext: Uint16Array;
  port: Uint16Array;
  kind: Uint8Array;
  /** Last octet of a stranger's 203.0.113.x address. */
  host: Uint8Array;

  constructor(capacity: number) {
    this.cap = Math.max(16, capacity);
    this.recv = new Float64Array(this.cap);
    this.seq = new Int32Array(this.cap);
    this.u0 = new Uint32Array(this.cap);
    this.u1 = new Uint32Array(this.cap);
    this.u2 = new Uint32Array(this.cap);
    this.u3 = new Uint32Array(this.cap);
    this.ext = new Uint16Array(this.cap);
    this.port = new Uint16Array(this.cap);
    this.kind = new Uint8Array(this.cap);
    this.host = new Uint8Array(this.cap);
  }

  private grow(): void {
    this.cap *= 2;
    const g = <T extends Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(this.cap);
      b.set(a);
      return b;
    };
    this.recv = g(this.recv, Float64Array);
    this.seq = g(this.seq, Int32Array);
    this.u0 = g(this.u0, Uint32Array);
    this.u1 = g(this.u1, Uint32Array);
    this.u2 = g(this.u2, Uint32Array);
    this.u3 = g(this.u3, Uint32Array);
    this.ext = g(this.ext, Uint16Array);
    this.port = g(this.port, Uint16Array);
    this.kind = g(this.kind, Uint8Array);
    this.host = g(this.host, Uint8Array);
  }

  push(kind: number, recv: number, seq: number, a: number, b: number, c: number, d: number, ext: number, port: number, host = 0): void {
    if (this.length === this.cap) this.grow();
    const i = this.length++;
    this.kind[i] = kind;
    this.recv[i] = recv;
    this.seq[i] = seq;
    this.u0[i] = a;
    this.u1[i] = b;
    this.u2[i] = c;
    this.u3[i] = d;
    this.ext[i] = ext;
    this.port[i] = port;
    this.host[i] = host;
  }

  /** Row order by receive time, ties by the order rows were generated (stable). */
  order(): Uint32Array | number[] {
    const n = this.length;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const r = this.recv[i]!;
      if (r < min) min = r;
      if (r > max) max = r;
    }
    let m = 1;
    while (m < n) m *= 2;
    if (n === 0 || (max - min + 1) * m < 2 ** 53) {
      // Pack (time, index) into one exact double: a native numeric sort, no comparator calls.
      const keys = new Float64Array(n);
      for (let i = 0; i < n; i++) keys[i] = (this.recv[i]! - min) * m + i;
      keys.sort();
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const k = keys[i]!;
        out[i] = k - Math.floor(k / m) * m;
      }
      return out;
    }
    const idx = Array.from({ length: n }, (_, i) => i);
    const recv = this.recv;
    return idx.sort((a, b) => recv[a]! - recv[b]! || a - b);
  }
}

export interface RunContext {
  nat: Nat;
  rng: Rng;
  opts: CaptureOptions;
  /** Phone time of the run's first send, epoch ms. */
  startMs: number;
  packets: number;
  /** The carrier's public IP for this run (written only when opts.senderIp). */
  ip: string;
  client: AtomicWriter;
  server: AtomicWriter;
  counts: CaptureCounts;
  /** Called with the number of client rows written since the last call. */
  onPackets?: (done: number) => void;
}

const REPORT_EVERY = 1 << 16;

/** One injected bad row (no packet behind it): bad uuid, port out of range, bad time, or a column short. */
function malformedRow(rng: Rng, side: 'client' | 'server', uuid: string, t: number, port: number, dest: number, ipSuffix: string): string {
  const tail = side === 'client' ? ', S' : ipSuffix;
  switch (rng.int(0, 3)) {
    case 0: // a message id that is not a UUID (two characters corrupted)
      return `${uuid.slice(0, 9)}zz${uuid.slice(11)}, ${t}, ${port}, ${dest}${tail}`;
    case 1: // a port outside 0..65535
      return `${uuid}, ${t}, ${rng.bernoulli(0.5) ? 70000 : -5}, ${dest}${tail}`;
    case 2: // a time that is not a number
      return `${uuid}, 2023-03-01 10:00:00, ${port}, ${dest}${tail}`;
    default: // a column short
      return side === 'client' ? `${uuid}, ${t}, ${port}, ${dest}` : `${uuid}, ${t}, ${port}${ipSuffix}`;
  }
}

/**
 * Simulate one run: append the client file's data rows to `ctx.client` (the caller
 * writes the header) and the whole server file to `ctx.server`, feeding every outbound
 * packet through the NAT in send order. Returns the phone time of the last send.
 */
export function simulateRun(ctx: RunContext): number {
  const { nat, rng, opts, counts } = ctx;
  const n = ctx.packets;
  const [lo, hi] = opts.serverPorts;
  const intervalMs = 1000 / opts.packetsPerSecond;
  const offset = opts.clockOffsetMs;
  const base = opts.baseDelayMs;
  const jitterRate = opts.jitterMs > 0 ? 1 / opts.jitterMs : 0;
  const ipSuffix = opts.senderIp ? `, ${ctx.ip}` : '';
  const { reuseRate, lossRate, duplicateRate, strangerRate, bindFailureRate, portZeroRate, malformedRate } = opts;

  // Server ports that fail to bind this run: junk rows at the top, packets to them lost.
  const closed = new Uint8Array(65536);
  const closedList: number[] = [];
  while (closedList.length < opts.failedServerPorts) {
    const p = rng.int(lo, hi);
    if (closed[p] === 0) {
      closed[p] = 1;
      closedList.push(p);
    }
  }
  closedList.sort((a, b) => a - b);
  const openPort = (): number => {
    let p = rng.int(lo, hi);
    while (closed[p] === 1) p = rng.int(lo, hi);
    return p;
  };
  const delay = (): number => Math.floor(base + (jitterRate > 0 ? rng.exponential(jitterRate) : 0));

  const buf = new ServerBuffer(Math.ceil(n * (1 + duplicateRate + strangerRate) * 1.02) + opts.endMarkers + 64);
  const out = new ByteLines(ctx.client);
  let sinceReport = 0;
  // The previous client row, if it was a send (S): what a reuse continues from.
  let prevSent = false;
  let prevLocal = 0;
  let prevDest = 0;
  let prevExt = 0;
  let prevJoined = false;
  // Local port of the last S row: fresh draws avoid it, so a reuse is never accidental.
  let lastSentLocal = 0;
  let t = ctx.startMs;

  for (let i = 0; i < n; i++) {
    t = ctx.startMs + Math.round(i * intervalMs);
    const a = rng.u32();
    const b = rng.u32();
    const c = rng.u32();
    const d = rng.u32();
    let local: number;
    let dest: number;
    let reused = false;
    if (prevSent && prevLocal !== 0 && hi > lo && rng.bernoulli(reuseRate)) {
      reused = true;
      local = prevLocal;
      dest = rng.int(lo, hi - 1);
      if (dest >= prevDest) dest += 1;
    } else {
      do local = rng.int(0, 65535); while (local !== 0 && local === lastSentLocal);
      if (portZeroRate > 0 && rng.bernoulli(portZeroRate)) local = 0;
      dest = rng.int(lo, hi);
    }
    // Privileged ports fail to bind; a reused socket is already bound.
    const failed = !reused && ((local >= 1 && local <= 1023) || (local > 1023 && rng.bernoulli(bindFailureRate)));
    out.uuid(a, b, c, d).sep().int(t).sep().int(local).sep().int(dest).text(failed ? ', F' : ', S').end();
    counts.clientRows += 1;
    if (malformedRate > 0 && rng.bernoulli(malformedRate)) {
      out.text(malformedRow(rng, 'client', rng.uuid(), t, local, dest, '')).end();
      counts.malformed.client += 1;
    }
    if (++sinceReport === REPORT_EVERY && ctx.onPackets) {
      ctx.onPackets(sinceReport);
      sinceReport = 0;
    }
    if (failed) {
      counts.failed += 1;
      if (local <= 1023) counts.failedPrivileged += 1;
      else counts.failedBind += 1;
      prevSent = false;
      continue;
    }

    counts.sent += 1;
    if (local === 0) counts.portZero += 1;
    // Port 0: the OS binds an ephemeral port that the NAT sees but the log does not.
    const natLocal = local === 0 ? rng.int(EPHEMERAL[0], EPHEMERAL[1]) : local;
    const ext = nat.send(natLocal, dest, t);
    let joined = false;
    if (closed[dest] === 1) {
      counts.lost += 1;
      counts.lostToClosedPorts += 1;
    } else if (rng.bernoulli(lossRate)) {
      counts.lost += 1;
      counts.lostInNetwork += 1;
    } else {
      joined = true;
      counts.joined += 1;
      counts.serverRows += 1;
      const recv = t + offset + delay();
      buf.push(DATA, recv, i, a, b, c, d, ext, dest);
      if (rng.bernoulli(duplicateRate)) {
        // The network's copy arrives strictly later, so the first row in the file is the original.
        buf.push(DATA, Math.max(recv + 1, t + offset + delay()), -1, a, b, c, d, ext, dest);
        counts.serverDuplicates += 1;
        counts.serverRows += 1;
      }
    }
    if (reused) {
      counts.reusedPorts += 1;
      if (ext === prevExt) counts.reusedSameExternal += 1;
      if (joined && prevJoined) {
        counts.reusedObserved += 1;
        if (ext === prevExt) counts.reusedObservedSameExternal += 1;
      }
    }
    if (rng.bernoulli(strangerRate)) {
      counts.strangers += 1;
      counts.serverRows += 1;
      const recv = t + offset + delay();
      const host = opts.senderIp ? rng.int(1, 254) : 0;
      buf.push(STRANGER, recv, -1, rng.u32(), rng.u32(), rng.u32(), rng.u32(), rng.int(1024, 65535), openPort(), host);
    }
    prevSent = true;
    prevLocal = local;
    prevDest = dest;
    prevExt = ext;
    prevJoined = joined;
    lastSentLocal = local;
  }
  out.flush();
  if (sinceReport > 0 && ctx.onPackets) ctx.onPackets(sinceReport);

  // End markers: fresh sockets after the last packet; through the NAT, not in the client log.
  for (let k = 0; k < opts.endMarkers; k++) {
    t = ctx.startMs + Math.round((n + k) * intervalMs);
    const dest = openPort();
    const ext = nat.send(rng.int(EPHEMERAL[0], EPHEMERAL[1]), dest, t);
    buf.push(MARKER, t + offset + delay(), -1, 0, 0, 0, 0, ext, dest);
    counts.control += 1;
  }

  writeServer(ctx, buf, closedList, ipSuffix);
  return t;
}

function writeServer(ctx: RunContext, buf: ServerBuffer, closed: number[], ipSuffix: string): void {
  const { rng, opts, counts } = ctx;
  const out = new ByteLines(ctx.server);
  out.text(`${SERVER_HEADER}${opts.senderIp ? `, ${SENDER_IP_HEADER}` : ''}`).end();
  for (const p of closed) out.text('Failed, to, launch, ').int(p).end();
  counts.junk += closed.length;
  const order = buf.order();
  const { kind, recv, seq, u0, u1, u2, u3, ext, port, host } = buf;
  let maxSeq = -1;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    const rowKind = kind[i]!;
    if (rowKind === MARKER) out.text(END_OF_MESSAGE);
    else out.uuid(u0[i]!, u1[i]!, u2[i]!, u3[i]!);
    out.sep().int(recv[i]!).sep().int(ext[i]!).sep().int(port[i]!);
    if (ipSuffix.length > 0) out.text(rowKind === STRANGER ? `, 203.0.113.${host[i]}` : ipSuffix);
    out.end();
    // RFC 4737: a first copy received after a packet sent later than it is reordered.
    const s = seq[i]!;
    if (s >= 0) {
      if (s < maxSeq) counts.reordered += 1;
      else maxSeq = s;
    }
    if (opts.malformedRate > 0 && rng.bernoulli(opts.malformedRate)) {
      const uuid = rng.uuid();
      out.text(malformedRow(rng, 'server', uuid, recv[i]!, rng.int(1024, 65535), rng.int(opts.serverPorts[0], opts.serverPorts[1]), ipSuffix)).end();
      counts.malformed.server += 1;
    }
  }
  out.flush();
}
