/**
 * Every allocation family fitted to one carrier's allocation sequence and scored on the
 * same footing: the log-likelihood of the sequence (families that model dependence on
 * the previous port condition on it; the others treat ports as independent), its AIC,
 * and the Kolmogorov–Smirnov distance of the ports from the family's marginal.
 *
 * Rule: the family with the lowest AIC wins. AIC rather than KS because KS only sees
 * the marginal, and a block or sequential NAT looks uniform in its marginal; its
 * signature is in where the next port falls given the last one.
 */
import { fitBeta4, betaCdf, logGamma } from './stats/beta.ts';
import { fitUniform, uniformCdf } from './stats/uniform.ts';
import { aic, fitHistogram, histogramCdf, ksTest } from './stats/gof.ts';
import type { AllocationFamily, Model, ModelFit } from '../bias/types.ts';
import type { Candidate } from '../derived/fitted.ts';
import { startsRun, type Allocations } from './allocations.ts';
import { fitBlock, type BlockFit } from './block.ts';
import { fitSequential, type SequentialFit } from './sequential.ts';

export const SELECTION_RULE =
  'lowest AIC of the allocation sequence (block and sequential condition on the previous port; the others treat ports as independent); KS of the marginal reported alongside';

/** Bin width of the empirical (histogram) family, in ports. */
export const EMPIRICAL_BIN = 256;

export interface ScoredFamily {
  candidate: Candidate;
  /** P(port <= x) of the family's marginal. */
  cdf: (x: number) => number;
  model: Model['params'];
}

export interface FamilyFits {
  scored: ScoredFamily[];
  block: BlockFit | null;
  sequential: SequentialFit | null;
}

function score(family: AllocationFamily, params: Record<string, number>, logLik: number, k: number, ports: Uint16Array, cdf: (x: number) => number): ScoredFamily {
  const ks = ksTest(ports, cdf, { discrete: true }).d;
  return { candidate: { family, params, logLik, k, aic: aic(logLik, k), ks }, cdf, model: params as Model['params'] };
}

const uniformOn = (min: number, max: number) => (x: number) => uniformCdf(x, min, max);

/** The families that treat ports as independent draws (uniform, beta, empirical), fitted to `ports`. */
export function fitIndependent(ports: Uint16Array): ScoredFamily[] {
  const scored: ScoredFamily[] = [];
  const u = fitUniform(ports);
  scored.push(score('uniform', { min: u.min, max: u.max }, u.logLik, 2, ports, uniformOn(u.min, u.max)));
  const b = new Set(ports).size >= 3 ? fitBeta4(ports) : null;
  // A shape below 1 makes the likelihood grow without bound as an endpoint meets the data
  // ('at-data'): no proper maximum, so no fair AIC. Uniform data often end up there.
  if (b && b.boundary.lower !== 'at-data' && b.boundary.upper !== 'at-data') {
    // Fitted to the integer ports themselves, so the density at a port is its mass and
    // P(port <= x) is the continuous CDF half a port above x.
    const beta = score('beta', { alpha: b.alpha, beta: b.beta, loc: b.loc, scale: b.scale }, b.logLik, 4, ports, (x) => betaCdf(x + 0.5, b.alpha, b.beta, b.loc, b.scale));
    if (b.stdErr) beta.candidate.stdErr = { ...b.stdErr };
    scored.push(beta);
  }
  const h = fitHistogram(ports, EMPIRICAL_BIN, u.min, u.max);
  scored.push(score('empirical', {}, h.logLik, h.parameters, ports, histogramCdf(h)));
  return scored;
}

export function fitFamilies(a: Allocations, lossRate: number): FamilyFits {
  const ports = a.port;
  const scored = fitIndependent(ports);
  const u = scored[0]!.candidate.params as { min: number; max: number };
  const rangeSize = u.max - u.min + 1;

  const block = fitBlock(a, [u.min, u.max], lossRate);
  if (block) {
    scored.push(score('block', { blockSize: block.blockSize, min: block.min, max: block.max, perBlock: block.perBlock }, block.logLik, block.k, ports, uniformOn(block.min, block.max)));
  }

  const sequential = fitSequential(a, rangeSize);
  if (sequential) {
    scored.push(score('sequential', { meanStep: sequential.meanStep, ratePerSecond: sequential.ratePerSecond }, sequential.logLik, sequential.k, ports, uniformOn(u.min, u.max)));
  }

  const preserving = fitPreserving(a, rangeSize);
  if (preserving) scored.push(score('preserving', { rate: preserving.rate }, preserving.logLik, 3, ports, uniformOn(u.min, u.max)));
  return { scored, block, sequential };
}

const INDEPENDENT: readonly AllocationFamily[] = ['uniform', 'beta', 'empirical'];

function lowestAic(scored: ScoredFamily[]): ScoredFamily {
  return scored.reduce((x, y) => (y.candidate.aic < x.candidate.aic ? y : x));
}

/** The first port of each block visit: where the NAT put blocks, without the clustering inside them. */
function firstOfVisits(a: Allocations, blockSize: number): Uint16Array {
  const out: number[] = [];
  for (let i = 0; i < a.n; i++) {
    if (startsRun(a, i) || Math.floor(a.port[i]! / blockSize) !== Math.floor(a.port[i - 1]! / blockSize)) out.push(a.port[i]!);
  }
  return Uint16Array.from(out);
}

/**
 * The winner by the rule, and the family for the marginal (where the next port falls
 * when the peer's last port is unknown). Independent winners are their own marginal. A
 * block NAT's ports cluster in the blocks the capture happened to see, so its marginal
 * is fitted to one port per block visit; sequential and preserving NATs walk or mirror
 * the whole range, so theirs is uniform on the observed range.
 */
export function choose(fits: FamilyFits, a: Allocations): { best: ScoredFamily; marginal: ScoredFamily; model: Model } {
  const best = lowestAic(fits.scored);
  let marginal: ScoredFamily;
  if (INDEPENDENT.includes(best.candidate.family)) marginal = best;
  else if (best.candidate.family === 'block' && fits.block) {
    const starts = firstOfVisits(a, fits.block.blockSize);
    marginal = new Set(starts).size >= 3 ? lowestAic(fitIndependent(starts)) : fits.scored[0]!;
  } else marginal = fits.scored[0]!;
  const fit: ModelFit = {
    ks: best.candidate.ks,
    n: a.n,
    alternatives: fits.scored.map((s) => ({ family: s.candidate.family, ks: s.candidate.ks, aic: s.candidate.aic })),
    rule: SELECTION_RULE,
  };
  const model = { family: best.candidate.family, params: best.model, fit } as Model;
  return { best, marginal, model };
}

/** A preserving NAT must keep ports far more often than chance: binomial tail below this. */
export const PRESERVATION_SIGNIFICANCE = 1e-6;

/**
 * Port preservation as a mixture: with probability `rate` the external port is the local
 * one, otherwise uniform over the range (which may hit the local port by chance). Only a
 * candidate when the kept ports are significantly more than chance (binomial tail below
 * PRESERVATION_SIGNIFICANCE): one coincidence among thousands would otherwise buy its
 * extra parameter under AIC.
 */
function fitPreserving(a: Allocations, rangeSize: number): { rate: number; logLik: number } | null {
  let known = 0;
  let kept = 0;
  for (let i = 0; i < a.n; i++) {
    if (a.local[i] === 0) continue;
    known += 1;
    if (a.local[i] === a.port[i]) kept += 1;
  }
  const chance = 1 / rangeSize;
  if (known === 0 || binomialUpperTail(known, kept, chance) >= PRESERVATION_SIGNIFICANCE) return null;
  const rate = Math.max(0, (kept / known - chance) / (1 - chance));
  const hit = Math.log(rate + (1 - rate) * chance);
  const miss = Math.log((1 - rate) * chance);
  let ll = 0;
  for (let i = 0; i < a.n; i++) ll += a.local[i] === 0 ? -Math.log(rangeSize) : a.local[i] === a.port[i] ? hit : miss;
  return { rate, logLik: ll };
}

/** P(X >= k) for X ~ Binomial(n, p), summed in log space from k up until terms vanish. */
export function binomialUpperTail(n: number, k: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  const logChoose = (m: number) => logFactorial(n) - logFactorial(m) - logFactorial(n - m);
  let total = 0;
  for (let m = k; m <= n; m++) {
    const term = Math.exp(logChoose(m) + m * Math.log(p) + (n - m) * Math.log1p(-p));
    total += term;
    if (term < total * 1e-16) break;
  }
  return Math.min(1, total);
}

function logFactorial(m: number): number {
  return logGamma(m + 1);
}
