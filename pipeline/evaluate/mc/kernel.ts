/**
 * The hot loop of the hole-punch Monte Carlo (semantics in `../montecarlo.ts`). It works
 * on a validated, plain-data `SimSpec` (so the same spec crosses into worker threads by
 * structured clone) and keeps every per-trial structure in typed arrays that are
 * allocated once per run and cleared through the lists of what a trial touched.
 *
 * Per side: an open-addressing hash of the side's mappings keyed on
 * (external << 16) | destination with the creation step (+1, 0 = empty) beside it; a FIFO
 * of creation steps and ports (mappings are created in step order and all live the same
 * number of steps, so they also expire in that order: the live count is the FIFO length);
 * per-port creation marks for the "never hand out a live port" rule; live counts per block
 * for block NATs. No closures, no allocation per packet.
 *
 * "Redraw until free" is exact: a few rejection draws from the model, then (port NATs) a
 * Fenwick tree over the free ports (free-ports.ts) or (block NATs) a scan of the free
 * blocks, so a nearly full NAT costs O(log ports) per packet, not a long rejection run.
 */
import { Rng } from '../../random.ts';
import type { PortSegment } from '../../bias/types.ts';
import { FreePorts } from './free-ports.ts';

// Bound once: Math.* through the global object is slow inside jest's module VM.
const { imul } = Math;

/** `life` for mappings that never expire (steps are 31-bit integers). */
export const FOREVER = 0x7fffffff;
/** `limit` for NATs without a mapping limit. */
export const UNLIMITED = 0x7fffffff;
/**
 * 'tuple' NATs only: draws a NAT makes for one new mapping before it gives up and drops the
 * packet (the idea of netfilter's bounded search in nf_nat_l4proto_unique_tuple, after
 * which the conntrack insert fails). 'port' and block NATs redraw exactly until free.
 */
export const MAX_ATTEMPTS = 128;
/** Rejection draws before switching to exact sampling over the free ports / blocks. */
const REJECT_TRIES = 64;
const TWO_31 = 2147483648;

export type AllocSpec =
  | { kind: 'segments'; segments: PortSegment[] }
  | { kind: 'block'; blockSize: number; perBlock: number; blockSegments: PortSegment[] };
export type TargetSpec = { kind: 'segments'; segments: PortSegment[] } | { kind: 'block-rounds'; roundPackets: number };

/** One side, validated: segments positive-mass, sorted, disjoint, normalised. */
export interface SideSpec {
  alloc: AllocSpec;
  target: TargetSpec;
  /** A mapping created at step c is alive at step k iff k - c < life (FOREVER: always). */
  life: number;
  /** Most live mappings the NAT holds (UNLIMITED: no limit). */
  limit: number;
  /** true: only a live (external, destination) pair is off limits; false: a live external port is. */
  tupleReuse: boolean;
}

export interface SimSpec {
  a: SideSpec;
  b: SideSpec;
  budget: number;
  seed: string;
}

export interface TrialBatch {
  /** Packets per side each trial needed, in trial order; Infinity on failure. */
  packets: Float64Array;
  dropsA: number;
  dropsB: number;
}

/** Uniform integer in [0, span) for 1 <= span <= 2^31, exact (rejection on 31 bits). */
function uniformInt(rng: Rng, span: number): number {
  const lim = TWO_31 - (TWO_31 % span);
  let x = rng.u32() >>> 1;
  while (x >= lim) x = rng.u32() >>> 1;
  return x % span;
}

/** I.i.d. ports from sorted, disjoint, normalised segments: a guide table picks the segment in O(1). */
export class PortSampler {
  readonly n: number;
  readonly from: Int32Array;
  readonly span: Int32Array;
  /** Rejection bound on 31-bit draws per segment: up to 2^31, so not an Int32Array. */
  readonly lim: Float64Array;
  readonly cum: Float64Array;
  readonly guide: Int32Array;
  readonly gsize: number;
  /** Ports with positive mass. */
  readonly support: number;

  constructor(segments: readonly PortSegment[]) {
    const segs = segments.filter((s) => s[2] > 0);
    const n = segs.length;
    if (n === 0) throw new RangeError('PortSampler: no segment with positive mass');
    this.n = n;
    this.from = new Int32Array(n);
    this.span = new Int32Array(n);
    this.lim = new Float64Array(n);
    this.cum = new Float64Array(n);
    let total = 0;
    for (const s of segs) total += s[2];
    let acc = 0;
    let support = 0;
    for (let i = 0; i < n; i++) {
      const [from, to, mass] = segs[i]!;
      const span = to - from + 1;
      this.from[i] = from;
      this.span[i] = span;
      this.lim[i] = TWO_31 - (TWO_31 % span);
      acc += mass / total;
      this.cum[i] = acc;
      support += span;
    }
    this.cum[n - 1] = 2; // above any u in [0, 1), whatever the rounding of the sum
    this.support = support;
    let g = 1;
    while (g < 2 * n) g *= 2;
    this.gsize = g;
    this.guide = new Int32Array(g);
    let i = 0;
    for (let j = 0; j < g; j++) {
      while (this.cum[i]! <= j / g) i++;
      this.guide[j] = i;
    }
  }

  draw(rng: Rng): number {
    let i = 0;
    if (this.n > 1) {
      const u = rng.next();
      i = this.guide[(u * this.gsize) | 0]!;
      while (this.cum[i]! <= u) i++;
    }
    const lim = this.lim[i]!;
    let x = rng.u32() >>> 1;
    while (x >= lim) x = rng.u32() >>> 1;
    return this.from[i]! + (x % this.span[i]!);
  }
}

/** One NAT (allocation, mapping table, limits) plus its sender's targeting state. */
export class SideSim {
  // --- configuration
  readonly blockMode: boolean;
  /** Segments: the port marginal. Block: where block anchors are drawn. */
  readonly alloc: PortSampler;
  readonly blockSize: number;
  readonly blockShift: number;
  readonly perBlock: number;
  readonly rounds: boolean;
  /** Steps per round: one re-learning packet plus roundPackets. */
  readonly roundLen: number;
  readonly target: PortSampler | null;
  readonly life: number;
  readonly limit: number;
  readonly tupleReuse: boolean;
  // --- mapping hash: [key, created + 1] pairs, live mappings only (expired ones are deleted)
  readonly tab: Int32Array;
  readonly mask: number;
  readonly shift: number;
  /** Scratch for clearing the table between trials. */
  readonly slots: Int32Array;
  // --- mappings in creation order: step and key ((external << 16) | destination)
  readonly cStep: Int32Array;
  readonly cKey: Int32Array;
  n = 0;
  head = 0;
  /** Port mode: created step + 1 of the port's newest mapping, 0 = never. */
  readonly portMark: Int32Array | null;
  /** Port mode: the free-port sampler, active once rejection struggles. */
  readonly free: FreePorts | null;
  /** Block mode: live mappings per block. */
  readonly blockLive: Int32Array | null;
  /** Block mode: blockSegments mass inside each block (the chance of drawing it). */
  readonly blockWeight: Float64Array | null;
  /** Block mode: blocks with positive weight, and how many of them hold live mappings. */
  readonly candidateBlocks: number;
  liveBlocks = 0;
  /** Block mode: offsets, partially shuffled (the first `used` are this visit's). */
  readonly perm: Int32Array | null;
  blockStart = -1;
  used = 0;
  // --- sender's knowledge of the peer's block (block-rounds targeting)
  tgtStart = 0;
  tgtSize = 1;
  drops = 0;

  constructor(spec: SideSpec, budget: number) {
    const a = spec.alloc;
    this.blockMode = a.kind === 'block';
    this.alloc = new PortSampler(a.kind === 'block' ? a.blockSegments : a.segments);
    this.blockSize = a.kind === 'block' ? a.blockSize : 1;
    this.blockShift = Math.round(Math.log2(this.blockSize));
    this.perBlock = a.kind === 'block' ? a.perBlock : 1;
    this.rounds = spec.target.kind === 'block-rounds';
    this.roundLen = spec.target.kind === 'block-rounds' ? spec.target.roundPackets + 1 : 0;
    this.target = spec.target.kind === 'segments' ? new PortSampler(spec.target.segments) : null;
    this.life = spec.life;
    this.limit = spec.limit;
    this.tupleReuse = spec.tupleReuse;
    this.cStep = new Int32Array(budget);
    this.cKey = new Int32Array(budget);
    const portMode = !this.blockMode && !this.tupleReuse;
    this.portMark = portMode ? new Int32Array(65536) : null;
    this.free = portMode && a.kind === 'segments' ? new FreePorts(a.segments) : null;
    this.blockLive = this.blockMode ? new Int32Array(65536 >>> this.blockShift) : null;
    this.perm = this.blockMode ? new Int32Array(this.blockSize) : null;
    let candidates = 0;
    if (a.kind === 'block') {
      const w = new Float64Array(65536 >>> this.blockShift);
      for (const [from, to, mass] of a.blockSegments) {
        for (let b = from >>> this.blockShift; b <= to >>> this.blockShift; b++) {
          const lo = Math.max(from, b << this.blockShift);
          const hi = Math.min(to, ((b + 1) << this.blockShift) - 1);
          w[b] += (mass * (hi - lo + 1)) / (to - from + 1);
        }
      }
      for (const x of w) if (x > 0) candidates++;
      this.blockWeight = w;
    } else {
      this.blockWeight = null;
    }
    this.candidateBlocks = candidates;
    // The table holds live mappings only: size it for the most that can be live at once.
    let maxLive = Math.min(budget, this.limit, this.life);
    if (portMode) maxLive = Math.min(maxLive, this.alloc.support);
    if (this.blockMode) maxLive = Math.min(maxLive, candidates * this.blockSize);
    let cap = 16;
    while (cap < 2 * maxLive + 16) cap *= 2;
    this.tab = new Int32Array(2 * cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.round(Math.log2(cap));
    this.slots = new Int32Array(Math.min(budget, cap));
  }

  /** Forget the previous trial (clears only what it touched) and take the first block. */
  begin(rng: Rng): void {
    const { tab, slots, cKey, portMark, blockLive, perm } = this;
    // Find every remaining entry first: emptying one would cut the probe chains of others.
    let ns = 0;
    for (let i = this.head; i < this.n; i++) {
      const s = this.slotOf(cKey[i]!);
      if (s >= 0) slots[ns++] = s;
    }
    for (let i = 0; i < ns; i++) tab[slots[i]! + 1] = 0;
    if (portMark !== null) for (let i = 0; i < this.n; i++) portMark[cKey[i]! >>> 16] = 0;
    if (blockLive !== null) for (let i = 0; i < this.n; i++) blockLive[cKey[i]! >>> 16 >>> this.blockShift] = 0;
    if (perm !== null) for (let i = 0; i < perm.length; i++) perm[i] = i;
    this.n = 0;
    this.head = 0;
    this.used = 0;
    this.blockStart = -1;
    this.liveBlocks = 0;
    if (this.free !== null) this.free.active = false;
    if (this.blockMode) this.newBlock(rng);
  }

  /** Move to a fresh block holding none of this NAT's live mappings; blockStart -1 if there is none. */
  newBlock(rng: Rng): void {
    const live = this.blockLive!;
    const low = this.blockSize - 1;
    this.used = 0;
    this.blockStart = -1;
    if (this.liveBlocks >= this.candidateBlocks) return;
    for (let t = 0; t < REJECT_TRIES; t++) {
      const p = this.alloc.draw(rng);
      const start = p - (p & low);
      if (live[start >>> this.blockShift] === 0) {
        this.blockStart = start;
        return;
      }
    }
    // Most of the mass is on live blocks: draw exactly among the free ones.
    const w = this.blockWeight!;
    let total = 0;
    for (let b = 0; b < w.length; b++) if (live[b] === 0) total += w[b]!;
    let u = rng.next() * total;
    let last = -1;
    for (let b = 0; b < w.length; b++) {
      if (live[b] !== 0 || w[b] === 0) continue;
      last = b;
      u -= w[b]!;
      if (u < 0) break;
    }
    this.blockStart = last << this.blockShift;
  }

  /** Index in `tab` of the entry for `key`, or -1. */
  slotOf(key: number): number {
    const tab = this.tab;
    let i = imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const p = i << 1;
      if (tab[p + 1] === 0) return -1;
      if (tab[p] === key) return p;
      i = (i + 1) & this.mask;
    }
  }

  /** Delete `key` (linear probing, backward shift: no tombstones). */
  remove(key: number): void {
    const tab = this.tab;
    const mask = this.mask;
    const p0 = this.slotOf(key);
    if (p0 < 0) return;
    let i = p0 >>> 1;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const q = j << 1;
      if (tab[q + 1] === 0) break;
      const home = imul(tab[q]!, 0x9e3779b1) >>> this.shift;
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (!stays) {
        tab[i << 1] = tab[q]!;
        tab[(i << 1) + 1] = tab[q + 1]!;
        i = j;
      }
    }
    tab[(i << 1) + 1] = 0;
  }

  /** Lookup: does this NAT hold a live mapping `key` at step k? */
  aliveAt(key: number, k: number): boolean {
    const tab = this.tab;
    let i = imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const p = i << 1;
      const c = tab[p + 1]!;
      if (c === 0) return false;
      if (tab[p] === key) return k - c + 1 < this.life;
      i = (i + 1) & this.mask;
    }
  }

  /** Record mapping `key` created at step k (an entry with the same key can only be an expired one). */
  insert(key: number, k: number): void {
    const tab = this.tab;
    let i = imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const p = i << 1;
      const c = tab[p + 1]!;
      if (c === 0) {
        tab[p] = key;
        tab[p + 1] = k + 1;
        return;
      }
      if (tab[p] === key) {
        tab[p + 1] = k + 1;
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /**
   * A new mapping towards destination y at step k: its external port, recorded in the
   * table, or -1 when the NAT drops the packet (mapping limit, no free port).
   */
  open(k: number, y: number, rng: Rng): number {
    const life = this.life;
    if (life !== FOREVER) {
      const { cStep, cKey, blockLive, free } = this;
      let head = this.head;
      while (head < this.n && k - cStep[head]! >= life) {
        const key = cKey[head]!;
        this.remove(key);
        if (blockLive !== null && --blockLive[key >>> 16 >>> this.blockShift]! === 0) this.liveBlocks--;
        if (free !== null && free.active) free.release(key >>> 16);
        head++;
      }
      this.head = head;
      // Half the mass free again: rejection is cheaper than the tree (rebuilt if needed).
      if (free !== null && free.active && free.total > 0.5 * free.full) free.active = false;
    }
    const live = this.n - this.head;
    if (live >= this.limit) {
      this.drops++;
      return -1;
    }
    let x = -1;
    if (this.blockMode) {
      if (this.blockStart < 0) this.newBlock(rng);
      if (this.blockStart >= 0) {
        // Partial Fisher–Yates: distinct uniform offsets within this visit of the block.
        const perm = this.perm!;
        const used = this.used;
        const j = used + uniformInt(rng, this.blockSize - used);
        const off = perm[j]!;
        perm[j] = perm[used]!;
        perm[used] = off;
        this.used = used + 1;
        x = this.blockStart + off;
        if (this.blockLive![this.blockStart >>> this.blockShift]!++ === 0) this.liveBlocks++;
      }
    } else if (this.tupleReuse) {
      for (let t = 0; t < MAX_ATTEMPTS; t++) {
        const p = this.alloc.draw(rng);
        if (!this.aliveAt((p << 16) | y, k)) {
          x = p;
          break;
        }
      }
    } else if (live < this.alloc.support) {
      // Port mode: a uniform draw among the free ports, weighted by the model.
      const mark = this.portMark!;
      const free = this.free!;
      if (!free.active) {
        for (let t = 0; t < REJECT_TRIES; t++) {
          const p = this.alloc.draw(rng);
          const m = mark[p]!;
          if (m === 0 || k - m + 1 >= life) {
            x = p;
            break;
          }
        }
        if (x < 0) free.build(mark, k, life);
      }
      if (free.active) {
        if (x < 0) x = free.draw(rng);
        free.take(x);
      }
      mark[x] = k + 1;
    }
    if (x < 0) {
      this.drops++;
      return -1;
    }
    const key = (x << 16) | y;
    this.cStep[this.n] = k;
    this.cKey[this.n] = key;
    this.n++;
    this.insert(key, k);
    // Eager move: "the NAT's current block" is always where its next port will come from.
    if (this.blockMode && this.used >= this.perBlock) this.newBlock(rng);
    return x;
  }

  /** Destination of this side's next punching packet. */
  aim(rng: Rng): number {
    return this.target !== null ? this.target.draw(rng) : this.tgtStart + uniformInt(rng, this.tgtSize);
  }

  /** Re-learn the peer's current block (kept as it was if the peer's NAT has none). */
  learn(peer: SideSim): void {
    if (peer.blockStart >= 0) this.tgtStart = peer.blockStart;
  }
}

/**
 * One trial: packets per side until the first packet that gets in (k + 1 at step k), or
 * Infinity when `budget` steps pass without one.
 */
export function runTrial(A: SideSim, B: SideSim, rng: Rng, budget: number): number {
  A.begin(rng);
  B.begin(rng);
  const aLen = A.roundLen;
  const bLen = B.roundLen;
  // Rounds re-learn at step 0 too: the first packet of every round is the rendezvous one.
  A.tgtSize = B.blockSize;
  B.tgtSize = A.blockSize;
  let aPhase = 0;
  let bPhase = 0;
  for (let k = 0; k < budget; k++) {
    // Round starts: both sides read the peer's block before anyone sends at this step.
    const aRelearn = aLen !== 0 && aPhase === 0;
    const bRelearn = bLen !== 0 && bPhase === 0;
    if (aRelearn) A.learn(B);
    if (bRelearn) B.learn(A);
    if (!aRelearn) {
      const y = A.aim(rng);
      const x = A.open(k, y, rng);
      if (x >= 0 && B.aliveAt((y << 16) | x, k)) return k + 1;
    }
    if (!bRelearn) {
      const v = B.aim(rng);
      const u = B.open(k, v, rng);
      if (u >= 0 && A.aliveAt((v << 16) | u, k)) return k + 1;
    }
    if (aLen !== 0 && ++aPhase === aLen) aPhase = 0;
    if (bLen !== 0 && ++bPhase === bLen) bPhase = 0;
  }
  return Infinity;
}

/** The stream of trial `index`: depends only on the seed and the index (worker-count independent). */
export function trialRng(seed: string, index: number): Rng {
  return new Rng(`${seed}/montecarlo/trial/${index}`);
}

/** Trials [from, to) of a spec, in trial order. */
export function runTrials(spec: SimSpec, from: number, to: number): TrialBatch {
  const A = new SideSim(spec.a, spec.budget);
  const B = new SideSim(spec.b, spec.budget);
  const packets = new Float64Array(Math.max(0, to - from));
  for (let t = from; t < to; t++) packets[t - from] = runTrial(A, B, trialRng(spec.seed, t), spec.budget);
  return { packets, dropsA: A.drops, dropsB: B.drops };
}
