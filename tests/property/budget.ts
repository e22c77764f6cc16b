/**
 * The one fast-check configuration of the property tests: a fixed seed (a failure
 * replays exactly) and a bounded number of runs. No wall-clock limit on the runs: on a
 * loaded machine a time limit would cut a passing property short and fail it (seen on
 * a 2-core machine at load 14). A failing property shrinks until the test's Jest
 * timeout, which then fails it: a failure either way, never a quiet pass.
 */
import fc from 'fast-check';

export const SEED = 20251002;

/** Generous: the properties take well under a minute on a quiet 2-core machine. */
export const TEST_TIMEOUT_MS = 600_000;

export function budget(numRuns: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns };
}
