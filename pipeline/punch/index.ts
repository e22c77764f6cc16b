/**
 * A reference birthday-paradox hole-punch engine over the netfilter lab: two peers,
 * each behind its own lab NAT, both reaching the public segment, where the lab's server
 * is the rendezvous. Per trial each side executes its half of a punch plan (the
 * contract's `PunchPlan`; peer.ts runs it with the referee's engine) for up to `budget`
 * packet slots at `rate` slots/s, both sides starting together:
 *   naive   from fresh sockets, uniform over 1024-65535 (what an engine without a table
 *           does; in the lab the peer's NAT only allocates inside its --to-ports range,
 *           so most naive packets aim where no mapping can be)
 *   biased  plan `marginal` / `topk:K`: from fresh sockets at the peer carrier's bias
 *           table's `marginal`, or evenly over its K likeliest ports; plan `table`: the
 *           plan evaluate published for the pair (reports to the rendezvous, learned
 *           mappings, sweeps, block rounds, prediction), as the referee prices it
 * A report is a packet to the rendezvous; its answer (the address the server saw) is
 * relayed to the other peer by this process, as a rendezvous would tell it. A trial
 * succeeds at the first bidirectional match: a packet from the peer arrives on one of
 * our sockets, we answer on that socket, the peer receives the answer. `packets` is the
 * slots the confirmed side had used by then. Conntrack is flushed in both NATs between
 * trials, so every trial starts without mappings, as the referee's do. Results go to
 * `trials-lab.csv` (`carrier_a,carrier_b,strategy,trial,outcome,packets,rate_pps`), appended.
 *
 * What the referee must be told to predict a lab punch (predict.ts): the lab's rate
 * and budget, each NAT's fitted wait timeout, no mapping limit (netfilter keeps as many
 * as conntrack holds); `fresh` sockets are one per slot up to FRESH_SOCKETS (the
 * referee's fresh sockets: a new mapping per packet). The relay takes about a
 * millisecond, well inside a slot at the rates the closed-loop test uses, which is the
 * referee's "known from the next step".
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { NatatlasError } from '../errors.ts';
import type { Logger } from '../context.ts';
import type { BiasTable, PortSegment, PunchPlan, SidePlan } from '../bias/types.ts';
import { topPorts, UNIFORM_TARGET } from '../evaluate/analytic.ts';
import type { LabCarrierDef } from '../lab/carriers.ts';
import { checkNat, withTopology } from '../lab/index.ts';
import { SERVER_IP, type CarrierNet, type Topology } from '../lab/topology.ts';
import { REPO_ROOT, spawnAgent, sleep } from '../lab/sh.ts';
import type { GoCommand } from './peer.ts';

export type Strategy = 'naive' | 'biased';
/** How the biased strategy aims: the peer's marginal, its top K, or the pair's published plan (A's side in `a`). */
export type Plan = { kind: 'marginal' } | { kind: 'topk'; k: number } | { kind: 'table'; plan: PunchPlan };

/** Fresh sockets a side opens per trial at most (one per packet slot up to this). */
export const FRESH_SOCKETS = 4096;
/** The rendezvous: the lab server's port that answers `G` with the address it saw. */
const RENDEZVOUS_PORT = 9999;

export const TRIALS_HEADER = 'carrier_a,carrier_b,strategy,trial,outcome,packets,rate_pps';
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
  /** Sockets per side for fresh-socket plans (default: one per packet slot, at most FRESH_SOCKETS). */
  sockets?: number;
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

/** Where to aim at a peer without a published plan: naive uniform, or the peer's table (marginal / top-K). */
export function targetDistribution(strategy: Strategy, peerTable: BiasTable | undefined, plan: Plan): PortSegment[] {
  if (strategy === 'naive') return [...UNIFORM_TARGET];
  if (!peerTable) throw new NatatlasError('punch: the biased strategy needs the peer carrier\'s bias table');
  if (plan.kind === 'table') throw new NatatlasError('punch: plan table aims as the published plan says, not at a target distribution');
  return plan.kind === 'marginal' ? [...peerTable.marginal] : topPorts(peerTable.marginal, plan.k);
}

/** What A and B each execute for a strategy: the published plan, or independent aims from fresh sockets. */
export function sidePlans(strategy: Strategy, opts: Pick<PunchOptions, 'plan' | 'biasA' | 'biasB'>): [SidePlan, SidePlan] {
  if (strategy === 'biased' && opts.plan.kind === 'table') return [opts.plan.plan.a, opts.plan.plan.b];
  const spray = (segments: PortSegment[]): SidePlan => ({ sockets: 'fresh', report: 'never', aim: { kind: 'segments', segments } });
  // A aims at B's NAT with B's table; B at A's with A's.
  return [spray(targetDistribution(strategy, opts.biasB, opts.plan)), spray(targetDistribution(strategy, opts.biasA, opts.plan))];
}

/** Sockets a side opens for a trial: one for `single`; for `fresh`, --sockets or one per slot (at most FRESH_SOCKETS). */
export function socketsFor(plan: SidePlan, budget: number, sockets: number | undefined): number {
  if (plan.sockets === 'single') return 1;
  return sockets ?? Math.min(budget, FRESH_SOCKETS);
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
  waitFor(key: string, id: number, timeoutMs = 60000): Promise<Record<string, number>> {
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

interface TrialSetup {
  id: number;
  plans: [SidePlan, SidePlan];
  /** Seed of this trial's aims (each side draws from its own stream). */
  seed: string;
}

async function oneTrial(topo: Topology, a: Peer, b: Peer, netA: CarrierNet, netB: CarrierNet, t: TrialSetup, opts: PunchOptions): Promise<{ outcome: 'S' | 'F'; packets: number; seconds: number }> {
  const { id, plans } = t;
  topo.flushConntrack(netA);
  topo.flushConntrack(netB);
  a.send({ cmd: 'prepare', id, sockets: socketsFor(plans[0], opts.budget, opts.sockets) });
  b.send({ cmd: 'prepare', id, sockets: socketsFor(plans[1], opts.budget, opts.sockets) });
  await Promise.all([a.waitFor('prepared', id), b.waitFor('prepared', id)]);
  const started = performance.now();
  const offs: (() => void)[] = [];
  const result = new Promise<{ outcome: 'S' | 'F'; packets: number }>((resolve) => {
    let exhausted = 0;
    let finished = false;
    const done = (r: { outcome: 'S' | 'F'; packets: number }) => {
      if (finished) return;
      finished = true;
      resolve(r);
    };
    for (const [p, other] of [[a, b], [b, a]] as const) {
      offs.push(
        p.on((m) => {
          // The rendezvous told p its mapping: tell the other side, as a rendezvous would.
          if (m.report === id) other.send({ cmd: 'peer', id, port: m.port, step: m.step });
          if (m.confirmed === id) done({ outcome: 'S', packets: m.sent! });
          if (m.exhausted === id && ++exhausted === 2) {
            // Give packets in flight a moment to land (a hop through two veths and an answer), then call it.
            setTimeout(() => done({ outcome: 'F', packets: opts.budget }), 250);
          }
        }),
      );
    }
  });
  const go = (plan: SidePlan, peer: CarrierNet, side: string): GoCommand => ({
    cmd: 'go', id, peer: peer.publicIp, rendezvous: { ip: SERVER_IP, port: RENDEZVOUS_PORT }, plan, seed: `${t.seed}/${side}`, budget: opts.budget, rate: opts.rate,
  });
  a.send(go(plans[0], netB, 'a'));
  b.send(go(plans[1], netA, 'b'));
  const r = await result;
  for (const off of offs) off();
  const seconds = (performance.now() - started) / 1000;
  a.send({ cmd: 'stop', id });
  b.send({ cmd: 'stop', id });
  await Promise.all([a.waitFor('stopped', id), b.waitFor('stopped', id)]);
  return { ...r, seconds };
}

/** Run trials between two lab NATs; appends to opts.out and returns every trial. */
export async function punch(opts: PunchOptions): Promise<TrialResult[]> {
  if (opts.carrierA.name === opts.carrierB.name && opts.carrierA !== opts.carrierB) throw new NatatlasError('punch: two different carriers with one name');
  // Refuse before the lab runs, not after minutes of trials.
  if (opts.out) existingTrials(opts.out);
  const plansOf = new Map(opts.strategies.map((s) => [s, sidePlans(s, opts)] as const));
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
      // The rule check's server, kept as the rendezvous for the reports.
      const server = spawnAgent(topo.srvNs, { mode: 'server', ports: [RENDEZVOUS_PORT, RENDEZVOUS_PORT] });
      const a = new Peer(spawnAgent(netA.clientNs, {}, PEER), 'A');
      const b = new Peer(spawnAgent(netB.clientNs, {}, PEER), 'B');
      try {
        await new Promise<void>((resolve, reject) => {
          server.on('exit', (c) => reject(new NatatlasError(`punch: rendezvous server exited (${c})`)));
          readline.createInterface({ input: server.stdout! }).once('line', () => resolve());
        });
        await Promise.all([checkNat(netA, RENDEZVOUS_PORT), checkNat(netB, RENDEZVOUS_PORT)]);
        let id = 0;
        for (const strategy of opts.strategies) {
          const plans = plansOf.get(strategy)!;
          for (let t = 1; t <= opts.trials; t++) {
            id++;
            const r = await oneTrial(topo, a, b, netA, netB, { id, plans, seed: `${opts.seed}/punch/${strategy}/${t}` }, opts);
            results.push({ carrierA: opts.carrierA.name, carrierB: opts.carrierB.name, strategy, trial: t, ...r });
            opts.log.info(`punch ${strategy} ${t}/${opts.trials}: ${r.outcome} after ${r.packets} packets per side (${r.seconds.toFixed(2)} s)`);
            await sleep(50);
          }
        }
      } finally {
        a.child.stdin!.end();
        b.child.stdin!.end();
        server.stdin!.end();
      }
    },
  );
  if (opts.out) appendTrials(opts.out, results, opts.rate);
  return results;
}

/**
 * The trials file punch appends to ('' when there is none yet). One whose header is not
 * punch's own is refused: a file from before `rate_pps` has trials of unknown rate, and
 * rows with a rate under its header would not fit (a new file keeps both truthful; ingest
 * reads every trials*.csv of a campaign).
 */
export function existingTrials(file: string): string {
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (existing === '') return existing;
  const header = existing.split('\n', 1)[0]!.trim();
  if (header !== TRIALS_HEADER) {
    const reason = header.split(',').includes('rate_pps') ? 'its columns are not punch\'s own' : 'it has no rate_pps column (an older punch wrote it, so its trials\' rate is not recorded)';
    throw new NatatlasError(`punch: will not append to ${file}: ${reason}; header ${JSON.stringify(header)}, punch writes ${JSON.stringify(TRIALS_HEADER)}. Give --out a new file next to it, e.g. ${path.join(path.dirname(file), 'trials-<name>.csv')} (ingest reads every trials*.csv)`);
  }
  return existing;
}

/** Append trials sent at `ratePps`, numbering on from the rows already there for the same pair and strategy. */
export function appendTrials(file: string, results: TrialResult[], ratePps: number): void {
  const existing = existingTrials(file);
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
    text += `${key},${n},${r.outcome},${r.packets},${ratePps}\n`;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, existing + text);
  fs.renameSync(tmp, file);
}

