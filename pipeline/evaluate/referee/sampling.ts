/**
 * Draws the referee needs, exact and O(1) each: a Walker/Vose alias table over integer
 * values (a NAT's per-port allocation law, an engine's aim, a gap law), and a resettable
 * random sweep (every value once, densest group first). Both are built once per run and
 * reused by every trial; a sweep undoes its own swaps between trials.
 */
import type { Rng } from '../../random.ts';
import type { PortSegment } from '../../bias/types.ts';

/** A law over the integers base..base+weights.length-1, from non-negative weights. */
export class AliasTable {
  readonly base: number;
  readonly n: number;
  /** Values with positive weight. */
  readonly support: number;
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;
  /** Normalised weights, for exact fallbacks and tests. */
  readonly pmf: Float64Array;

  constructor(base: number, weights: ArrayLike<number>) {
    const n = weights.length;
    let total = 0;
    let support = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`AliasTable: weight ${i} is ${w}`);
      total += w;
      if (w > 0) support++;
    }
    if (!(total > 0)) throw new RangeError('AliasTable: no positive weight');
    this.base = base;
    this.n = n;
    this.support = support;
    this.pmf = new Float64Array(n);
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    // Vose: scaled weights n*p_i; pair each small column with a large one.
    const scaled = new Float64Array(n);
    const small = new Int32Array(n);
    const large = new Int32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      this.pmf[i] = weights[i]! / total;
      scaled[i] = this.pmf[i]! * n;
      if (scaled[i]! < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns]!;
      const l = large[nl - 1]!;
      this.prob[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      if (scaled[l]! < 1) {
        nl--;
        small[ns++] = l;
      }
    }
    // What is left is 1 up to rounding.
    while (nl > 0) this.prob[large[--nl]!] = 1;
    while (ns > 0) {
      const s = small[--ns]!;
      // A zero-weight column left over by rounding must never be returned.
      this.prob[s] = this.pmf[s]! > 0 ? 1 : 0;
      this.alias[s] = s;
    }
    // Columns of zero weight always defer to their alias.
    for (let i = 0; i < n; i++) if (this.pmf[i] === 0 && this.alias[i] === i) this.alias[i] = firstPositive(this.pmf);
  }

  /** One value: one uniform picks the column and, by its fraction, column or alias. */
  draw(rng: Rng): number {
    const u = rng.next() * this.n;
    const i = u | 0;
    return this.base + (u - i < this.prob[i]! ? i : this.alias[i]!);
  }

  /** Probability of value v. */
  p(v: number): number {
    const i = v - this.base;
    return i >= 0 && i < this.n ? this.pmf[i]! : 0;
  }
}

function firstPositive(pmf: Float64Array): number {
  for (let i = 0; i < pmf.length; i++) if (pmf[i]! > 0) return i;
  return 0;
}

/** Per-port weights of sorted, disjoint segments (mass spread evenly over each), as an alias table. */
export function segmentTable(segments: readonly PortSegment[]): AliasTable {
  const base = segments[0]![0];
  const top = segments[segments.length - 1]![1];
  const w = new Float64Array(top - base + 1);
  for (const [from, to, mass] of segments) {
    const per = mass / (to - from + 1);
    for (let p = from; p <= to; p++) w[p - base] = per;
  }
  return new AliasTable(base, w);
}

/**
 * Every value of a set once, in an order that is random within each group and follows
 * the groups' order; then the same again (a new random order). `reset` restores the
 * identity order by undoing this trial's swaps, so a trial costs what it draws.
 */
export class Sweep {
  private readonly order: Int32Array;
  /** groupEnd[i]: the end (exclusive) of the group that position i belongs to. */
  private readonly groupEnd: Int32Array;
  private readonly undoA: Int32Array;
  private readonly undoB: Int32Array;
  private nUndo = 0;
  private pos = 0;
  readonly size: number;

  /** `groups`: the values of each group, in the order the sweep visits the groups. */
  constructor(groups: readonly (readonly number[])[]) {
    const total = groups.reduce((s, g) => s + g.length, 0);
    if (total === 0) throw new RangeError('Sweep: nothing to sweep');
    this.size = total;
    this.order = new Int32Array(total);
    this.groupEnd = new Int32Array(total);
    let i = 0;
    for (const g of groups) {
      const end = i + g.length;
      for (const v of g) {
        this.order[i] = v;
        this.groupEnd[i] = end;
        i++;
      }
    }
    this.undoA = new Int32Array(total);
    this.undoB = new Int32Array(total);
  }

  reset(): void {
    const o = this.order;
    for (let u = this.nUndo - 1; u >= 0; u--) {
      const a = this.undoA[u]!;
      const b = this.undoB[u]!;
      const t = o[a]!;
      o[a] = o[b]!;
      o[b] = t;
    }
    this.nUndo = 0;
    this.pos = 0;
  }

  next(rng: Rng): number {
    if (this.pos === this.size) this.reset();
    const i = this.pos++;
    const end = this.groupEnd[i]!;
    const span = end - i;
    const j = span > 1 ? i + uniformBelow(rng, span) : i;
    const o = this.order;
    if (j !== i) {
      const t = o[i]!;
      o[i] = o[j]!;
      o[j] = t;
      this.undoA[this.nUndo] = i;
      this.undoB[this.nUndo] = j;
      this.nUndo++;
    }
    return o[i]!;
  }
}

/** Ports of segments grouped by density, densest first (ties: lower port first). */
export function densityGroups(segments: readonly PortSegment[]): number[][] {
  const byDensity = new Map<number, number[]>();
  for (const [from, to, mass] of segments) {
    if (mass <= 0) continue;
    const d = mass / (to - from + 1);
    const g = byDensity.get(d) ?? [];
    for (let p = from; p <= to; p++) g.push(p);
    byDensity.set(d, g);
  }
  return [...byDensity.entries()].sort((x, y) => y[0] - x[0]).map(([, g]) => g);
}

const TWO_32 = 4294967296;

/** Uniform integer in [0, n), exact for n <= 2^32. */
export function uniformBelow(rng: Rng, n: number): number {
  const limit = TWO_32 - (TWO_32 % n);
  let x = rng.u32();
  while (x >= limit) x = rng.u32();
  return x % n;
}
