/**
 * One NAT as the referee simulates it: the allocation process that picks each new
 * mapping's external port, and the mapping table with its timeouts, limit and filter.
 * Written from how a NAT behaves, not from the closed forms: ports a live mapping holds
 * are never handed out again, a block NAT walks its blocks with a phase the engine does
 * not know, a sequential NAT's counter also moves with other subscribers' traffic.
 *
 * Time is in steps (the engines' packets); a mapping refreshed at step c is alive at
 * step k iff k - c < life. Filtering is address-and-port dependent: an inbound packet
 * from remote port r to external port x passes iff a live mapping sent from x to r.
 *
 * Per-trial state lives in typed arrays stamped with a trial generation, so a new trial
 * costs nothing to clear.
 */
import type { Rng } from '../../random.ts';
import type { PortSegment } from '../../bias/types.ts';
import { betaCdf } from '../../fit/stats/beta.ts';
import { AliasTable, segmentTable, uniformBelow } from './sampling.ts';
import { FreeLaw } from './free.ts';

/** The rendezvous server as a remote: not a port of the peer. */
export const RENDEZVOUS = 65536;
/** Sockets: every send from a new socket, or the side's one socket. */
export const FRESH = 0;
export const SINGLE = 1;

/** How a NAT picks the external port of a new mapping. */
export type Allocator =
  /** Independent draws from a per-port law (uniform, Beta, empirical, piecewise), redrawn while the port is live. */
  | { kind: 'ports'; segments: PortSegment[] }
  /** port = floor(loc + scale X), X ~ Beta(alpha, beta), restricted to 1..65535. */
  | { kind: 'beta'; alpha: number; beta: number; loc: number; scale: number }
  /**
   * Aligned blocks of `blockSize` ports: a visit hands out distinct random offsets of one
   * block, `perBlock` of them (a uniform integer in [lo, hi] per visit), then the NAT moves
   * to another block, chosen by the mass `blocks` puts inside it. The engine arrives at a
   * random point of a visit.
   */
  | { kind: 'block'; blockSize: number; perBlock: [number, number]; blocks: PortSegment[] }
  /**
   * A counter over [min, max]: next = last + gap + Poisson(ratePerSecond x seconds since
   * the last allocation) (other subscribers' allocations), skipping live ports, wrapping.
   */
  | { kind: 'sequential'; min: number; max: number; gaps: PortSegment[]; ratePerSecond: number }
  /** The local port with probability `rate` when it is free, else a draw from `fallback`. */
  | { kind: 'preserving'; rate: number; fallback: PortSegment[] };

export interface NatSpec {
  allocator: Allocator;
  mapping: 'endpoint-independent' | 'endpoint-dependent';
  /** Mapping lifetime after its last outbound packet, seconds; null: never expires. */
  timeoutS: number | null;
  /** Most live mappings the NAT keeps for this subscriber; null: no limit. */
  mappingLimit: number | null;
}

/** Steps a mapping refreshed at step c stays alive: alive at k iff k - c < life. */
export function lifeSteps(timeoutS: number | null, ratePps: number): number {
  if (timeoutS === null) return Infinity;
  // The smallest d with d / ratePps >= timeoutS (exclusive timeouts, as netfilter's).
  let d = Math.max(0, Math.ceil(timeoutS * ratePps));
  while (d > 0 && (d - 1) / ratePps >= timeoutS) d--;
  while (d / ratePps < timeoutS) d++;
  return d;
}

/** Tries of the rejection draw before the exact draw among free ports. */
const REJECT_TRIES = 48;

export class NatSim {
  readonly independent: boolean;
  /** Whether the allocator reads the socket's local port (a preserving NAT). */
  readonly usesLocalPort: boolean;
  readonly life: number;
  readonly limit: number;
  private readonly secondsPerStep: number;
  private readonly alloc: Allocator;
  private gen = 0;
  // --- per external port: held by a live mapping of this trial iff portGen === gen && portExpiry > k
  private readonly portGen = new Int32Array(65536);
  private readonly portExpiry = new Float64Array(65536);
  /** The remote of a fresh-socket or per-destination mapping; SOCKET_PORT for the single EIM socket's port. */
  private readonly portRemote = new Int32Array(65536);
  // --- the single socket: EIM keeps one mapping; EDM one per remote
  private sockPort = -1;
  private sockExpiry = 0;
  private readonly remGen = new Int32Array(RENDEZVOUS + 1);
  private readonly remExpiry = new Float64Array(RENDEZVOUS + 1);
  private readonly remPort = new Int32Array(RENDEZVOUS + 1);
  // --- live mappings for the limit: a FIFO of (port, expiry) in refresh order
  private live = 0;
  private qPort: Int32Array;
  private qExp: Float64Array;
  private qHead = 0;
  private qTail = 0;
  // --- allocation state
  private readonly table: AliasTable | null = null;
  private readonly fallback: AliasTable | null = null;
  private readonly blockTable: AliasTable | null = null;
  private readonly gapTable: AliasTable | null = null;
  /** Exact draws among free ports once rejection struggles (independent-draw allocators). */
  private readonly free: FreeLaw | null = null;
  private readonly offsets: Int32Array | null = null;
  /** Ports the allocator can ever hand out: with all of them live, a send is dropped at once. */
  private readonly ports: number;
  private blockStart = -1;
  private visitUsed = 0;
  private visitGiven = 0;
  private visitLength = 0;
  private seqLast = 0;
  private seqLastStep = -1;
  /** Sends the NAT dropped (limit reached, no free port), over all trials. */
  drops = 0;

  constructor(spec: NatSpec, ratePps: number, maxSends: number) {
    this.independent = spec.mapping === 'endpoint-independent';
    this.usesLocalPort = spec.allocator.kind === 'preserving';
    this.life = lifeSteps(spec.timeoutS, ratePps);
    this.limit = spec.mappingLimit ?? Infinity;
    this.secondsPerStep = 1 / ratePps;
    this.alloc = spec.allocator;
    // Mappings that expire leave the live count through this queue.
    const expiring = Number.isFinite(this.life);
    this.qPort = new Int32Array(expiring ? maxSends + 1 : 0);
    this.qExp = new Float64Array(expiring ? maxSends + 1 : 0);
    const a = spec.allocator;
    if (a.kind === 'ports') this.table = segmentTable(a.segments);
    else if (a.kind === 'beta') this.table = betaTable(a);
    else if (a.kind === 'preserving') this.fallback = segmentTable(a.fallback);
    else if (a.kind === 'block') {
      this.blockTable = blockTableOf(a.blocks, a.blockSize);
      this.offsets = new Int32Array(a.blockSize);
    } else if (a.kind === 'sequential') this.gapTable = segmentTable(a.gaps);
    this.ports = portsOf(a, this.table, this.blockTable);
    const law = this.table ?? this.fallback;
    if (law) this.free = new FreeLaw(law);
  }

  /** Start a trial: no mappings; the allocator at a random point of its process. */
  begin(rng: Rng): void {
    this.gen++;
    this.sockPort = -1;
    this.live = 0;
    this.qHead = 0;
    this.qTail = 0;
    if (this.free) this.free.active = false;
    const a = this.alloc;
    if (a.kind === 'block') {
      this.newBlock(rng);
      // The engine arrives somewhere inside the visit: its first offsets are already given out.
      const skip = uniformBelow(rng, this.visitLength);
      for (let i = 0; i < skip; i++) this.takeOffset(rng);
      this.visitGiven = skip;
    } else if (a.kind === 'sequential') {
      this.seqLast = a.min + uniformBelow(rng, a.max - a.min + 1);
      this.seqLastStep = -1;
    }
  }

  private isFree(p: number, k: number): boolean {
    return this.portGen[p] !== this.gen || this.portExpiry[p]! <= k;
  }

  /** Retire mappings that expired by step k (only needed to count live ones for the limit). */
  private expire(k: number): void {
    const { qPort, qExp, portGen, portExpiry, gen } = this;
    let h = this.qHead;
    while (h < this.qTail && qExp[h]! <= k) {
      const p = qPort[h]!;
      // A later refresh moved the port's expiry: this entry is stale.
      if (portGen[p] === gen && portExpiry[p] === qExp[h]) {
        this.live--;
        if (this.free?.active) this.free.release(p);
      }
      h++;
    }
    this.qHead = h;
    // Half the mass free again: rejection is cheap once more.
    if (this.free?.active && this.free.total > 0.5) this.free.active = false;
  }

  private refresh(p: number, k: number): void {
    const e = k + this.life;
    this.portExpiry[p] = e;
    if (this.qPort.length > 0) {
      this.qPort[this.qTail] = p;
      this.qExp[this.qTail] = e;
      this.qTail++;
    }
  }

  /** A new mapping's external port, or -1 when the NAT drops the send (limit, no free port). */
  private allocate(k: number, local: number, rng: Rng): number {
    if (this.qPort.length > 0) this.expire(k);
    if (this.live >= this.limit || this.live >= this.ports) return -1;
    const p = this.nextPort(k, local, rng);
    if (p < 0) return -1;
    this.portGen[p] = this.gen;
    this.live++;
    if (this.free?.active) this.free.take(p);
    return p;
  }

  private nextPort(k: number, local: number, rng: Rng): number {
    // The common case first: independent draws (no string switch in the hot loop).
    if (this.table !== null) return this.drawFree(this.table, k, rng);
    const a = this.alloc;
    switch (a.kind) {
      case 'ports':
      case 'beta':
        return this.drawFree(this.table!, k, rng);
      case 'preserving':
        if (local >= 1 && local <= 65535 && rng.next() < a.rate && this.isFree(local, k)) return local;
        return this.drawFree(this.fallback!, k, rng);
      case 'block':
        return this.blockPort(k, rng);
      case 'sequential':
        return this.sequentialPort(a, k, rng);
    }
  }

  /** A draw from the law conditioned on the port being free (rejection, then exact). */
  private drawFree(t: AliasTable, k: number, rng: Rng): number {
    const free = this.free!;
    if (!free.active) {
      for (let i = 0; i < REJECT_TRIES; i++) {
        const p = t.draw(rng);
        if (this.isFree(p, k)) return p;
      }
      free.build((p) => this.isFree(p, k));
    }
    return free.draw(rng);
  }

  private newBlock(rng: Rng): void {
    const a = this.alloc as Extract<Allocator, { kind: 'block' }>;
    const t = this.blockTable!;
    let b = t.draw(rng) * a.blockSize;
    // "Moves to another block": a different one whenever there is one.
    for (let i = 0; b === this.blockStart && t.support > 1 && i < 1000; i++) b = t.draw(rng) * a.blockSize;
    this.blockStart = b;
    const off = this.offsets!;
    for (let i = 0; i < off.length; i++) off[i] = i;
    this.visitUsed = 0;
    this.visitGiven = 0;
    this.visitLength = a.perBlock[0] + uniformBelow(rng, a.perBlock[1] - a.perBlock[0] + 1);
  }

  /** The next distinct offset of this visit (partial Fisher–Yates), as a port. */
  private takeOffset(rng: Rng): number {
    const off = this.offsets!;
    const used = this.visitUsed;
    const j = used + uniformBelow(rng, off.length - used);
    const o = off[j]!;
    off[j] = off[used]!;
    off[used] = o;
    this.visitUsed = used + 1;
    return this.blockStart + o;
  }

  private blockPort(k: number, rng: Rng): number {
    const size = this.offsets!.length;
    // A visit ends after its allocations or when its block has no offset left.
    for (let tries = 0; tries < 64; tries++) {
      if (this.visitGiven >= this.visitLength || this.visitUsed >= size) this.newBlock(rng);
      while (this.visitUsed < size) {
        const p = this.takeOffset(rng);
        if (p >= 1 && p <= 65535 && this.isFree(p, k)) {
          this.visitGiven++;
          return p;
        }
      }
    }
    return -1;
  }

  private sequentialPort(a: Extract<Allocator, { kind: 'sequential' }>, k: number, rng: Rng): number {
    const span = a.max - a.min + 1;
    let step = this.gapTable!.draw(rng);
    if (a.ratePerSecond > 0 && this.seqLastStep >= 0) step += rng.poisson(a.ratePerSecond * (k - this.seqLastStep) * this.secondsPerStep);
    let p = a.min + ((((this.seqLast - a.min + step) % span) + span) % span);
    for (let i = 0; !this.isFree(p, k); i++) {
      if (i >= span) return -1;
      p = p === a.max ? a.min : p + 1;
    }
    this.seqLast = p;
    this.seqLastStep = k;
    return p;
  }

  /**
   * An outbound packet at step k from a socket (FRESH: a new one, local port `local`;
   * SINGLE: the side's one socket) to `remote`: the external port it leaves from, or -1
   * when the NAT drops it.
   */
  send(socket: number, remote: number, k: number, local: number, rng: Rng): number {
    let p: number;
    if (socket === FRESH) {
      p = this.allocate(k, local, rng);
      if (p < 0) return this.drop();
      this.portRemote[p] = remote;
    } else if (this.independent) {
      // One mapping for the socket, whatever the destination, while it lives.
      if (this.sockPort >= 0 && this.sockExpiry > k) p = this.sockPort;
      else {
        p = this.allocate(k, local, rng);
        if (p < 0) return this.drop();
        this.sockPort = p;
        this.portRemote[p] = SOCKET_PORT;
      }
      this.sockExpiry = k + this.life;
      // The filter admits `remote` while this destination was sent to within the lifetime.
      this.remGen[remote] = this.gen;
      this.remExpiry[remote] = k + this.life;
    } else {
      // Endpoint-dependent: the socket's mapping towards this remote, or a new one.
      if (this.remGen[remote] === this.gen && this.remExpiry[remote]! > k) p = this.remPort[remote]!;
      else {
        p = this.allocate(k, local, rng);
        if (p < 0) return this.drop();
        this.remGen[remote] = this.gen;
        this.remPort[remote] = p;
        this.portRemote[p] = remote;
      }
      this.remExpiry[remote] = k + this.life;
    }
    this.refresh(p, k);
    return p;
  }

  private drop(): number {
    this.drops++;
    return -1;
  }

  /** Does an inbound packet from the peer's port `remote` to external port `port` pass at step k? */
  admits(port: number, remote: number, k: number): boolean {
    if (this.portGen[port] !== this.gen || !(this.portExpiry[port]! > k)) return false;
    const r = this.portRemote[port]!;
    if (r === SOCKET_PORT) return this.remGen[remote] === this.gen && this.remExpiry[remote]! > k;
    return r === remote;
  }

  /** Live mappings at the last send (for tests). */
  get liveMappings(): number {
    return this.live;
  }
}

function portsOf(a: Allocator, table: AliasTable | null, blocks: AliasTable | null): number {
  switch (a.kind) {
    case 'ports':
    case 'beta':
      return table!.support;
    // The local port may lie outside the fallback's support.
    case 'preserving':
      return 65535;
    case 'block':
      return blocks!.support * a.blockSize;
    case 'sequential':
      return a.max - a.min + 1;
  }
}

/** portRemote of the single EIM socket's port: its filter is the per-remote table. */
const SOCKET_PORT = -2;

/** Per-port law of floor(loc + scale X), X ~ Beta(alpha, beta), on 1..65535. */
function betaTable(a: Extract<Allocator, { kind: 'beta' }>): AliasTable {
  const lo = Math.max(1, Math.floor(a.loc));
  const hi = Math.min(65535, Math.ceil(a.loc + a.scale));
  const w = new Float64Array(hi - lo + 1);
  let prev = betaCdfAt(lo, a);
  for (let p = lo; p <= hi; p++) {
    const next = betaCdfAt(p + 1, a);
    w[p - lo] = Math.max(0, next - prev);
    prev = next;
  }
  return new AliasTable(lo, w);
}

/** P(loc + scale X < x): the chance that floor(loc + scale X) is below x. */
function betaCdfAt(x: number, a: Extract<Allocator, { kind: 'beta' }>): number {
  return betaCdf(x, a.alpha, a.beta, a.loc, a.scale);
}

/** Mass of `blocks` inside each aligned block, as a law over block indices (block start / size). */
function blockTableOf(blocks: readonly PortSegment[], size: number): AliasTable {
  const first = Math.floor(blocks[0]![0] / size);
  const last = Math.floor(blocks[blocks.length - 1]![1] / size);
  const w = new Float64Array(last - first + 1);
  for (const [from, to, mass] of blocks) {
    for (let b = Math.floor(from / size); b <= Math.floor(to / size); b++) {
      const lo = Math.max(from, b * size);
      const hi = Math.min(to, b * size + size - 1);
      w[b - first] = w[b - first]! + (mass * (hi - lo + 1)) / (to - from + 1);
    }
  }
  return new AliasTable(first, w);
}
