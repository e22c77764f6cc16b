/**
 * A reference birthday-paradox hole-punch engine over the netfilter lab: two peers,
 * each behind its own lab NAT, both reaching the public segment. Per trial each side
 * opens `sockets` UDP sockets and sends up to `budget` packets at `rate` packets/s,
 * round-robin over its sockets, each to a port of the peer's NAT drawn from the
 * strategy's targeting distribution:
 *   naive   uniform over 1024-65535 (what an engine without a table does; in the lab
 *           the peer's NAT only allocates inside its --to-ports range, so most naive
 *           packets aim where no mapping can be)
 *   biased  the peer carrier's bias table: its `marginal`, or (plan topk:K) spread
 *           evenly over the table's K most likely ports
 * A trial succeeds at the first bidirectional match: a packet from the peer arrives on
 * one of our sockets, we answer on that socket, the peer receives the answer. `packets`
 * is what the confirmed side had sent by then (the sides send in lockstep). Conntrack
 * is flushed in both NATs between trials. Results go to `trials-lab.csv`
 * (`carrier_a,carrier_b,strategy,trial,outcome,packets`), appended.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { NatatlasError } from '../errors.ts';
import type { Logger } from '../context.ts';
import type { BiasTable, PortSegment } from '../bias/types.ts';
import { topPorts, UNIFORM_TARGET } from '../evaluate/analytic.ts';
import { Rng } from '../random.ts';
import type { LabCarrierDef } from '../lab/carriers.ts';
import { checkNat, withTopology } from '../lab/index.ts';
import type { CarrierNet, Topology } from '../lab/topology.ts';
import { REPO_ROOT, spawnAgent, sleep } from '../lab/sh.ts';

export type Strategy = 'naive' | 'biased';
export type Plan = { kind: 'marginal' } | { kind: 'topk'; k: number };

export const TRIALS_HEADER = 'carrier_a,carrier_b,strategy,trial,outcome,packets';
const PEER = path.join(REPO_ROOT, 'pipeline/punch/peer.ts');

export interface PunchOptions {
  carrierA: LabCarrierDef;
  carrierB: LabCarrierDef;
  /** Bias tables of A's and B's carriers (B aims with A's table, A with B's); needed for `biased`. */
  biasA?: BiasTable;
  biasB?: BiasTable;
  strategies: Strategy[];
  plan: Plan;
  trials: number;
  /** Packets per side per trial. */
  budget: number;
  /** Packets per second per side. */
  rate: number;
  sockets: number;
  seed: string;
  /** trials CSV to append to (omit: none written). */
  out?: string;
  log: Logger;
}

export interface TrialResult {
  carrierA: string;
  carrierB: string;
  strategy: Strategy;
  trial: number;
  outcome: 'S' | 'F';
  packets: number;
  seconds: number;
}

/** Where to aim at a peer: naive uniform, or the peer's table (marginal / top-K). */
export function targetDistribution(strategy: Strategy, peerTable: BiasTable | undefined, plan: Plan): readonly PortSegment[] {
  if (strategy === 'naive') return UNIFORM_TARGET;
  if (!peerTable) throw new NatatlasError('punch: the biased strategy needs the peer carrier\'s bias table');
  return plan.kind === 'marginal' ? peerTable.marginal : topPorts(peerTable.marginal, plan.k);
}

/** n ports drawn from segments (mass picks a segment, then a uniform port in it). */
export function samplePorts(segs: readonly PortSegment[], n: number, rng: Rng): number[] {
  const cum: number[] = [];
  let total = 0;
  for (const s of segs) cum.push((total += s[2]));
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.next() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    const [a, b] = segs[lo]!;
    out[i] = a + Math.floor(rng.next() * (b - a + 1));
  }
  return out;
}

class Peer {
  private handlers: ((msg: Record<string, number>) => void)[] = [];
  constructor(readonly child: ChildProcess, readonly name: string) {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, number>;
      for (const h of [...this.handlers]) h(msg);
    });
  }
  send(cmd: object): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }
  on(h: (msg: Record<string, number>) => void): () => void {
    this.handlers.push(h);
    return () => (this.handlers = this.handlers.filter((x) => x !== h));
  }
  waitFor(key: string, id: number, timeoutMs = 30000): Promise<Record<string, number>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new NatatlasError(`punch: peer ${this.name} did not answer ${key} ${id}`));
      }, timeoutMs);
      const off = this.on((m) => {
        if (m[key] === id) {
          clearTimeout(timer);
          off();
          resolve(m);
        }
      });
    });
  }
}

async function oneTrial(topo: Topology, a: Peer, b: Peer, netA: CarrierNet, netB: CarrierNet, id: number, targetsA: number[], targetsB: number[], opts: PunchOptions): Promise<{ outcome: 'S' | 'F'; packets: number; seconds: number }> {
  topo.flushConntrack(netA);
  topo.flushConntrack(netB);
  a.send({ cmd: 'prepare', id, sockets: opts.sockets });
  b.send({ cmd: 'prepare', id, sockets: opts.sockets });
  await Promise.all([a.waitFor('prepared', id), b.waitFor('prepared', id)]);
  const started = performance.now();
  const result = new Promise<{ outcome: 'S' | 'F'; packets: number }>((resolve) => {
    let exhausted = 0;
    let finished = false;
    const offs: (() => void)[] = [];
    const done = (r: { outcome: 'S' | 'F'; packets: number }) => {
      if (finished) return;
      finished = true;
      for (const off of offs) off();
      resolve(r);
    };
    for (const p of [a, b]) {
      offs.push(
        p.on((m) => {
          if (m.confirmed === id) done({ outcome: 'S', packets: m.sent! });
          if (m.exhausted === id && ++exhausted === 2) {
            // Give packets in flight a moment to land, then call it.
            setTimeout(() => done({ outcome: 'F', packets: opts.budget }), 500);
          }
        }),
      );
    }
  });
  a.send({ cmd: 'go', id, peer: netB.publicIp, targets: targetsA, rate: opts.rate });
  b.send({ cmd: 'go', id, peer: netA.publicIp, targets: targetsB, rate: opts.rate });
  const r = await result;
  const seconds = (performance.now() - started) / 1000;
  a.send({ cmd: 'stop', id });
  b.send({ cmd: 'stop', id });
  await Promise.all([a.waitFor('stopped', id), b.waitFor('stopped', id)]);
  return { ...r, seconds };
}

/** Run trials between two lab NATs; appends to opts.out and returns every trial. */
export async function punch(opts: PunchOptions): Promise<TrialResult[]> {
  if (opts.carrierA.name === opts.carrierB.name && opts.carrierA !== opts.carrierB) throw new NatatlasError('punch: two different carriers with one name');
  const rng = new Rng(opts.seed);
  const results: TrialResult[] = [];
  await withTopology(
    opts.log,
    (topo) => {
      topo.buildCore();
      topo.addCarrier(opts.carrierA);
      topo.addCarrier(opts.carrierB);
    },
    async (topo) => {
      const [netA, netB] = topo.carriers as [CarrierNet, CarrierNet];
      // The rule check needs a server on the public segment.
      const server = spawnAgent(topo.srvNs, { mode: 'server', ports: [9999, 9999] });
      try {
        await new Promise<void>((resolve, reject) => {
          server.on('exit', (c) => reject(new NatatlasError(`punch: check server exited (${c})`)));
          readline.createInterface({ input: server.stdout! }).once('line', () => resolve());
        });
        await Promise.all([checkNat(netA, 9999), checkNat(netB, 9999)]);
      } finally {
        server.stdin!.end();
      }
      const a = new Peer(spawnAgent(netA.clientNs, {}, PEER), 'A');
      const b = new Peer(spawnAgent(netB.clientNs, {}, PEER), 'B');
      try {
        let id = 0;
        for (const strategy of opts.strategies) {
          // A aims at B's NAT with B's table; B at A's with A's.
          const towardB = targetDistribution(strategy, opts.biasB, opts.plan);
          const towardA = targetDistribution(strategy, opts.biasA, opts.plan);
          for (let t = 1; t <= opts.trials; t++) {
            id++;
            const r = await oneTrial(topo, a, b, netA, netB, id, samplePorts(towardB, opts.budget, rng), samplePorts(towardA, opts.budget, rng), opts);
            results.push({ carrierA: opts.carrierA.name, carrierB: opts.carrierB.name, strategy, trial: t, ...r });
            opts.log.info(`punch ${strategy} ${t}/${opts.trials}: ${r.outcome} after ${r.packets} packets per side (${r.seconds.toFixed(2)} s)`);
            await sleep(50);
          }
        }
      } finally {
        a.child.stdin!.end();
        b.child.stdin!.end();
      }
    },
  );
  if (opts.out) appendTrials(opts.out, results);
  return results;
}

/** Append trials, numbering on from the rows already there for the same pair and strategy. */
export function appendTrials(file: string, results: TrialResult[]): void {
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const last = new Map<string, number>();
  for (const line of existing.split('\n').slice(1)) {
    const [ca, cb, st, tr] = line.split(',');
    if (!tr) continue;
    const key = `${ca},${cb},${st}`;
    last.set(key, Math.max(last.get(key) ?? 0, Number(tr)));
  }
  let text = existing === '' ? `${TRIALS_HEADER}\n` : existing.endsWith('\n') ? '' : '\n';
  for (const r of results) {
    const key = `${r.carrierA},${r.carrierB},${r.strategy}`;
    const n = (last.get(key) ?? 0) + 1;
    last.set(key, n);
    text += `${key},${n},${r.outcome},${r.packets}\n`;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, existing + text);
  fs.renameSync(tmp, file);
}

