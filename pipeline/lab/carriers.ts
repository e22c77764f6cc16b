/**
 * The lab's carriers: one netfilter NAT configuration each. Rules go into the
 * NAT namespace's `nat` table as written here (`-o wan` is its public side);
 * `waitS` / `idleS` become that namespace's `nf_conntrack_udp_timeout` /
 * `nf_conntrack_udp_timeout_stream`. `range` is the external port range the NAT
 * allocates from when it does not keep the port (null: 1024-65535 or kept).
 */
import { NatatlasError } from '../errors.ts';

export interface LabCarrierDef {
  name: string;
  description: string;
  rules(publicIp: string): string[][];
  waitS: number;
  idleS: number;
  /** External ports a fresh mapping can get (null: the source port is kept). */
  range: [number, number] | null;
  expect: { behavior: 'endpoint-independent' | 'endpoint-dependent'; preservation: number };
}

const POST = ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan'];

export const LAB_CARRIERS: readonly LabCarrierDef[] = [
  {
    name: 'masq-preserve',
    description: 'plain MASQUERADE: keeps the source port, endpoint-independent',
    rules: () => [[...POST, '-j', 'MASQUERADE']],
    waitS: 5,
    idleS: 8,
    range: null,
    expect: { behavior: 'endpoint-independent', preservation: 1 },
  },
  {
    name: 'masq-random',
    description: 'MASQUERADE --random-fully: a uniform random port per flow over 1024-65535, endpoint-dependent',
    rules: () => [[...POST, '-p', 'udp', '-j', 'MASQUERADE', '--random-fully']],
    waitS: 4,
    idleS: 7,
    range: [1024, 65535],
    expect: { behavior: 'endpoint-dependent', preservation: 0 },
  },
  {
    name: 'masq-narrow',
    description: 'MASQUERADE --random-fully --to-ports 20000-20999: uniform on a 1000-port range, endpoint-dependent',
    rules: () => [[...POST, '-p', 'udp', '-j', 'MASQUERADE', '--random-fully', '--to-ports', '20000-20999']],
    waitS: 5,
    idleS: 8,
    range: [20000, 20999],
    expect: { behavior: 'endpoint-dependent', preservation: 0 },
  },
  {
    name: 'snat-pool',
    description: 'SNAT --to-source <public>:30000-30255: a 256-port pool, endpoint-independent, source ports outside the pool remapped',
    rules: (ip) => [[...POST, '-p', 'udp', '-j', 'SNAT', '--to-source', `${ip}:30000-30255`]],
    waitS: 3,
    idleS: 6,
    range: [30000, 30255],
    expect: { behavior: 'endpoint-independent', preservation: 0 },
  },
];

/**
 * `--carriers` values: preset names, `preset@wait/idle` for other timeouts, or `name:lo-hi` for a --random-fully carrier
 * narrowed to lo-hi (what the punch engine uses), optionally `:wait/idle`.
 */
export function labCarrier(spec: string): LabCarrierDef {
  const preset = LAB_CARRIERS.find((c) => c.name === spec);
  if (preset) return preset;
  // PRESET@WAIT/IDLE: a preset with other conntrack timeouts.
  const at = /^([A-Za-z0-9_.-]+)@(\d+)\/(\d+)$/.exec(spec);
  const base = at ? LAB_CARRIERS.find((c) => c.name === at[1]) : undefined;
  if (at && base) return { ...base, waitS: Number(at[2]), idleS: Number(at[3]) };
  const m = /^([A-Za-z0-9_.-]+):(\d+)-(\d+)(?::(\d+)\/(\d+))?$/.exec(spec);
  if (!m) throw new NatatlasError(`lab: unknown carrier ${JSON.stringify(spec)}; presets: ${LAB_CARRIERS.map((c) => c.name).join(', ')}, PRESET@WAIT/IDLE, or NAME:LO-HI[:WAIT/IDLE] for a narrowed --random-fully NAT`);
  const lo = Number(m[2]);
  const hi = Number(m[3]);
  if (!(lo >= 1024 && hi <= 65535 && lo <= hi)) throw new NatatlasError(`lab: carrier ${spec}: range must lie within 1024-65535`);
  return {
    name: m[1]!,
    description: `MASQUERADE --random-fully --to-ports ${lo}-${hi}`,
    rules: () => [[...POST, '-p', 'udp', '-j', 'MASQUERADE', '--random-fully', '--to-ports', `${lo}-${hi}`]],
    waitS: m[4] ? Number(m[4]) : 5,
    idleS: m[5] ? Number(m[5]) : 8,
    range: [lo, hi],
    expect: { behavior: 'endpoint-dependent', preservation: 0 },
  };
}
