/**
 * One side's engine: executes a published `SidePlan` packet by packet against its own
 * NAT, and knows of the peer only what a real engine would: the external ports the peer
 * reported through the rendezvous, and when. Every packet, reports included, is a real
 * send through the NAT (a report from a fresh socket takes a port like any other).
 */
import type { Rng } from '../../random.ts';
import type { Aim, SidePlan } from '../../bias/types.ts';
import { FRESH, NatSim, RENDEZVOUS, SINGLE } from './nat.ts';
import { AliasTable, Sweep, densityGroups, segmentTable, uniformBelow } from './sampling.ts';

/** Local ports a host hands fresh sockets (Linux's default ephemeral range). */
export const EPHEMERAL: [number, number] = [32768, 60999];

/** What this side last learned from the peer's reports. */
export interface Report {
  port: number;
  step: number;
}

/** Tails of a predictive law below this mass are cut (an engine aims where ports are). */
const PREDICT_TAIL = 1e-9;

export class Engine {
  readonly nat: NatSim;
  private readonly socket: number;
  /** Reports: 0 never, -1 once (packet 0), r > 0 every r packets. */
  private readonly reportEvery: number;
  private readonly aim: Aim;
  private readonly table: AliasTable | null = null;
  private readonly sweep: Sweep | null = null;
  /** peer-block: offsets of the peer's block still to aim at in this sweep. */
  private readonly offsets: Int32Array | null = null;
  private offsetsUsed = 0;
  private offsetsFor = -1;
  /** peer-predict: law of the peer's port n packets after its report, minus that port (index n - 1). */
  private readonly predict: PredictiveLaws | null = null;
  /** The peer's last report, or none yet. */
  peer: Report | null = null;
  /** This side's last report (read by the peer's engine). */
  mine: Report | null = null;
  /** Packets this side has sent in the trial. */
  sent = 0;

  constructor(plan: SidePlan, nat: NatSim) {
    this.nat = nat;
    this.socket = plan.sockets === 'single' ? SINGLE : FRESH;
    this.reportEvery = plan.report === 'rounds' ? plan.roundPackets! : plan.report === 'once' ? -1 : 0;
    this.aim = plan.aim;
    const aim = plan.aim;
    if (aim.kind === 'segments') this.table = segmentTable(aim.segments);
    else if (aim.kind === 'sweep') this.sweep = new Sweep(densityGroups(aim.segments));
    else if (aim.kind === 'peer-block') this.offsets = new Int32Array(aim.blockSize);
    else if (aim.kind === 'peer-predict') this.predict = new PredictiveLaws(aim.increments);
  }

  begin(): void {
    this.peer = null;
    this.mine = null;
    this.sent = 0;
    this.offsetsFor = -1;
    this.sweep?.reset();
  }

  /** Is packet k (0-based, per side) a report to the rendezvous? */
  isReport(k: number): boolean {
    const r = this.reportEvery;
    return r > 0 ? k % r === 0 : r < 0 && k === 0;
  }

  /**
   * Send packet k. Returns the (external port, destination) of a punching packet that
   * left the NAT, or null (a report, a dropped send, or nothing to aim at yet).
   */
  send(k: number, rng: Rng, out: { port: number; dest: number }): boolean {
    this.sent++;
    // Only a preserving NAT looks at the local port: do not spend draws on it otherwise.
    const local = this.nat.usesLocalPort ? EPHEMERAL[0] + uniformBelow(rng, EPHEMERAL[1] - EPHEMERAL[0] + 1) : 0;
    if (this.isReport(k)) {
      const p = this.nat.send(this.socket, RENDEZVOUS, k, local, rng);
      if (p >= 0) this.mine = { port: p, step: k };
      return false;
    }
    const dest = this.target(k, rng);
    if (dest < 0) return false;
    const p = this.nat.send(this.socket, dest, k, local, rng);
    if (p < 0) return false;
    out.port = p;
    out.dest = dest;
    return true;
  }

  /**
   * Where packet k aims, or -1 when the plan needs a report the peer has not made. Public
   * so the lab's punch peer (pipeline/punch/peer.ts) aims exactly as the referee's engine.
   */
  target(k: number, rng: Rng): number {
    const aim = this.aim;
    switch (aim.kind) {
      case 'segments':
        return this.table!.draw(rng);
      case 'sweep':
        return this.sweep!.next(rng);
      case 'peer-port':
        return this.peer ? this.peer.port : -1;
      case 'peer-block': {
        if (!this.peer) return -1;
        return this.blockOffset(aim.blockSize, rng);
      }
      case 'peer-predict': {
        if (!this.peer) return -1;
        // The peer's packet at this step is its (k - step)-th allocation after the report.
        const [lo, hi] = aim.range;
        const span = hi - lo + 1;
        const raw = this.peer.port + this.predict!.after(Math.max(1, k - this.peer.step)).draw(rng);
        return lo + ((((raw - lo) % span) + span) % span);
      }
    }
  }

  /** Distinct offsets of the peer's reported block, the reported port itself excluded. */
  private blockOffset(size: number, rng: Rng): number {
    const off = this.offsets!;
    const start = this.peer!.port - (this.peer!.port % size);
    if (this.offsetsFor !== this.peer!.step || this.offsetsUsed >= size) {
      for (let i = 0; i < size; i++) off[i] = i;
      this.offsetsUsed = 0;
      this.offsetsFor = this.peer!.step;
      // The reported port is the report's own mapping, towards the rendezvous: never a match.
      const own = this.peer!.port - start;
      off[own] = off[0]!;
      off[0] = own;
      this.offsetsUsed = size > 1 ? 1 : 0;
    }
    const used = this.offsetsUsed;
    const j = used + uniformBelow(rng, size - used);
    const o = off[j]!;
    off[j] = off[used]!;
    off[used] = o;
    this.offsetsUsed = used + 1;
    return start + o;
  }
}

/**
 * The law of the sum of n independent increments (n = 1, 2, ...), computed on first use
 * by convolution with both tails below PREDICT_TAIL cut: what an engine computes from the
 * peer's published gap histogram.
 */
export class PredictiveLaws {
  private readonly one: AliasTable;
  private readonly laws: AliasTable[] = [];
  private cur: Float64Array;
  private base: number;

  constructor(increments: readonly [number, number, number][]) {
    this.one = segmentTable(increments);
    this.cur = Float64Array.from(this.one.pmf);
    this.base = this.one.base;
    this.laws.push(new AliasTable(this.base, this.cur));
  }

  after(n: number): AliasTable {
    const one = this.one;
    while (this.laws.length < n) {
      const cur = this.cur;
      const next = new Float64Array(cur.length + one.n - 1);
      for (let i = 0; i < cur.length; i++) {
        const ci = cur[i]!;
        if (ci === 0) continue;
        for (let j = 0; j < one.n; j++) next[i + j] += ci * one.pmf[j]!;
      }
      let lo = 0;
      let hi = next.length - 1;
      let cut = 0;
      while (lo < hi && cut + next[lo]! < PREDICT_TAIL / 2) cut += next[lo++]!;
      cut = 0;
      while (hi > lo && cut + next[hi]! < PREDICT_TAIL / 2) cut += next[hi--]!;
      this.cur = next.slice(lo, hi + 1);
      this.base += one.base + lo;
      this.laws.push(new AliasTable(this.base, this.cur));
    }
    return this.laws[n - 1]!;
  }
}
