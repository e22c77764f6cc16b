/**
 * Exact draws from a port marginal restricted to the ports a NAT has free: a Fenwick tree
 * of integer per-port weights (mass / span scaled by 2^45, so every sum is an exact double
 * below 2^53). The simulator draws by rejection while most of the mass is free and falls
 * back to this tree once rejection keeps hitting live ports: "redraw until free" is then
 * one O(log ports) descent instead of a long run of rejections.
 */
import type { Rng } from '../../random.ts';
import type { PortSegment } from '../../bias/types.ts';

const { floor, max } = Math;
const SCALE = 2 ** 45;

export class FreePorts {
  readonly base: number;
  /** A power of two covering the support's range. */
  readonly size: number;
  readonly weight: Float64Array;
  readonly tree: Float64Array;
  total = 0;
  /** Total weight of the whole support (all ports free). */
  readonly full: number;
  /** Built and kept in step with the NAT while most of the mass is live (see kernel.ts). */
  active = false;

  /** `segments`: sorted, disjoint, positive masses. */
  constructor(segments: readonly PortSegment[]) {
    this.base = segments[0]![0];
    const span = segments[segments.length - 1]![1] - this.base + 1;
    let size = 1;
    while (size < span) size *= 2;
    this.size = size;
    this.weight = new Float64Array(size);
    this.tree = new Float64Array(size + 1);
    let total = 0;
    for (const s of segments) total += s[2];
    let full = 0;
    for (const [from, to, mass] of segments) {
      // At least 1: a port the model can draw must stay drawable here too.
      const w = max(1, floor(((mass / total) * SCALE) / (to - from + 1)));
      for (let p = from; p <= to; p++) this.weight[p - this.base] = w;
      full += w * (to - from + 1);
    }
    this.full = full;
  }

  /** Start tracking: ports whose mark says live (created + 1 within `life` steps of k) are out. */
  build(mark: Int32Array, k: number, life: number): void {
    const { tree, weight, size, base } = this;
    tree[0] = 0;
    for (let i = 0; i < size; i++) {
      const w = weight[i]!;
      if (w === 0) {
        tree[i + 1] = 0; // not in the support (also every index past port 65535)
        continue;
      }
      const m = mark[base + i]!;
      tree[i + 1] = m === 0 || k - m + 1 >= life ? w : 0;
    }
    for (let i = 1; i <= size; i++) {
      const j = i + (i & -i);
      if (j <= size) tree[j] += tree[i]!;
    }
    this.total = tree[size]!;
    this.active = true;
  }

  private add(i: number, delta: number): void {
    const { tree, size } = this;
    for (let j = i + 1; j <= size; j += j & -j) tree[j] += delta;
    this.total += delta;
  }

  /** Port p is now live. */
  take(p: number): void {
    this.add(p - this.base, -this.weight[p - this.base]!);
  }

  /** Port p is free again. */
  release(p: number): void {
    this.add(p - this.base, this.weight[p - this.base]!);
  }

  /** A free port with probability proportional to its mass (caller checks that one exists). */
  draw(rng: Rng): number {
    const { tree, size, total } = this;
    let rem = floor(rng.next() * total);
    if (rem >= total) rem = total - 1;
    let pos = 0;
    for (let step = size; step > 0; step >>>= 1) {
      const nx = pos + step;
      if (nx <= size && tree[nx]! <= rem) {
        pos = nx;
        rem -= tree[nx]!;
      }
    }
    return this.base + pos;
  }
}
