/**
 * The sample two captures of one carrier are tested on, chosen so its draws are close
 * to independent, as the two-sample test assumes:
 *
 * - block NATs hand out ~100 consecutive ports from one block, so a capture's ports are
 *   a few dozen block choices, not thousands of draws: one port per block visit (the
 *   first allocation after the block changed, or of a run);
 * - sequential NATs walk a counter, so where it stands says nothing about the NAT: the
 *   steps between consecutive allocations of a run;
 * - every other family draws each port afresh: every fresh allocation.
 *
 * Allocations are the fit stage's (joined packets that did not ride a live mapping).
 */
import type { StageContext } from '../context.ts';
import type { CarrierFit } from '../contracts/fit.ts';
import { allocationsOf, startsRun, type Allocations } from '../fit/allocations.ts';
import { fitMapping } from '../fit/mapping.ts';
import { readObservations } from '../fit/observations.ts';
import { mappingWindowS } from '../fit/carrier.ts';

export type SampleKind = 'ports' | 'block visits' | 'steps';

export interface TestSample {
  kind: SampleKind;
  values: number[];
}

/** The fresh allocations of one carrier, as the fit stage found them. */
export async function allocationsFor(ctx: StageContext, fit: CarrierFit): Promise<Allocations> {
  const obs = await readObservations(ctx, fit.carrier);
  const mapping = fitMapping(obs, mappingWindowS(fit.timeouts.wait?.low ?? null));
  return allocationsOf(obs, mapping.reused);
}

/** One port per block visit of `size`-port blocks. */
export function blockVisits(a: Allocations, size: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.n; i++) {
    if (startsRun(a, i) || Math.floor(a.port[i]! / size) !== Math.floor(a.port[i - 1]! / size)) out.push(a.port[i]!);
  }
  return out;
}

/** Port steps between consecutive allocations of a run. */
export function steps(a: Allocations): number[] {
  const out: number[] = [];
  for (let i = 1; i < a.n; i++) if (!startsRun(a, i)) out.push(a.port[i]! - a.port[i - 1]!);
  return out;
}

/**
 * What to test for this carrier: decided by the two fits together (both block with one
 * block size: visits; both sequential: steps; otherwise ports).
 */
export function sampleKind(a: CarrierFit, b: CarrierFit): { kind: SampleKind; blockSize: number | null } {
  if (a.model.family === 'block' && b.model.family === 'block' && a.block && b.block && a.block.blockSize === b.block.blockSize) return { kind: 'block visits', blockSize: a.block.blockSize };
  if (a.model.family === 'sequential' && b.model.family === 'sequential') return { kind: 'steps', blockSize: null };
  return { kind: 'ports', blockSize: null };
}

export function testSample(a: Allocations, kind: SampleKind, blockSize: number | null): TestSample {
  if (kind === 'block visits') return { kind, values: blockVisits(a, blockSize!) };
  if (kind === 'steps') return { kind, values: steps(a) };
  return { kind, values: Array.from(a.port) };
}
