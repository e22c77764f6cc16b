/** Seeded samples with known parameters, shared by the stats tests. */
import { spawnSync } from 'node:child_process';
import { Rng } from '../../../pipeline/random.ts';

/** The seed's scipy fit of one Dutch carrier (docs/design.md). */
export const CARRIER = {
  alpha: 2.241976448936059,
  beta: 5.0077200261695065,
  loc: 4630.720419189701,
  scale: 13937.381826949593,
} as const;

/** n external ports as the carrier hands them out: floor(loc + scale * Beta(alpha, beta)). */
export function carrierPorts(n: number, seed: string): Float64Array {
  const rng = new Rng(seed);
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = Math.floor(CARRIER.loc + CARRIER.scale * rng.beta(CARRIER.alpha, CARRIER.beta));
  return xs;
}

/** Draws of any generator, as a Float64Array. */
export function draws(n: number, seed: string, gen: (rng: Rng) => number): Float64Array {
  const rng = new Rng(seed);
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = gen(rng);
  return xs;
}

/**
 * The first of `python3`, `/usr/bin/python3` that imports scipy, or null. Synchronous so
 * a test file can decide between `it` and `it.skip` while it is being collected.
 */
export function findScipyPython(): string | null {
  for (const cmd of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(cmd, ['-c', 'import scipy.stats, numpy; print(scipy.__version__)'], { timeout: 30000, encoding: 'utf8' });
    if (r.status === 0) return cmd;
  }
  return null;
}
