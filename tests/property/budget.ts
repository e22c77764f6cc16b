/**
 * The one fast-check configuration of the property tests: a fixed seed (a failure
 * replays exactly), a bounded number of runs, and a time limit that cuts shrinking short
 * rather than let a failing property run for many minutes; an interrupted property is
 * a failure, never a quiet pass with fewer runs.
 */
import fc from 'fast-check';

export const SEED = 20251002;

/** Time a property may take, shrinking included; each test's Jest timeout leaves room above it. */
export const PROPERTY_LIMIT_MS = 90_000;
export const TEST_TIMEOUT_MS = PROPERTY_LIMIT_MS + 30_000;

export function budget(numRuns: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns, plugins: [fc.interruptAfterTimeLimit(PROPERTY_LIMIT_MS, { failOnInterrupt: true })] };
}
