/**
 * `natatlas lab`: build a netfilter lab (see topology.ts), capture a campaign through
 * each carrier's NAT with the Android app's protocol, probe its timeouts with the
 * seed's Algorithms 2 and 3, classify each NAT with RFC 5780's mapping and filtering
 * tests (nat-type.ts; `nat-type.json` per carrier), and write `raw/<campaign>/` in the raw formats, plus
 * `lab.json` (the truth: rules, timeouts, versions) and a README. The campaign
 * folder appears whole or not at all; the lab's namespaces are gone afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { NatatlasError } from '../errors.ts';
import { pidAlive } from '../io/lock.ts';
import type { Logger } from '../context.ts';
import { stableJson, labReadme } from './readme.ts';
import type { LabCarrierDef } from './carriers.ts';
import { Topology, cleanupStale, SERVER_IP, type CarrierNet } from './topology.ts';
import { agentResult, isRoot, run, sleep, spawnAgent, toolVersions } from './sh.ts';
import { natTypes, writeNatType, type NatTypeResult } from './nat-type.ts';

export interface LabOptions {
  /** Raw root (the campaign goes to outDir/campaign). */
  outDir: string;
  campaign: string;
  carriers: LabCarrierDef[];
  runs: number;
  /** Client packets per run. */
  packets: number;
  /** Send rate (the app: 50/s). */
  pps: number;
  serverPorts: [number, number];
  reuseRate: number;
  endMarkers: number;
  /** Timeout searches per kind (0: no timeouts.csv). */
  timeoutRepeats: number;
  /** Seconds per unit of the seed's search: 0.1 turns its 20 s sweep into 2 s steps and its 1 s binary search into 0.1 s. */
  timeoutScale: number;
  /** Run the RFC 5780 NAT-type discovery and write `nat-type.json` per carrier. */
  natType: boolean;
  /** Replace an existing campaign folder. */
  force: boolean;
  log: Logger;
  /** Called once the topology is up (tests use it to kill the lab mid-run). */
  onReady?: (topo: Topology) => void;
}

export const LAB_DEFAULTS = { runs: 3, packets: 500, pps: 50, serverPorts: [10000, 10999] as [number, number], reuseRate: 0.05, endMarkers: 3, timeoutRepeats: 1, timeoutScale: 0.1, natType: true };

export interface LabCarrierReport {
  carrier: string;
  publicIp: string;
  rules: string[];
  waitS: number;
  idleS: number;
  runs: { client: { rows: number; sent: number; failed: number; reused: number }; serverRows: number }[];
  timeouts: Record<string, { l: number; r: number; probes: number }[]> | null;
  /** The RFC 5780 classification (the whole record is the carrier's nat-type.json); null: skipped. */
  natType: Pick<NatTypeResult, 'mapping' | 'filtering' | 'portPreservation' | 'hairpinning'> | null;
}

export interface LabReport {
  campaign: string;
  dir: string;
  carriers: LabCarrierReport[];
  seconds: number;
}

/** Refuse to run unless root and namespaces work; clean up labs that were SIGKILLed. */
export function preflight(log: Logger): void {
  if (!isRoot()) throw new NatatlasError('lab: must run as root (it creates network namespaces and netfilter rules inside them)');
  for (const tool of ['ip', 'iptables', 'conntrack', 'sysctl']) {
    if (run('sh', ['-c', `command -v ${tool}`], { allowFail: true }).trim() === '') throw new NatatlasError(`lab: \`${tool}\` not found (apt-get install -y iproute2 iptables conntrack procps)`);
  }
  const stale = cleanupStale();
  if (stale.length > 0) log.warn(`lab: removed ${stale.length} namespaces left by dead labs (${stale.join(', ')})`);
}

/**
 * Tags of this process's topologies that are up. A second one built while the first is
 * (two punches side by side) gets `<pid>-2`, so its namespaces are its own and still
 * carry this process's pid for `cleanupStale`.
 */
const liveTags = new Set<string>();

function freeTag(): string {
  for (let k = 1; ; k++) {
    const tag = k === 1 ? String(process.pid) : `${process.pid}-${k}`;
    if (!liveTags.has(tag)) return tag;
  }
}

/**
 * Build the topology, run `body`, tear down whatever happens: error, SIGINT, SIGTERM
 * (the handlers tear down, then exit 130/143). SIGKILL is left to `cleanupStale`.
 */
export async function withTopology<T>(log: Logger, build: (topo: Topology) => void, body: (topo: Topology) => Promise<T>): Promise<T> {
  preflight(log);
  const tag = freeTag();
  liveTags.add(tag);
  const topo = new Topology(tag);
  const onSignal = (sig: NodeJS.Signals) => {
    log.warn(`lab: ${sig}: tearing down ${topo.prefix}*`);
    topo.teardown();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const onExit = () => topo.teardown();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
  try {
    try {
      build(topo);
    } catch (e) {
      if (e instanceof NatatlasError && /netns add/.test(e.message)) throw new NatatlasError(`lab: cannot create network namespaces here: ${e.message}`);
      throw e;
    }
    return await body(topo);
  } finally {
    topo.teardown();
    liveTags.delete(tag);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  }
}

/** The capture server agent with a line-oriented command channel. */
export class ServerAgent {
  private readonly pending = new Map<number, (rows: number) => void>();
  private nextId = 1;
  private readyPromise: Promise<void>;
  constructor(readonly child: ChildProcess) {
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    this.readyPromise = new Promise((resolve, reject) => {
      child.on('exit', (code) => reject(new NatatlasError(`lab: capture server exited (${code}): ${err.trim().slice(-300)}`)));
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line) as { ready?: boolean; ack?: number; rows?: number };
        if (msg.ready) resolve();
        if (msg.ack !== undefined) {
          this.pending.get(msg.ack)?.(msg.rows ?? 0);
          this.pending.delete(msg.ack);
        }
      });
    });
    this.readyPromise.catch(() => {});
  }
  ready(): Promise<void> {
    return this.readyPromise;
  }
  /** Write the rows seen from `ip` since the last flush to `file`; resolves with their count. */
  flush(ip: string, file: string): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin!.write(`${JSON.stringify({ cmd: 'flush', ip, file, id })}\n`);
    });
  }
  stop(): void {
    this.child.stdin!.end();
  }
}

/** Send one probe through the NAT and check the server saw the NAT's public address. */
/**
 * A topology with the core and one NAT per carrier (names must be distinct), logged
 * once it is up; `body` runs inside it and everything is torn down after.
 */
async function withCarriers<T>(carriers: LabCarrierDef[], log: Logger, body: (topo: Topology) => Promise<T>): Promise<T> {
  const names = new Set<string>();
  for (const c of carriers) {
    if (names.has(c.name)) throw new NatatlasError(`lab: carrier ${c.name} given twice`);
    names.add(c.name);
  }
  return withTopology(
    log,
    (topo) => {
      topo.buildCore();
      for (const c of carriers) topo.addCarrier(c);
    },
    async (topo) => {
      log.info(`lab: ${topo.prefix}* up: ${topo.carriers.map((c) => `${c.def.name} (${c.publicIp})`).join(', ')}`);
      return body(topo);
    },
  );
}

export async function checkNat(net: CarrierNet, serverPort: number): Promise<void> {
  const res = await agentResult<{ seen: { ip: string; port: number } | null }>(spawnAgent(net.clientNs, { mode: 'check', server: SERVER_IP, port: serverPort }), `${net.def.name} rule check`);
  if (res.seen === null) throw new NatatlasError(`lab: ${net.def.name}: the check probe never reached the server through the NAT (rules: ${net.rules.join('; ')})`);
  if (res.seen.ip !== net.publicIp) throw new NatatlasError(`lab: ${net.def.name}: the server saw source ${res.seen.ip}, not the NAT's ${net.publicIp}: the NAT rule did not apply (rules: ${net.rules.join('; ')})`);
}

export async function runLab(opts: LabOptions): Promise<LabReport> {
  const started = performance.now();
  const final = path.resolve(opts.outDir, opts.campaign);
  if (fs.existsSync(final) && !opts.force) throw new NatatlasError(`lab: ${final} exists (use --force to replace it)`);
  // `*.tmp-*` is git-ignored; a staging folder of a dead lab is removed here, ours on exit.
  const staging = `${final}.tmp-lab-${process.pid}`;
  removeStaleStaging(final);
  fs.rmSync(staging, { recursive: true, force: true });
  const dropStaging = () => fs.rmSync(staging, { recursive: true, force: true });
  process.on('exit', dropStaging);
  try {
    const reports = await withCarriers(
      opts.carriers,
      opts.log,
      async (topo) => {
        opts.onReady?.(topo);
        const server = new ServerAgent(spawnAgent(topo.srvNs, { mode: 'server', ports: opts.serverPorts }));
        try {
          await server.ready();
          await Promise.all(topo.carriers.map((net) => checkNat(net, opts.serverPorts[0])));
          for (const net of topo.carriers) topo.flushConntrack(net);
          // Before the capture: natTypes flushes conntrack after it, so runs start clean.
          const types = opts.natType ? await natTypes(topo, opts.log) : new Map<string, NatTypeResult>();
          // The staging folder exists once "capturing" is said (a test interrupting the lab then expects it).
          fs.mkdirSync(staging, { recursive: true });
          opts.log.info(`lab: every NAT rewrites the source address; capturing ${opts.runs} x ${opts.packets} packets per carrier`);
          return await Promise.all(topo.carriers.map((net) => carrierCampaign(net, server, staging, opts, types.get(net.def.name) ?? null)));
        } finally {
          server.stop();
        }
      },
    );
    const versions = toolVersions();
    fs.writeFileSync(path.join(staging, 'lab.json'), stableJson({ schema: 'natatlas.lab/1', options: { runs: opts.runs, packets: opts.packets, pps: opts.pps, serverPorts: opts.serverPorts, reuseRate: opts.reuseRate, endMarkers: opts.endMarkers, timeoutRepeats: opts.timeoutRepeats, timeoutScale: opts.timeoutScale }, carriers: reports, versions }));
    fs.writeFileSync(path.join(staging, 'README.md'), labReadme(opts, reports, versions));
    fs.rmSync(final, { recursive: true, force: true });
    fs.renameSync(staging, final);
    return { campaign: opts.campaign, dir: final, carriers: reports, seconds: (performance.now() - started) / 1000 };
  } finally {
    dropStaging();
    process.off('exit', dropStaging);
  }
}

function removeStaleStaging(final: string): void {
  const dir = path.dirname(final);
  const prefix = `${path.basename(final)}.tmp-lab-`;
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!pidAlive(pid)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

async function carrierCampaign(net: CarrierNet, server: ServerAgent, staging: string, opts: LabOptions, natType: NatTypeResult | null): Promise<LabCarrierReport> {
  const dir = path.join(staging, net.def.name);
  fs.mkdirSync(dir, { recursive: true });
  if (natType) await writeNatType(path.join(dir, 'nat-type.json'), natType);
  const timeoutsDone =
    opts.timeoutRepeats > 0
      ? agentResult<Record<string, { l: number; r: number; probes: number }[]>>(
          spawnAgent(net.clientNs, { mode: 'timeouts', server: SERVER_IP, ports: opts.serverPorts, kinds: ['wait', 'idle'], repeats: opts.timeoutRepeats, scale: opts.timeoutScale, file: path.join(dir, 'timeouts.csv') }),
          `${net.def.name} timeouts`,
        )
      : Promise.resolve(null);
  const runs: LabCarrierReport['runs'] = [];
  for (let r = 1; r <= opts.runs; r++) {
    const nn = String(r).padStart(2, '0');
    const client = await agentResult<LabCarrierReport['runs'][number]['client']>(
      spawnAgent(net.clientNs, { mode: 'capture', server: SERVER_IP, ports: opts.serverPorts, packets: opts.packets, pps: opts.pps, reuseRate: opts.reuseRate, endMarkers: opts.endMarkers, file: path.join(dir, `client-${nn}.csv`) }),
      `${net.def.name} run ${r}`,
    );
    await sleep(500);
    const serverRows = await server.flush(net.publicIp, path.join(dir, `server-${nn}.csv`));
    runs.push({ client, serverRows });
    opts.log.info(`lab: ${net.def.name} run ${r}/${opts.runs}: ${client.sent} sent, ${client.failed} F, server saw ${serverRows}`);
    // Let every mapping of this run expire before the next (runs are independent, as 5 min apart in the app).
    if (r < opts.runs) await sleep((net.def.waitS + 1) * 1000);
  }
  const timeouts = await timeoutsDone;
  if (timeouts) opts.log.info(`lab: ${net.def.name} timeouts: wait ${JSON.stringify(timeouts.wait)} idle ${JSON.stringify(timeouts.idle)} (set ${net.def.waitS}/${net.def.idleS} s)`);
  const natSummary = natType ? { mapping: natType.mapping, filtering: natType.filtering, portPreservation: natType.portPreservation, hairpinning: natType.hairpinning } : null;
  return { carrier: net.def.name, publicIp: net.publicIp, rules: net.rules, waitS: net.def.waitS, idleS: net.def.idleS, runs, timeouts, natType: natSummary };
}

export interface NatTypeOnlyOptions {
  outDir: string;
  campaign: string;
  carriers: LabCarrierDef[];
  log: Logger;
}

/**
 * `natatlas lab --nat-type-only`: build the carriers' NATs, run only the RFC 5780 discovery
 * and write OUT/CAMPAIGN/<carrier>/nat-type.json, each atomically. Nothing else in the
 * campaign folder is touched (captures, lab.json and README stay as they are).
 */
export async function runNatTypeOnly(opts: NatTypeOnlyOptions): Promise<Map<string, NatTypeResult>> {
  const results = await withCarriers(opts.carriers, opts.log, (topo) => natTypes(topo, opts.log, { checkFirst: checkNat }));
  for (const [carrier, result] of results) {
    const file = path.resolve(opts.outDir, opts.campaign, carrier, 'nat-type.json');
    await writeNatType(file, result);
    opts.log.info(`lab: wrote ${path.relative(process.cwd(), file) || file}`);
  }
  return results;
}
