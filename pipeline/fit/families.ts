/**
 * Every allocation family fitted to one carrier's allocation sequence and scored on the
 * same footing: the log-likelihood of the sequence (families that model dependence on
 * the previous port condition on it; the others treat ports as independent), AIC, BIC,
 * the leave-one-run-out held-out log-likelihood, and the Kolmogorov–Smirnov distance of
 * the ports from the family's marginal.
 *
 * Rule: with two or more capture runs, the family with the highest held-out
 * log-likelihood wins (it predicts a run it was not fitted to); with one run, the lowest
 * BIC (whose penalty grows with the sample, unlike AIC's, so a histogram with dozens of
 * free masses cannot buy a win from noise). Likelihood rather than KS because KS only
 * sees the marginal, and a block or sequential NAT looks uniform in its marginal; its
 * signature is in where the next port falls given the last one.
 */
import { fitBeta4, betaCdf, betaLogPdf, logGamma } from './stats/beta.ts';
import { fitUniform, uniformCdf } from './stats/uniform.ts';
import { distinctSorted } from './stats/distinct.ts';
import { aic, fitHistogram, histogramCdf, ksTest, type Histogram } from './stats/gof.ts';
import type { AllocationFamily, Model, ModelFit } from '../bias/types.ts';
import type { Candidate } from '../contracts/fit.ts';
import { startsRun, type Allocations } from './allocations.ts';
import { blockLogProb, fitBlock, type BlockFit } from './block.ts';
import { fitSequential, gapLawOf, sequentialLogProb, type SequentialFit } from './sequential.ts';
import { fitPiecewise, piecewiseCdf, piecewiseLogPmf } from './piecewise.ts';
import { heldOutLogLiks, heldOutZ, type PointLogProb, type Trainer } from './heldout.ts';

export const SELECTION_RULE =
  'highest leave-one-run-out held-out log-likelihood of the allocation sequence (two or more runs; else lowest BIC); block and sequential condition on the previous port, the others treat ports as independent; AIC, BIC and KS of the marginal reported alongside';

/** Bin width of the empirical (histogram) family, in ports. */
export const EMPIRICAL_BIN = 256;

export interface ScoredFamily {
  candidate: Candidate;
  /** P(port <= x) of the family's marginal. */
  cdf: (x: number) => number;
  model: Model['params'];
  /** Each held-out allocation's log-probability (null: no held-out score). */
  heldOutPoints?: Float64Array | null;
}

export interface FamilyFits {
  scored: ScoredFamily[];
  block: BlockFit | null;
  sequential: SequentialFit | null;
}

export function bic(logLik: number, k: number, n: number): number {
  return k * Math.log(Math.max(1, n)) - 2 * logLik;
}

function score(family: AllocationFamily, params: Record<string, number>, logLik: number, k: number, ports: Uint16Array, cdf: (x: number) => number, model: Model['params'] = params as Model['params']): ScoredFamily {
  const ks = ksTest(ports, cdf, { discrete: true }).d;
  return { candidate: { family, params, logLik, k, aic: aic(logLik, k), bic: bic(logLik, k, ports.length), heldOut: null, ks }, cdf, model };
}

/** A per-port log-probability as a point predictor (independent families ignore the sequence). */
const independently = (logPmf: (x: number) => number): PointLogProb => (a, i) => logPmf(a.port[i]!);

function histogramLogPmf(h: Histogram): (x: number) => number {
  return (x) => {
    if (!(x >= h.min && x <= h.max)) return -Infinity;
    const b = h.bins[Math.floor((x - h.min) / h.binWidth)]!;
    return Math.log(b.mass / (b.to - b.from + 1));
  };
}

/** A Beta fit that has a proper maximum (a shape below 1 at a data endpoint has none, so no fair score). */
function properBeta(ports: Uint16Array): ReturnType<typeof fitBeta4> | null {
  const b = distinctSorted(ports).values.length >= 3 ? fitBeta4(ports) : null;
  return b && b.boundary.lower !== 'at-data' && b.boundary.upper !== 'at-data' ? b : null;
}

const uniformOn = (min: number, max: number) => (x: number) => uniformCdf(x, min, max);

/**
 * The range a uniform draw from `t`'s ports covers, widened by the unbiased correction: a
 * held-out run's extreme ports lie beyond the training sample's about as often as not.
 */
function trainedRange(t: Allocations): [number, number] {
  const u = fitUniform(t.port);
  return [Math.max(0, Math.floor(u.corrected.min)), Math.min(65535, Math.ceil(u.corrected.max))];
}

/** How each family is refitted to a training set of runs, for the held-out score. */
const TRAINERS: Record<Exclude<AllocationFamily, 'block' | 'sequential' | 'preserving'>, Trainer> = {
  uniform: (t) => {
    const [lo, hi] = trainedRange(t);
    return independently((x) => (x >= lo && x <= hi ? -Math.log(hi - lo + 1) : -Infinity));
  },
  beta: (t) => {
    const b = properBeta(t.port);
    return b ? independently((x) => betaLogPdf(x, b.alpha, b.beta, b.loc, b.scale)) : null;
  },
  empirical: (t) => {
    const [lo, hi] = trainedRange(t);
    return independently(histogramLogPmf(fitHistogram(t.port, EMPIRICAL_BIN, lo, hi)));
  },
  piecewise: (t) => {
    const [lo, hi] = trainedRange(t);
    const pieces = fitPiecewise(t.port).pieces.map((p) => [...p] as [number, number, number]);
    pieces[0]![0] = Math.min(pieces[0]![0], lo);
    pieces[pieces.length - 1]![1] = Math.max(pieces[pieces.length - 1]![1], hi);
    return independently((x) => piecewiseLogPmf(pieces, x));
  },
};

/** The families that treat ports as independent draws (uniform, Beta, empirical, piecewise), fitted to `ports`. */
export function fitIndependent(ports: Uint16Array): ScoredFamily[] {
  const scored: ScoredFamily[] = [];
  const u = fitUniform(ports);
  scored.push(score('uniform', { min: u.min, max: u.max }, u.logLik, 2, ports, uniformOn(u.min, u.max)));
  const b = properBeta(ports);
  if (b) {
    // Fitted to the integer ports themselves, so the density at a port is its mass and
    // P(port <= x) is the continuous CDF half a port above x.
    const beta = score('beta', { alpha: b.alpha, beta: b.beta, loc: b.loc, scale: b.scale }, b.logLik, 4, ports, (x) => betaCdf(x + 0.5, b.alpha, b.beta, b.loc, b.scale));
    if (b.stdErr) beta.candidate.stdErr = { ...b.stdErr };
    scored.push(beta);
  }
  const h = fitHistogram(ports, EMPIRICAL_BIN, u.min, u.max);
  scored.push(score('empirical', {}, h.logLik, h.parameters, ports, histogramCdf(h)));
  const pw = fitPiecewise(ports);
  scored.push(score('piecewise', { pieces: pw.pieces.length }, pw.logLik, pw.k, ports, piecewiseCdf(pw.pieces)));
  return scored;
}

export function fitFamilies(a: Allocations, lossRate: number): FamilyFits {
  const ports = a.port;
  const scored = fitIndependent(ports);
  const u = scored[0]!.candidate.params as { min: number; max: number };
  const rangeSize = u.max - u.min + 1;
  const trainers = new Map<AllocationFamily, Trainer>(Object.entries(TRAINERS) as [AllocationFamily, Trainer][]);

  const block = fitBlock(a, [u.min, u.max], lossRate);
  // Nine block sizes are tried, and a uniform NAT's allocations share a block by chance
  // (s/R of the time): without clustering far beyond that there are no blocks to aim at.
  if (block && block.clusteringZ >= BLOCK_MIN_Z) {
    scored.push(score('block', { blockSize: block.blockSize, min: block.min, max: block.max, perBlock: block.perBlock }, block.logLik, block.k, ports, uniformOn(block.min, block.max)));
    trainers.set('block', (t) => {
      const f = fitBlock(t, trainedRange(t), lossRate);
      return f ? blockLogProb(f.blockSize, f.pSameBlock, f.max - f.min + 1) : null;
    });
  }

  const sequential = fitSequential(a, rangeSize);
  if (sequential) {
    // An unidentified rate is reported as such (null), not as a number the data cannot support.
    const model = { meanStep: sequential.meanStep, ratePerSecond: sequential.rateIdentified ? sequential.ratePerSecond : null };
    const params: Record<string, number> = sequential.rateIdentified ? { meanStep: sequential.meanStep, ratePerSecond: sequential.ratePerSecond } : { meanStep: sequential.meanStep };
    scored.push(score('sequential', params, sequential.logLik, sequential.k, ports, uniformOn(u.min, u.max), model));
    trainers.set('sequential', (t) => {
      const [lo, hi] = trainedRange(t);
      const size = hi - lo + 1;
      const f = fitSequential(t, size);
      if (!f) return null;
      return sequentialLogProb(gapLawOf(f), size);
    });
  }

  const preserving = fitPreserving(a, rangeSize);
  if (preserving) {
    scored.push(score('preserving', { rate: preserving.rate }, preserving.logLik, 3, ports, uniformOn(u.min, u.max)));
    trainers.set('preserving', (t) => {
      const [lo, hi] = trainedRange(t);
      const size = hi - lo + 1;
      return preservingLogProb(fitPreserving(t, size)?.rate ?? 0, size);
    });
  }
  const scorable = scored.filter((f) => trainers.has(f.candidate.family));
  const heldOut = heldOutLogLiks(a, scorable.map((f) => trainers.get(f.candidate.family)!));
  for (const f of scored) {
    const h = heldOut[scorable.indexOf(f)] ?? null;
    f.candidate.heldOut = h?.total ?? null;
    f.heldOutPoints = h?.points ?? null;
  }
  return { scored, block, sequential };
}

const INDEPENDENT: readonly AllocationFamily[] = ['uniform', 'beta', 'empirical', 'piecewise'];

function lowestBic(scored: ScoredFamily[]): ScoredFamily {
  return scored.reduce((x, y) => (y.candidate.bic < x.candidate.bic ? y : x));
}

/** Consecutive allocations must share a block this many standard errors above chance for the block family to be a candidate. */
export const BLOCK_MIN_Z = 4;

/** A family must predict held-out runs better than a simpler one by this many standard errors to be preferred. */
export const HELDOUT_Z = 2;

/**
 * The rule's winner: among families with a held-out score, the highest; but a family
 * with fewer parameters whose score is within HELDOUT_Z standard errors of it wins
 * instead (a uniform NAT fits a 16-port "block" model about as well, by chance). Without
 * held-out scores, the lowest BIC.
 */
export function bestOf(scored: ScoredFamily[]): ScoredFamily {
  const held = scored.filter((s) => s.heldOutPoints);
  if (held.length === 0) return lowestBic(scored);
  const top = held.reduce((x, y) => (y.candidate.heldOut! > x.candidate.heldOut! ? y : x));
  const close = held.filter((s) => s === top || heldOutZ(top.heldOutPoints!, s.heldOutPoints!) < HELDOUT_Z);
  return close.reduce((x, y) => (y.candidate.k < x.candidate.k || (y.candidate.k === x.candidate.k && y.candidate.heldOut! > x.candidate.heldOut!) ? y : x));
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
  const best = bestOf(fits.scored);
  let marginal: ScoredFamily;
  if (INDEPENDENT.includes(best.candidate.family)) marginal = best;
  else if (best.candidate.family === 'block' && fits.block) {
    // One port per visit has no run-by-run sequence to hold out: BIC decides where blocks fall.
    const starts = firstOfVisits(a, fits.block.blockSize);
    marginal = new Set(starts).size >= 3 ? lowestBic(fitIndependent(starts)) : fits.scored[0]!;
  } else marginal = fits.scored[0]!;
  const fit: ModelFit = {
    ks: best.candidate.ks,
    n: a.n,
    alternatives: fits.scored.map((s) => ({ family: s.candidate.family, ks: s.candidate.ks, aic: s.candidate.aic, bic: s.candidate.bic, heldOut: s.candidate.heldOut })),
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
  const lp = preservingLogProb(rate, rangeSize);
  let ll = 0;
  for (let i = 0; i < a.n; i++) ll += lp(a, i);
  return { rate, logLik: ll };
}

/** log P(allocation i) when the local port is kept with probability `rate`, else a uniform draw over the range. */
function preservingLogProb(rate: number, rangeSize: number): PointLogProb {
  const chance = 1 / rangeSize;
  const hit = Math.log(rate + (1 - rate) * chance);
  const miss = Math.log((1 - rate) * chance);
  return (a, i) => (a.local[i] === 0 ? -Math.log(rangeSize) : a.local[i] === a.port[i] ? hit : miss);
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
