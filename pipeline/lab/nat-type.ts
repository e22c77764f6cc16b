/**
 * RFC 5780 NAT behaviour discovery in the lab: section 4.3 (mapping) and 4.4 (filtering),
 * plus port preservation and hairpinning, with a small request/response protocol of
 * our own (not STUN) between a client agent in the carrier's client namespace and a
 * server agent answering on the server's two addresses x two ports (agent.ts
 * `nat-type` / `nat-server`). The result is the carrier's `nat-type.json`, which the
 * fit stage passes through (pipeline/fit/nat-type.ts).
 */
import readline from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { NatatlasError } from '../errors.ts';
import type { Logger } from '../context.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { stableStringify } from '../io/json.ts';
import type { NatTypeObservation } from './agent.ts';
import { SERVER_IP, SERVER_IP2, type CarrierNet, type Topology } from './topology.ts';
import { agentResult, spawnAgent } from './sh.ts';

export const NAT_TYPE_METHOD = 'RFC 5780 sections 4.3 and 4.4 (natatlas lab)';
/** The discovery server's two ports (P1, P2), on both addresses (outside the capture server's 10000-10999). */
export const NAT_TYPE_PORTS: [number, number] = [3478, 3479];
/** Per request: tries and the wait for each (a negative filtering test costs attempts x timeoutMs). */
export const NAT_TYPE_RETRY = { attempts: 4, timeoutMs: 400 };

export type MappingClass = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent' | 'unknown';
export type FilteringClass = MappingClass;

export interface NatTypeResult {
  method: typeof NAT_TYPE_METHOD;
  mapping: MappingClass;
  filtering: FilteringClass;
  /** Test I's mapped port equals the socket's local port. */
  portPreservation: boolean;
  /** A packet to the client's own mapped address from behind the same NAT came back in; null: not tested. */
  hairpinning: boolean | null;
  observed: NatTypeObservation & { serverAddresses: [string, string]; serverPorts: [number, number] };
}

/** RFC 5780 4.3 and 4.4 decision rules applied to what the agent saw. */
export function classifyNatType(obs: NatTypeObservation, serverAddresses: [string, string] = [SERVER_IP, SERVER_IP2], serverPorts: [number, number] = NAT_TYPE_PORTS): NatTypeResult {
  const [x1, x2, x3] = obs.mapping.map((m) => m.mapped);
  let mapping: MappingClass = 'unknown';
  if (x1 && x2) {
    if (x1 === x2) mapping = 'endpoint-independent';
    else if (x3) mapping = x2 === x3 ? 'address-dependent' : 'address-and-port-dependent';
  }
  let filtering: FilteringClass = 'unknown';
  const arrived = (t: 'II' | 'III') => obs.filtering.tests.find((x) => x.test === t)?.arrived;
  if (obs.filtering.mapped !== null && arrived('II') !== undefined && arrived('III') !== undefined) {
    filtering = arrived('II') ? 'endpoint-independent' : arrived('III') ? 'address-dependent' : 'address-and-port-dependent';
  }
  const port1 = x1 ? Number(x1.slice(x1.lastIndexOf(':') + 1)) : NaN;
  return {
    method: NAT_TYPE_METHOD,
    mapping,
    filtering,
    portPreservation: port1 === obs.localPort,
    hairpinning: obs.hairpin ? obs.hairpin.arrived : null,
    observed: { ...obs, serverAddresses, serverPorts },
  };
}

/** The discovery server in the server namespace; `stop()` closes its stdin (it exits). */
export class NatServer {
  private readonly readyPromise: Promise<void>;
  constructor(readonly child: ChildProcess) {
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    this.readyPromise = new Promise((resolve, reject) => {
      child.on('exit', (code) => reject(new NatatlasError(`lab: NAT-type server exited (${code}): ${err.trim().slice(-300)}`)));
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        if ((JSON.parse(line) as { ready?: boolean }).ready) resolve();
      });
    });
    this.readyPromise.catch(() => {});
  }
  static start(topo: Topology): NatServer {
    return new NatServer(spawnAgent(topo.srvNs, { mode: 'nat-server', addresses: [SERVER_IP, SERVER_IP2], ports: NAT_TYPE_PORTS }));
  }
  ready(): Promise<void> {
    return this.readyPromise;
  }
  stop(): void {
    this.child.stdin!.end();
  }
}

/** Run the discovery from the carrier's client namespace (the server must be up) and classify it. */
export async function discoverNatType(net: CarrierNet): Promise<NatTypeResult> {
  const obs = await agentResult<NatTypeObservation>(
    spawnAgent(net.clientNs, { mode: 'nat-type', addresses: [SERVER_IP, SERVER_IP2], ports: NAT_TYPE_PORTS, ...NAT_TYPE_RETRY }),
    `${net.def.name} NAT type`,
  );
  return classifyNatType(obs);
}

export function natTypeJson(result: NatTypeResult): string {
  return stableStringify(result);
}

export function writeNatType(file: string, result: NatTypeResult): Promise<void> {
  return writeFileAtomic(file, natTypeJson(result));
}

export function describeNatType(r: NatTypeResult): string {
  return `mapping ${r.mapping}, filtering ${r.filtering}, port ${r.portPreservation ? 'preserved' : 'not preserved'}, hairpinning ${r.hairpinning === null ? 'not tested' : r.hairpinning ? 'yes' : 'no'}`;
}

/**
 * Discovery on every carrier of a running lab (in parallel: each has its own NAT), then a
 * conntrack flush so later experiments start clean. `checkFirst` (index.ts `checkNat`) is
 * run against the discovery server first when no capture server checked the rules.
 * Returns carrier name -> result.
 */
export async function natTypes(topo: Topology, log: Logger, opts: { checkFirst?: (net: CarrierNet, port: number) => Promise<void> } = {}): Promise<Map<string, NatTypeResult>> {
  const server = NatServer.start(topo);
  try {
    await server.ready();
    if (opts.checkFirst) {
      await Promise.all(topo.carriers.map((net) => opts.checkFirst!(net, NAT_TYPE_PORTS[0])));
      for (const net of topo.carriers) topo.flushConntrack(net);
    }
    const results = await Promise.all(topo.carriers.map((net) => discoverNatType(net)));
    const out = new Map<string, NatTypeResult>();
    topo.carriers.forEach((net, i) => {
      out.set(net.def.name, results[i]!);
      log.info(`lab: ${net.def.name} NAT type: ${describeNatType(results[i]!)}`);
    });
    return out;
  } finally {
    server.stop();
    for (const net of topo.carriers) topo.flushConntrack(net);
  }
}
