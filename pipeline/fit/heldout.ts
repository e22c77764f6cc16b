/**
 * Model choice that generalises: each family is fitted on all capture runs but one and
 * scored on the run it did not see, for every run in turn (leave-one-run-out), so a
 * family that only memorises the sample (a fine histogram, a wiggly Beta) gains nothing.
 * Every family is scored with the same small floor (a share of HELDOUT_FLOOR spread over
 * all ports), so a port a family calls impossible costs it a large finite penalty instead
 * of minus infinity.
 */
import { startsRun, type Allocations } from './allocations.ts';

/** log P(allocation i of `a` | what came before it in its run) under a fitted family. */
export type PointLogProb = (a: Allocations, i: number) => number;
/** Fit a family to training allocations; null when it cannot be fitted to them. */
export type Trainer = (train: Allocations) => PointLogProb | null;

export const HELDOUT_FLOOR = 1e-4;
const FLOOR_PER_PORT = HELDOUT_FLOOR / 65536;

/** The allocations of the runs `keep` accepts (order kept). */
export function subsetRuns(a: Allocations, keep: (run: number) => boolean): Allocations {
  // Decided once per run, then copied column by column: held-out scoring subsets a
  // million-allocation carrier some seventy times.
  let runs = 0;
  for (let i = 0; i < a.n; i++) if (a.run[i]! >= runs) runs = a.run[i]! + 1;
  const kept = new Uint8Array(runs);
  for (let r = 0; r < runs; r++) kept[r] = keep(r) ? 1 : 0;
  let n = 0;
  for (let i = 0; i < a.n; i++) n += kept[a.run[i]!]!;
  const out: Allocations = {
    n, port: new Uint16Array(n), run: new Uint32Array(n), time: new Float64Array(n), sendSeq: new Uint32Array(n), local: new Uint16Array(n), markers: 0,
  };
  let k = 0;
  for (let i = 0; i < a.n; i++) {
    if (kept[a.run[i]!] === 0) continue;
    out.port[k] = a.port[i]!;
    out.run[k] = a.run[i]!;
    out.time[k] = a.time[i]!;
    out.sendSeq[k] = a.sendSeq[i]!;
    out.local[k] = a.local[i]!;
    k++;
  }
  return out;
}

/** The distinct runs, in order of first appearance. */
export function runsOf(a: Allocations): number[] {
  const seen = new Set<number>();
  for (let i = 0; i < a.n; i++) if (startsRun(a, i)) seen.add(a.run[i]!);
  return [...seen];
}

/** Most folds: with more runs, runs are dealt round-robin into this many folds. */
export const MAX_FOLDS = 5;

export interface HeldOut {
  total: number;
  points: Float64Array;
}

/**
 * Leave-one-run-out log-likelihood of each trainer's family: each held-out allocation's
 * log-probability under the family fitted to the other runs, and their sum (with more
 * than MAX_FOLDS runs, runs are dealt into MAX_FOLDS folds and one fold is held out at a
 * time). Null with fewer than two runs, or for a family that cannot be fitted to some
 * training set. Every family sees the same folds, built once per fold.
 */
export function heldOutLogLiks(a: Allocations, trainers: readonly Trainer[]): (HeldOut | null)[] {
  const runs = runsOf(a);
  if (runs.length < 2) return trainers.map(() => null);
  const folds = Math.min(MAX_FOLDS, runs.length);
  const foldOf = new Map(runs.map((r, i) => [r, i % folds]));
  const out: (HeldOut | null)[] = trainers.map(() => ({ total: 0, points: new Float64Array(a.n) }));
  let k = 0;
  for (let fold = 0; fold < folds; fold++) {
    const train = subsetRuns(a, (x) => foldOf.get(x) !== fold);
    const test = subsetRuns(a, (x) => foldOf.get(x) === fold);
    trainers.forEach((trainer, t) => {
      const h = out[t];
      if (!h) return;
      const f = trainer(train);
      if (!f) {
        out[t] = null;
        return;
      }
      // Most families give a handful of distinct log-probabilities (block: three), and runs
      // of equal ones: the floored value is recomputed only when it changes.
      let lastLp = NaN;
      let lastV = 0;
      for (let i = 0; i < test.n; i++) {
        const lp = f(test, i);
        if (lp !== lastLp) {
          lastLp = lp;
          lastV = Math.log((1 - HELDOUT_FLOOR) * (lp > -Infinity ? Math.exp(lp) : 0) + FLOOR_PER_PORT);
        }
        h.points[k + i] = lastV;
        h.total += lastV;
      }
    });
    k += test.n;
  }
  return out;
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
