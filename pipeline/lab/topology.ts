/**
 * The lab's network: namespaces it creates and owns, named `nl-<pid>-...`, torn down
 * on exit, on error and on SIGINT/SIGTERM. `NATATLAS_LAB_NETNS=<family>` replaces the
 * leading `nl` (tests give each run its own family, so two runs on one machine never
 * see, count or clean up each other's namespaces). Nothing is created in the root namespace:
 * every veth is made with both ends already inside lab namespaces
 * (`ip -n A link add X type veth peer name Y netns B`), every rule and sysctl is set
 * with `ip netns exec`.
 *
 *   client ns nl-P-cI (10.77.I.2) -- lan/eth0 -- NAT ns nl-P-nI (10.77.I.1 | wan 203.0.113.(10+I))
 *                                                   |
 *                          public ns nl-P-pub: bridge br0 (no address)
 *                                                   |
 *                                    server ns nl-P-srv (203.0.113.1, and 203.0.113.2 for
 *                                                        the RFC 5780 NAT-type tests)
 *
 * A lab killed with SIGKILL cannot clean up; the next lab (or `cleanupStale`) removes
 * every `nl-<pid>-*` namespace (of its own family) whose pid is dead, and kills the agents
 * still in it.
 */
import { NatatlasError } from '../errors.ts';
import { pidAlive } from '../io/lock.ts';
import { run, nsRun } from './sh.ts';
import type { LabCarrierDef } from './carriers.ts';

export const SERVER_IP = '203.0.113.1';
/** The server's second public address (RFC 5780's alternate address), on the same interface. */
export const SERVER_IP2 = '203.0.113.2';
export const PUBLIC_PREFIX = '203.0.113';
/** The default family: `nl-<pid>-*`. */
export const DEFAULT_NS_FAMILY = 'nl';
export const NS_FAMILY_ENV = 'NATATLAS_LAB_NETNS';

/** The first part of every namespace name this lab makes, cleans up and lists. */
export function labFamily(): string {
  return checkFamily(process.env[NS_FAMILY_ENV] || DEFAULT_NS_FAMILY);
}

function checkFamily(family: string): string {
  // Letters and digits only: the family is matched as a literal prefix up to the first '-'.
  if (!/^[a-z][a-z0-9]{0,31}$/.test(family)) throw new NatatlasError(`lab: ${NS_FAMILY_ENV} must be 1-32 lowercase letters and digits, starting with a letter; got ${JSON.stringify(family)}`);
  return family;
}

/** `<family>-<pid>-...`: the pid of the lab process that made the namespace. */
function familyRe(family: string): RegExp {
  return new RegExp(`^${checkFamily(family)}-(\\d+)-`);
}

export interface CarrierNet {
  def: LabCarrierDef;
  index: number;
  clientNs: string;
  natNs: string;
  clientIp: string;
  natLanIp: string;
  publicIp: string;
  /** The iptables commands installed in the NAT namespace, as typed. */
  rules: string[];
}

function listNamespaces(): string[] {
  return run('ip', ['netns', 'list'], { allowFail: true })
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}


/** Kill the processes still running inside a namespace (our agents), then delete it. */
export function removeNamespace(ns: string): void {
  const pids = run('ip', ['netns', 'pids', ns], { allowFail: true }).split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  run('ip', ['netns', 'del', ns], { allowFail: true });
}

/** Remove this family's namespaces left by labs whose process is gone (e.g. SIGKILLed). Returns their names. */
export function cleanupStale(family = labFamily()): string[] {
  const re = familyRe(family);
  const stale = listNamespaces().filter((ns) => {
    const m = re.exec(ns);
    return m !== null && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]));
  });
  for (const ns of stale) removeNamespace(ns);
  return stale;
}

/** This family's lab namespaces, of any pid, currently present (tests check theirs are gone afterwards). */
export function labNamespaces(family = labFamily()): string[] {
  const re = familyRe(family);
  return listNamespaces().filter((ns) => re.test(ns));
}

export class Topology {
  readonly prefix: string;
  readonly pubNs: string;
  readonly srvNs: string;
  readonly carriers: CarrierNet[] = [];
  private readonly created: string[] = [];
  private torn = false;

  constructor(tag = String(process.pid), family = labFamily()) {
    this.prefix = `${family}-${tag}-`;
    this.pubNs = `${this.prefix}pub`;
    this.srvNs = `${this.prefix}srv`;
  }

  private addNs(name: string): void {
    run('ip', ['netns', 'add', name]);
    this.created.push(name);
    run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  }

  /** The public segment and the server. */
  buildCore(): void {
    this.addNs(this.pubNs);
    this.addNs(this.srvNs);
    run('ip', ['-n', this.pubNs, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', this.pubNs, 'link', 'set', 'br0', 'up']);
    run('ip', ['-n', this.srvNs, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'srv', 'netns', this.pubNs]);
    run('ip', ['-n', this.pubNs, 'link', 'set', 'srv', 'master', 'br0', 'up']);
    run('ip', ['-n', this.srvNs, 'addr', 'add', `${SERVER_IP}/24`, 'dev', 'eth0']);
    run('ip', ['-n', this.srvNs, 'addr', 'add', `${SERVER_IP2}/24`, 'dev', 'eth0']);
    run('ip', ['-n', this.srvNs, 'link', 'set', 'eth0', 'up']);
  }

  /** A phone behind its own NAT on the public segment; rules and timeouts from `def`. */
  addCarrier(def: LabCarrierDef): CarrierNet {
    const index = this.carriers.length + 1;
    if (index > 200) throw new Error('lab: at most 200 carriers');
    const clientNs = `${this.prefix}c${index}`;
    const natNs = `${this.prefix}n${index}`;
    const net: CarrierNet = {
      def,
      index,
      clientNs,
      natNs,
      clientIp: `10.77.${index}.2`,
      natLanIp: `10.77.${index}.1`,
      publicIp: `${PUBLIC_PREFIX}.${10 + index}`,
      rules: [],
    };
    this.addNs(natNs);
    this.addNs(clientNs);
    // NAT <-> public bridge
    run('ip', ['-n', natNs, 'link', 'add', 'wan', 'type', 'veth', 'peer', 'name', `n${index}`, 'netns', this.pubNs]);
    run('ip', ['-n', this.pubNs, 'link', 'set', `n${index}`, 'master', 'br0', 'up']);
    run('ip', ['-n', natNs, 'addr', 'add', `${net.publicIp}/24`, 'dev', 'wan']);
    run('ip', ['-n', natNs, 'link', 'set', 'wan', 'up']);
    // client <-> NAT
    run('ip', ['-n', natNs, 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', clientNs]);
    run('ip', ['-n', natNs, 'addr', 'add', `${net.natLanIp}/24`, 'dev', 'lan']);
    run('ip', ['-n', natNs, 'link', 'set', 'lan', 'up']);
    run('ip', ['-n', clientNs, 'addr', 'add', `${net.clientIp}/24`, 'dev', 'eth0']);
    run('ip', ['-n', clientNs, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', clientNs, 'route', 'add', 'default', 'via', net.natLanIp]);
    // forwarding, timeouts, rules: all inside the NAT namespace
    nsRun(natNs, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    nsRun(natNs, ['sysctl', '-q', '-w', `net.netfilter.nf_conntrack_udp_timeout=${def.waitS}`]);
    nsRun(natNs, ['sysctl', '-q', '-w', `net.netfilter.nf_conntrack_udp_timeout_stream=${def.idleS}`]);
    for (const rule of [...def.rules(net.publicIp), ['-A', 'INPUT', '-i', 'wan', '-p', 'udp', '-j', 'DROP']]) {
      nsRun(natNs, ['iptables', ...rule]);
      net.rules.push(`iptables ${rule.join(' ')}`);
    }
    this.carriers.push(net);
    return net;
  }

  /** Forget every conntrack entry in a NAT (between experiments). */
  flushConntrack(net: CarrierNet): void {
    nsRun(net.natNs, ['conntrack', '-F'], { allowFail: true });
  }

  /** Idempotent: kill agents inside, delete every namespace this lab created. */
  teardown(): void {
    if (this.torn) return;
    this.torn = true;
    for (const ns of [...this.created].reverse()) removeNamespace(ns);
  }
}
