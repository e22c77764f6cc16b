/**
 * The lab's programs that run inside namespaces (`ip netns exec <ns> node --import tsx
 * agent.ts '<job json>'`): the capture server, the capture client (the Android app's
 * protocol), the timeout prober (the seed's Algorithms 2 and 3), the rule check, and
 * the RFC 5780 NAT-type discovery (its server answering on two addresses x two ports).
 * Each prints one JSON line as its result on stdout; the server prints `{"ready":true}`
 * and then takes JSON commands on stdin. Every agent exits when its stdin closes, so
 * a dead lab never leaves agents running.
 */
import dgram from 'node:dgram';
import { randomUUID } from 'node:crypto';
import readline from 'node:readline';
import { AtomicWriter } from '../io/atomic.ts';
import { searchTimeout, TIMEOUTS_HEADER, type TimeoutKind } from '../simulate/timeouts.ts';
import { searchAsync } from './search.ts';

export const CLIENT_HEADER = 'Message id, Time, Sender Port, Receiver Port, Success';
export const SERVER_HEADER = 'Message id, Time, Sender Port, Receiver Port, Sender IP';
export const END_OF_MESSAGE = 'END OF MESSAGE';

export type Job =
  | { mode: 'server'; ports: [number, number] }
  | { mode: 'check'; server: string; port: number }
  | { mode: 'capture'; server: string; ports: [number, number]; packets: number; pps: number; reuseRate: number; endMarkers: number; file: string }
  | { mode: 'timeouts'; server: string; ports: [number, number]; kinds: TimeoutKind[]; repeats: number; scale: number; file: string }
  | { mode: 'nat-server'; addresses: [string, string]; ports: [number, number] }
  | { mode: 'nat-type'; addresses: [string, string]; ports: [number, number]; attempts: number; timeoutMs: number };

/** What the nat-type agent saw (pipeline/lab/nat-type.ts classifies it). `ip:port` strings, null: no answer. */
export interface NatTypeObservation {
  localPort: number;
  /** RFC 5780 4.3: one socket to (IP1,P1), (IP2,P1), (IP2,P2); the source the server saw each time. */
  mapping: { server: string; mapped: string | null }[];
  /** RFC 5780 4.4 from a second, fresh socket: test I to (IP1,P1), then replies asked from (IP2,P2) and (IP1,P2). */
  filtering: { localPort: number; mapped: string | null; tests: { test: 'II' | 'III'; replyFrom: string; arrived: boolean }[] };
  /** A third socket sends to the first socket's mapped address (test I's): does the NAT loop it back? null: no mapping to aim at. */
  hairpin: { target: string; arrived: boolean } | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const randInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

function print(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

// ---------------------------------------------------------------- server
async function server(job: Extract<Job, { mode: 'server' }>): Promise<void> {
  const rows = new Map<string, string[]>();
  const sockets: dgram.Socket[] = [];
  const failed: number[] = [];
  for (let port = job.ports[0]; port <= job.ports[1]; port++) {
    const s = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((res) => {
      s.once('error', () => res(false));
      s.bind(port, () => res(true));
    });
    if (!ok) {
      failed.push(port);
      continue;
    }
    sockets.push(s);
    s.on('message', (msg, rinfo) => {
      const text = msg.toString('utf8');
      const now = Date.now();
      if (text.startsWith('T ') || text.startsWith('G ')) return control(s, text, rinfo);
      let list = rows.get(rinfo.address);
      if (!list) rows.set(rinfo.address, (list = []));
      list.push(`${text}, ${now}, ${rinfo.port}, ${port}, ${rinfo.address}\n`);
    });
  }
  const reply = (s: dgram.Socket, text: string, rinfo: dgram.RemoteInfo) => s.send(text, rinfo.port, rinfo.address);
  /** How late each timeout probe's delayed reply left, in ms (a busy machine fires timers late). */
  const lateness = new Map<string, number>();
  const delayed = (s: dgram.Socket, pid: string, ms: number, rinfo: dgram.RemoteInfo) => {
    const due = performance.now() + ms;
    setTimeout(() => {
      lateness.set(pid, performance.now() - due);
      reply(s, `R ${pid}`, rinfo);
    }, ms);
  };
  function control(s: dgram.Socket, text: string, rinfo: dgram.RemoteInfo): void {
    const parts = text.split(' ');
    if (parts[0] === 'G') return reply(s, `G ${parts[1]} ${rinfo.address} ${rinfo.port}`, rinfo);
    const [, sub, pid, ms] = parts;
    if (sub === 'wait') delayed(s, pid!, Number(ms), rinfo);
    else if (sub === 'idle1') reply(s, `R1 ${pid}`, rinfo);
    else if (sub === 'idle2') {
      reply(s, `R2 ${pid}`, rinfo);
      delayed(s, pid!, Number(ms), rinfo);
    } else if (sub === 'late') {
      const late = lateness.get(pid!);
      reply(s, `L ${pid} ${late === undefined ? 'pending' : Math.round(late)}`, rinfo);
    }
  }
  print({ ready: true, failed });
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const cmd = JSON.parse(line) as { cmd: 'flush'; ip: string; file: string; id: number };
    const list = rows.get(cmd.ip) ?? [];
    rows.set(cmd.ip, []);
    const out = new AtomicWriter(cmd.file);
    out.write(`${SERVER_HEADER}\n`);
    // The capture server's junk row for each port it could not bind.
    for (const p of failed) out.write(`Failed, to, launch, ${p}\n`);
    for (const r of list) out.write(r);
    out.commit();
    print({ ack: cmd.id, rows: list.length });
  });
  rl.on('close', () => {
    for (const s of sockets) s.close();
    process.exit(0);
  });
}

// ---------------------------------------------------------------- one packet from a fresh socket
function sendFresh(local: number, server: string, port: number, payload: string): Promise<{ ok: boolean; time: number }> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    let done = false;
    const finish = (ok: boolean, time: number) => {
      if (done) return;
      done = true;
      try {
        s.close();
      } catch {
        /* closed */
      }
      resolve({ ok, time });
    };
    s.once('error', () => finish(false, Date.now()));
    s.bind(local, () => {
      const time = Date.now();
      s.send(payload, port, server, (err) => finish(!err, time));
    });
  });
}

// ---------------------------------------------------------------- capture client
async function capture(job: Extract<Job, { mode: 'capture' }>): Promise<void> {
  const out = new AtomicWriter(job.file);
  out.write(`${CLIENT_HEADER}\n`);
  const interval = 1000 / job.pps;
  const start = performance.now();
  let prevLocal = -1;
  let sent = 0;
  let failedRows = 0;
  let reused = 0;
  for (let i = 0; i < job.packets; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 0) await sleep(wait);
    const uuid = randomUUID();
    const dest = randInt(job.ports[0], job.ports[1]);
    let local: number;
    let reuse = false;
    // Like the simulator: sometimes the next send reuses the last local port towards another
    // server port (a fresh socket bound to the same port): the endpoint-dependence evidence.
    if (prevLocal > 1023 && Math.random() < job.reuseRate) {
      local = prevLocal;
      reuse = true;
    } else {
      do local = randInt(0, 65535);
      while (local === prevLocal && local !== 0);
    }
    if (local >= 1 && local <= 1023) {
      // The app cannot bind privileged ports; as root we could, so we refuse to, and log F.
      out.write(`${uuid}, ${Date.now()}, ${local}, ${dest}, F\n`);
      failedRows++;
      prevLocal = -1;
      continue;
    }
    const r = await sendFresh(local, job.server, dest, uuid);
    out.write(`${uuid}, ${r.time}, ${local}, ${dest}, ${r.ok ? 'S' : 'F'}\n`);
    if (r.ok) {
      sent++;
      if (reuse) reused++;
      prevLocal = local;
    } else {
      failedRows++;
      prevLocal = -1;
    }
  }
  await sleep(200);
  for (let k = 0; k < job.endMarkers; k++) await sendFresh(0, job.server, randInt(job.ports[0], job.ports[1]), END_OF_MESSAGE);
  out.commit();
  print({ rows: job.packets, sent, failed: failedRows, reused });
}

// ---------------------------------------------------------------- request/response helpers
/** Send `payload` (if any) and resolve with the first message `wanted` accepts, or null after `timeoutMs`. */
function ask(s: dgram.Socket, server: string, port: number, payload: string | null, wanted: (text: string) => boolean, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const onMsg = (msg: Buffer) => {
      const text = msg.toString('utf8');
      if (wanted(text)) {
        clearTimeout(timer);
        s.off('message', onMsg);
        resolve(text);
      }
    };
    const timer = setTimeout(() => {
      s.off('message', onMsg);
      resolve(null);
    }, timeoutMs);
    s.on('message', onMsg);
    if (payload !== null) s.send(payload, port, server);
  });
}

async function exchange(s: dgram.Socket, server: string, port: number, payload: string | null, expect: string, timeoutMs: number): Promise<boolean> {
  return (await ask(s, server, port, payload, (t) => t === expect, timeoutMs)) !== null;
}

async function openSocket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, () => r()));
  return s;
}

// ---------------------------------------------------------------- rule check
async function check(job: Extract<Job, { mode: 'check' }>): Promise<void> {
  const s = await openSocket();
  const id = randomUUID().slice(0, 8);
  let answer: string | null = null;
  s.on('message', (m) => {
    const t = m.toString('utf8');
    if (t.startsWith(`G ${id} `)) answer = t;
  });
  for (let i = 0; i < 10 && answer === null; i++) {
    s.send(`G ${id}`, job.port, job.server);
    await sleep(300);
  }
  s.close();
  if (answer === null) return print({ seen: null });
  const [, , ip, port] = (answer as string).split(' ');
  print({ seen: { ip, port: Number(port) } });
}

// ---------------------------------------------------------------- timeouts (Algorithms 2 and 3)
/**
 * A probe whose delayed reply the server sent more than this late is void and made again:
 * a silence longer than asked for would read as an expiry below the true timeout (seen on
 * a loaded 2-core machine). Small against the searches' 0.1 s resolution.
 */
const LATE_MS = 20;
const PROBE_ATTEMPTS = 6;

async function timeouts(job: Extract<Job, { mode: 'timeouts' }>): Promise<void> {
  let seq = 0;
  /** How late the server sent probe `id`'s delayed reply (ms), asked from a fresh socket (the probe's mapping may be gone); null: unknown. */
  const lateness = async (id: string, port: number): Promise<number | null> => {
    const s = await openSocket();
    try {
      for (let i = 0; i < 3; i++) {
        const answer = await ask(s, job.server, port, `T late ${id}`, (t) => t.startsWith(`L ${id} `), 1000);
        const late = answer === null ? NaN : Number(answer.split(' ')[2]);
        if (Number.isFinite(late)) return late;
      }
      return null;
    } finally {
      s.close();
    }
  };
  const probe = async (kind: TimeoutKind, seconds: number): Promise<boolean> => {
    for (let attempt = 1; ; attempt++) {
      const id = `${process.pid}-${++seq}`;
      const port = randInt(job.ports[0], job.ports[1]);
      const replied = await probeOnce(kind, seconds, id, port);
      const late = await lateness(id, port);
      if (late !== null && late <= LATE_MS) return replied;
      if (attempt === PROBE_ATTEMPTS) throw new Error(`${kind} probe of ${seconds} s: the server's reply left late (${late ?? 'unknown'} ms) in each of ${PROBE_ATTEMPTS} attempts; the machine is too busy to time NAT timeouts`);
    }
  };
  const probeOnce = async (kind: TimeoutKind, seconds: number, id: string, port: number): Promise<boolean> => {
    const ms = Math.round(seconds * 1000);
    const s = await openSocket();
    try {
      if (kind === 'wait') return await exchange(s, job.server, port, `T wait ${id} ${ms}`, `R ${id}`, ms + 1500);
      // idle: a completed exchange, still active after 2 s so the kernel moves it to the
      // stream timeout, then silence for `seconds`, then the server sends.
      if (!(await exchange(s, job.server, port, `T idle1 ${id}`, `R1 ${id}`, 1000))) throw new Error('idle probe: first exchange got no reply');
      await sleep(2500);
      const second = exchange(s, job.server, port, `T idle2 ${id} ${ms}`, `R2 ${id}`, 1000);
      const late = exchange(s, job.server, port, null, `R ${id}`, ms + 1500);
      if (!(await second)) throw new Error('idle probe: second exchange got no reply');
      return await late;
    } finally {
      s.close();
    }
  };
  const rows: Record<string, string[]> = {};
  const results: Record<string, { l: number; r: number; probes: number }[]> = {};
  await Promise.all(
    job.kinds.map(async (kind) => {
      rows[kind] = [];
      results[kind] = [];
      for (let rep = 1; rep <= job.repeats; rep++) {
        const res = await searchAsync(searchTimeout, (d) => probe(kind, d * job.scale));
        for (const p of res.probes) rows[kind]!.push(`${kind}-${rep}-${String(p.step).padStart(2, '0')},${kind},${+(p.delayS * job.scale).toFixed(3)},${p.replied}\n`);
        results[kind]!.push({ l: +(res.l * job.scale).toFixed(3), r: +(res.r * job.scale).toFixed(3), probes: res.probes.length });
      }
    }),
  );
  const out = new AtomicWriter(job.file);
  out.write(`${TIMEOUTS_HEADER}\n`);
  for (const kind of job.kinds) for (const r of rows[kind]!) out.write(r);
  out.commit();
  print(results);
}

// ---------------------------------------------------------------- RFC 5780 server
/**
 * One socket per (address, port) of the server's two addresses and two ports. Requests:
 * `S <id> M`: answer from this socket with the source seen; `S <id> F <ip> <port>`: answer
 * from the socket bound to ip:port instead (the filtering tests). Every answer is
 * `S <id> <seen ip> <seen port> <answering ip> <answering port>`. `G <id>` is answered
 * as the capture server does (the rule check).
 */
async function natServer(job: Extract<Job, { mode: 'nat-server' }>): Promise<void> {
  const sockets = new Map<string, dgram.Socket>();
  for (const address of job.addresses) {
    for (const port of job.ports) {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((res, rej) => {
        s.once('error', rej);
        s.bind(port, address, () => res());
      });
      sockets.set(`${address}:${port}`, s);
      s.on('message', (msg, rinfo) => {
        const parts = msg.toString('utf8').split(' ');
        // The rule check's probe (index.ts checkNat), as the capture server answers it.
        if (parts[0] === 'G') return void s.send(`G ${parts[1]} ${rinfo.address} ${rinfo.port}`, rinfo.port, rinfo.address);
        if (parts[0] !== 'S' || parts.length < 3) return;
        const from = parts[2] === 'F' ? sockets.get(`${parts[3]}:${parts[4]}`) : s;
        if (!from) return;
        const a = from.address();
        from.send(`S ${parts[1]} ${rinfo.address} ${rinfo.port} ${a.address} ${a.port}`, rinfo.port, rinfo.address);
      });
    }
  }
  print({ ready: true });
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('close', () => {
    for (const s of sockets.values()) s.close();
    process.exit(0);
  });
}

// ---------------------------------------------------------------- RFC 5780 client
async function natType(job: Extract<Job, { mode: 'nat-type' }>): Promise<void> {
  const [ip1, ip2] = job.addresses;
  const [p1, p2] = job.ports;
  let seq = 0;
  /** Ask (ip, port) with `body`; retry `attempts` times, `timeoutMs` each; the answer's fields or null. */
  const ask = async (s: dgram.Socket, ip: string, port: number, body: string): Promise<{ seen: string; from: string } | null> => {
    const id = `${process.pid}-${++seq}`;
    let answer: string[] | null = null;
    const onMsg = (m: Buffer) => {
      const parts = m.toString('utf8').split(' ');
      if (parts[0] === 'S' && parts[1] === id && parts.length === 6) answer = parts;
    };
    s.on('message', onMsg);
    try {
      for (let i = 0; i < job.attempts && answer === null; i++) {
        s.send(`S ${id} ${body}`, port, ip);
        const until = performance.now() + job.timeoutMs;
        while (answer === null && performance.now() < until) await sleep(10);
      }
    } finally {
      s.off('message', onMsg);
    }
    if (answer === null) return null;
    const a = answer as string[];
    return { seen: `${a[2]}:${a[3]}`, from: `${a[4]}:${a[5]}` };
  };
  const sockets: dgram.Socket[] = [];
  const open = async () => {
    const s = await openSocket();
    sockets.push(s);
    return s;
  };
  try {
    // 4.3 mapping: one socket, three destinations.
    const s1 = await open();
    const mapping: NatTypeObservation['mapping'] = [];
    for (const [ip, port] of [[ip1, p1], [ip2, p1], [ip2, p2]] as const) {
      mapping.push({ server: `${ip}:${port}`, mapped: (await ask(s1, ip, port, 'M'))?.seen ?? null });
    }
    // 4.4 filtering: a fresh socket (s1 has talked to IP2, which would open an address filter).
    const s2 = await open();
    const first = await ask(s2, ip1, p1, 'M');
    const tests: NatTypeObservation['filtering']['tests'] = [];
    if (first) {
      for (const [test, ip, port] of [['II', ip2, p2], ['III', ip1, p2]] as const) {
        const r = await ask(s2, ip1, p1, `F ${ip} ${port}`);
        tests.push({ test, replyFrom: `${ip}:${port}`, arrived: r !== null && r.from === `${ip}:${port}` });
      }
    }
    // Hairpinning: a third socket sends to s1's mapped address; does s1 get it?
    let hairpin: NatTypeObservation['hairpin'] = null;
    const target = mapping[0]!.mapped;
    if (target) {
      const s3 = await open();
      const [tip, tport] = target.split(':');
      const token = `H ${process.pid}-hairpin`;
      let arrived = false;
      s1.on('message', (m) => {
        if (m.toString('utf8') === token) arrived = true;
      });
      for (let i = 0; i < job.attempts && !arrived; i++) {
        s3.send(token, Number(tport), tip);
        const until = performance.now() + job.timeoutMs;
        while (!arrived && performance.now() < until) await sleep(10);
      }
      hairpin = { target, arrived };
    }
    const result: NatTypeObservation = {
      localPort: s1.address().port,
      mapping,
      filtering: { localPort: s2.address().port, mapped: first?.seen ?? null, tests },
      hairpin,
    };
    print(result);
  } finally {
    for (const s of sockets) s.close();
  }
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
process.stdin.resume();
const longLived = job.mode === 'server' || job.mode === 'nat-server';
if (!longLived) process.stdin.on('end', () => process.exit(3));
const main = { server, check, capture, timeouts, 'nat-server': natServer, 'nat-type': natType }[job.mode] as (j: Job) => Promise<void>;
main(job).then(
  () => {
    if (!longLived) process.exit(0);
  },
  (e: Error) => {
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
