/**
 * Model choice that generalises: each family is fitted on all capture runs but one and
 * scored on the run it did not see, for every run in turn (leave-one-run-out), so a
 * family that only memorises the sample (a fine histogram, a wiggly Beta) gains nothing.
 * Every family is scored with the same small floor (a share of HELDOUT_FLOOR spread over
 * all ports), so a port a family calls impossible costs it a large finite penalty instead
 * of minus infinity.
 */
import type { Allocations } from './allocations.ts';

/** log P(allocation i of `a` | what came before it in its run) under a fitted family. */
export type PointLogProb = (a: Allocations, i: number) => number;
/** Fit a family to training allocations; null when it cannot be fitted to them. */
export type Trainer = (train: Allocations) => PointLogProb | null;

export const HELDOUT_FLOOR = 1e-4;
const FLOOR_PER_PORT = HELDOUT_FLOOR / 65536;

/** The allocations of the runs `keep` accepts (order kept). */
export function subsetRuns(a: Allocations, keep: (run: number) => boolean): Allocations {
  const idx: number[] = [];
  for (let i = 0; i < a.n; i++) if (keep(a.run[i]!)) idx.push(i);
  const pick = <T extends Uint16Array | Uint32Array | Float64Array>(arr: T, make: (n: number) => T): T => {
    const out = make(idx.length);
    idx.forEach((j, k) => (out[k] = arr[j]!));
    return out;
  };
  return {
    n: idx.length,
    port: pick(a.port, (n) => new Uint16Array(n)),
    run: pick(a.run, (n) => new Uint32Array(n)),
    time: pick(a.time, (n) => new Float64Array(n)),
    sendSeq: pick(a.sendSeq, (n) => new Uint32Array(n)),
    local: pick(a.local, (n) => new Uint16Array(n)),
    markers: 0,
  };
}

/** The distinct runs, in order of first appearance. */
export function runsOf(a: Allocations): number[] {
  return [...new Set(a.run)];
}

/** Most folds: with more runs, runs are dealt round-robin into this many folds. */
export const MAX_FOLDS = 5;

/**
 * Leave-one-run-out log-likelihood: each held-out allocation's log-probability under the
 * family fitted to the other runs, and their sum (with more than MAX_FOLDS runs, runs are
 * dealt into MAX_FOLDS folds and one fold is held out at a time). Null with fewer than
 * two runs or when the family cannot be fitted to some training set.
 */
export function heldOutLogLik(a: Allocations, train: Trainer): { total: number; points: Float64Array } | null {
  const runs = runsOf(a);
  if (runs.length < 2) return null;
  const folds = Math.min(MAX_FOLDS, runs.length);
  const foldOf = new Map(runs.map((r, i) => [r, i % folds]));
  const points = new Float64Array(a.n);
  let k = 0;
  let total = 0;
  for (let fold = 0; fold < folds; fold++) {
    const f = train(subsetRuns(a, (x) => foldOf.get(x) !== fold));
    if (!f) return null;
    const test = subsetRuns(a, (x) => foldOf.get(x) === fold);
    for (let i = 0; i < test.n; i++) {
      const lp = f(test, i);
      const v = Math.log((1 - HELDOUT_FLOOR) * (lp > -Infinity ? Math.exp(lp) : 0) + FLOOR_PER_PORT);
      points[k++] = v;
      total += v;
    }
  }
  return { total, points };
}

/**
 * How many standard errors apart two families' held-out scores are: the paired
 * difference of their per-allocation log-probabilities, summed, over its standard error.
 */
export function heldOutZ(better: Float64Array, worse: Float64Array): number {
  const n = better.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += better[i]! - worse[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (better[i]! - worse[i]! - mean) ** 2;
  const se = Math.sqrt(ss / Math.max(1, n - 1)) * Math.sqrt(n);
  return se > 0 ? (mean * n) / se : mean > 0 ? Infinity : 0;
}
