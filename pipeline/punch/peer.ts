/**
 * One punching peer, run inside its client namespace. Commands on stdin (JSON lines):
 *   {cmd:'prepare', id, sockets}           open N UDP sockets (random local ports)
 *   {cmd:'go', id, peer, targets, rate}    send one packet per target port, round-robin
 *                                          over the sockets, `rate` packets/s
 *   {cmd:'stop', id}                       stop, close the sockets
 * Events on stdout: {prepared}, {hit, sent} (first packet from the peer: replied on
 * that socket), {confirmed, sent} (the peer's reply to our hit, or a hit on a socket
 * whose packet the peer already answered: the path works both ways), {exhausted, sent},
 * {stopped, sent}.
 */
import dgram from 'node:dgram';
import readline from 'node:readline';

interface Trial {
  id: number;
  sockets: dgram.Socket[];
  sent: number;
  stopped: boolean;
  hit: boolean;
  confirmed: boolean;
  timer: NodeJS.Timeout | null;
}

const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
let trial: Trial | null = null;

async function prepare(id: number, n: number): Promise<void> {
  const t: Trial = { id, sockets: [], sent: 0, stopped: false, hit: false, confirmed: false, timer: null };
  for (let i = 0; i < n; i++) {
    const s = dgram.createSocket('udp4');
    s.on('error', () => {});
    await new Promise<void>((r) => s.bind(0, () => r()));
    s.on('message', (msg, rinfo) => {
      if (t.stopped) return;
      const [kind, tid] = msg.toString('utf8').split(' ');
      if (Number(tid) !== t.id) return;
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

function go(id: number, peer: string, targets: number[], rate: number): void {
  const t = trial;
  if (!t || t.id !== id) return;
  const start = performance.now();
  const payload = Buffer.from(`P ${id}`);
  const tick = () => {
    if (t.stopped) return;
    const due = Math.min(targets.length, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    while (t.sent < due) {
      const s = t.sockets[t.sent % t.sockets.length]!;
      s.send(payload, targets[t.sent]!, peer);
      t.sent++;
    }
    if (t.sent >= targets.length) {
      print({ exhausted: id, sent: t.sent });
      return;
    }
    t.timer = setTimeout(tick, 2);
  };
  tick();
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
  const c = JSON.parse(line) as { cmd: string; id: number; sockets?: number; peer?: string; targets?: number[]; rate?: number };
  if (c.cmd === 'prepare') void prepare(c.id, c.sockets ?? 1);
  else if (c.cmd === 'go') go(c.id, c.peer!, c.targets!, c.rate!);
  else if (c.cmd === 'stop') stop(c.id);
});
rl.on('close', () => process.exit(0));
