/**
 * Exact draws from an allocation law restricted to the ports a NAT has free, for when
 * most of the law's mass is live and rejection keeps hitting live ports: a Fenwick tree
 * of the free ports' probabilities, kept in step with the NAT (take on allocation,
 * release on expiry) until enough is free again for rejection to be cheap.
 */
import type { Rng } from '../../random.ts';
import type { AliasTable } from './sampling.ts';

export class FreeLaw {
  private readonly base: number;
  private readonly n: number;
  private readonly pmf: Float64Array;
  private readonly tree: Float64Array;
  /** 1 where the port is free and has mass (exact, unlike tree differences). */
  private readonly freeFlag: Uint8Array;
  total = 0;
  /** Free ports with mass (exact; `total` is a float sum). */
  count = 0;
  active = false;

  constructor(law: AliasTable) {
    this.base = law.base;
    this.n = law.n;
    this.pmf = law.pmf;
    this.tree = new Float64Array(law.n + 1);
    this.freeFlag = new Uint8Array(law.n);
  }

  /** Start tracking, with `isFree(port)` telling which ports are free now. */
  build(isFree: (port: number) => boolean): void {
    const { tree, pmf, n, base, freeFlag } = this;
    tree.fill(0);
    let total = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const f = pmf[i]! > 0 && isFree(base + i);
      freeFlag[i] = f ? 1 : 0;
      tree[i + 1] = f ? pmf[i]! : 0;
      if (f) {
        total += pmf[i]!;
        count++;
      }
    }
    for (let i = 1; i <= n; i++) {
      const j = i + (i & -i);
      if (j <= n) tree[j] += tree[i]!;
    }
    this.total = total;
    this.count = count;
    this.active = true;
  }

  private add(i: number, d: number): void {
    for (let j = i + 1; j <= this.n; j += j & -j) this.tree[j] += d;
    this.total += d;
  }

  /** Port p was allocated. */
  take(p: number): void {
    const i = p - this.base;
    if (i >= 0 && i < this.n && this.freeFlag[i] === 1) {
      this.freeFlag[i] = 0;
      this.count--;
      this.add(i, -this.pmf[i]!);
    }
  }

  /** Port p is free again. */
  release(p: number): void {
    const i = p - this.base;
    if (i >= 0 && i < this.n && this.pmf[i]! > 0 && this.freeFlag[i] === 0) {
      this.freeFlag[i] = 1;
      this.count++;
      this.add(i, this.pmf[i]!);
    }
  }

  /** A free port with probability proportional to its mass, or -1 when none is left. */
  draw(rng: Rng): number {
    if (this.count === 0) return -1;
    let rem = rng.next() * Math.max(0, this.total);
    let pos = 0;
    let step = 1;
    while (step * 2 <= this.n) step *= 2;
    for (; step > 0; step >>= 1) {
      const nx = pos + step;
      if (nx <= this.n && this.tree[nx]! <= rem) {
        pos = nx;
        rem -= this.tree[nx]!;
      }
    }
    // Rounding can land past the last free port or on a taken one: take the nearest free one below.
    let i = Math.min(pos, this.n - 1);
    while (i >= 0 && this.freeFlag[i] === 0) i--;
    if (i < 0) {
      i = Math.min(pos, this.n - 1);
      while (i < this.n && this.freeFlag[i] === 0) i++;
      if (i === this.n) return -1;
    }
    return this.base + i;
  }
}
