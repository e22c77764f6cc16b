/**
 * One punching peer, run inside its client namespace: it executes one side of a punch
 * plan (the contract's `SidePlan`) with the referee's own engine (evaluate/referee/
 * engine.ts), so the lab aims exactly as the simulator does. Commands on stdin (JSON lines):
 *   {cmd:'prepare', id, sockets}     open N UDP sockets (random local ports)
 *   {cmd:'go', id, peer, rendezvous, plan, seed, budget, rate}
 *                                    packet slot k (0-based) at k / rate seconds: a report
 *                                    (`G id/k` to the rendezvous, which answers with the
 *                                    address it saw) or a punch (`P id`) to the port the
 *                                    engine aims at; a slot with nothing to aim at yet
 *                                    (the peer's report not known) passes unused, as in
 *                                    the referee
 *   {cmd:'peer', id, port, step}     the peer's report, relayed by the orchestrator
 *   {cmd:'stop', id}                 stop, close the sockets
 * `single` sockets: every slot uses socket 0; `fresh`: slot k uses socket k mod N (one per
 * slot when N >= budget).
 * Events on stdout: {prepared}, {report, step, port} (our mapping as the rendezvous saw
 * it), {hit, sent} (first packet from the peer: replied on that socket), {confirmed, sent}
 * (the peer's reply to our hit: the path works both ways), {exhausted, sent}, {stopped,
 * sent}; `sent` counts slots, as the referee counts packets.
 */
import dgram from 'node:dgram';
import readline from 'node:readline';
import type { SidePlan } from '../bias/types.ts';
import type { Engine } from '../evaluate/referee/engine.ts';
import { Rng } from '../random.ts';
import { aimingEngine } from './aim.ts';

interface Trial {
  id: number;
  sockets: dgram.Socket[];
  sent: number;
  stopped: boolean;
  hit: boolean;
  confirmed: boolean;
  timer: NodeJS.Timeout | null;
  engine: Engine | null;
}

export interface GoCommand {
  cmd: 'go';
  id: number;
  peer: string;
  rendezvous: { ip: string; port: number };
  plan: SidePlan;
  seed: string;
  budget: number;
  rate: number;
}

type Command = { cmd: 'prepare'; id: number; sockets: number } | GoCommand | { cmd: 'peer'; id: number; port: number; step: number } | { cmd: 'stop'; id: number };

const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
let trial: Trial | null = null;

async function prepare(id: number, n: number): Promise<void> {
  const t: Trial = { id, sockets: [], sent: 0, stopped: false, hit: false, confirmed: false, timer: null, engine: null };
  for (let i = 0; i < n; i++) {
    const s = dgram.createSocket('udp4');
    s.on('error', () => {});
    await new Promise<void>((r) => s.bind(0, () => r()));
    s.on('message', (msg, rinfo) => {
      if (t.stopped) return;
      const [kind, tag, , port] = msg.toString('utf8').split(' ');
      if (kind === 'G') {
        // The rendezvous's answer to a report: `G id/step ip port`.
        const [tid, step] = (tag ?? '').split('/').map(Number);
        if (tid === t.id) print({ report: t.id, step, port: Number(port) });
        return;
      }
      if (Number(tag) !== t.id) return;
      if (kind === 'P') {
        // The peer's guess met one of our mappings: answer on this socket.
        s.send(`A ${t.id}`, rinfo.port, rinfo.address);
        if (!t.hit) {
          t.hit = true;
          print({ hit: t.id, sent: t.sent });
        }
      } else if (kind === 'A' && !t.confirmed) {
        t.confirmed = true;
        print({ confirmed: t.id, sent: t.sent });
      }
    });
    t.sockets.push(s);
  }
  trial = t;
  print({ prepared: id });
}

function go(c: GoCommand): void {
  const t = trial;
  if (!t || t.id !== c.id) return;
  const engine = aimingEngine(c.plan);
  t.engine = engine;
  const rng = new Rng(c.seed);
  const single = c.plan.sockets === 'single';
  const start = performance.now();
  const punch = Buffer.from(`P ${c.id}`);
  const tick = () => {
    if (t.stopped) return;
    const due = Math.min(c.budget, Math.floor(((performance.now() - start) / 1000) * c.rate) + 1);
    while (t.sent < due) {
      const k = t.sent;
      const s = t.sockets[single ? 0 : k % t.sockets.length]!;
      t.sent++;
      if (engine.isReport(k)) s.send(`G ${c.id}/${k}`, c.rendezvous.port, c.rendezvous.ip);
      else {
        const port = engine.target(k, rng);
        if (port >= 0) s.send(punch, port, c.peer);
      }
    }
    if (t.sent >= c.budget) {
      print({ exhausted: c.id, sent: t.sent });
      return;
    }
    t.timer = setTimeout(tick, Math.max(0, Math.min(2, ((t.sent / c.rate) * 1000) - (performance.now() - start))));
  };
  tick();
}

function learn(id: number, port: number, step: number): void {
  if (trial?.id === id && trial.engine) trial.engine.peer = { port, step };
}

function stop(id: number): void {
  const t = trial;
  if (!t || t.id !== id) {
    print({ stopped: id, sent: 0 });
    return;
  }
  t.stopped = true;
  if (t.timer) clearTimeout(t.timer);
  for (const s of t.sockets) s.close();
  trial = null;
  print({ stopped: id, sent: t.sent });
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const c = JSON.parse(line) as Command;
  if (c.cmd === 'prepare') void prepare(c.id, c.sockets);
  else if (c.cmd === 'go') go(c);
  else if (c.cmd === 'peer') learn(c.id, c.port, c.step);
  else if (c.cmd === 'stop') stop(c.id);
});
rl.on('close', () => process.exit(0));
