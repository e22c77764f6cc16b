/** Per-carrier model rows (mapping, family, parameters, fit scores, timeouts) for HTML and LaTeX. */
import type { Candidate, CarrierFit } from '../../contracts/fit.ts';
import type { Model } from '../../bias/types.ts';
import { fmtNum } from '../format.ts';

export const BEHAVIOR_SHORT: Record<string, string> = {
  'endpoint-independent': 'EIM',
  'endpoint-dependent': 'EDM',
  unknown: '?',
};

/**
 * The fitted parameters in one line. `latex` gives math-mode Greek and `{,}` digit
 * groups; text gives Unicode.
 */
export function modelParamsText(model: Model, style: 'text' | 'latex' = 'text'): string {
  const tex = style === 'latex';
  const n = (x: number, d = 0) => (tex ? fmtNum(x, d).replace(/,/g, '{,}') : fmtNum(x, d));
  const p = model.params as Record<string, number>;
  switch (model.family) {
    case 'uniform':
      return tex ? `ports $[${n(p.min!)}, ${n(p.max!)}]$` : `ports [${n(p.min!)}, ${n(p.max!)}]`;
    case 'beta':
      return tex
        ? `$\\alpha=${fmtNum(p.alpha!, 3)}$, $\\beta=${fmtNum(p.beta!, 3)}$, loc ${n(p.loc!, 1)}, scale ${n(p.scale!, 1)}`
        : `α = ${fmtNum(p.alpha!, 3)}, β = ${fmtNum(p.beta!, 3)}, loc ${n(p.loc!, 1)}, scale ${n(p.scale!, 1)}`;
    case 'block':
      return `${n(p.blockSize!)}-port blocks in ${tex ? '$[' : '['}${n(p.min!)}, ${n(p.max!)}${tex ? ']$' : ']'}, ${fmtNum(p.perBlock!, 1)} per block`;
    case 'sequential':
      return `step ${fmtNum(p.meanStep!, 1)}, ${fmtNum(p.ratePerSecond!, 1)} ports/s`;
    case 'preserving':
      return `keeps ${fmtNum(p.rate! * 100, 1)}${tex ? '\\%' : '%'} of ports`;
    case 'empirical':
      return '256-port histogram';
    default:
      return '';
  }
}

export interface ModelRow {
  carrier: string;
  behavior: string;
  pairs: number;
  preservation: number;
  family: string;
  params: string;
  ks: number;
  n: number;
  /** AIC of the runner-up minus the winner's (how clearly the family won). */
  deltaAic: number | null;
  waitS: number | null;
  idleS: number | null;
}

export function modelRow(fit: CarrierFit): ModelRow {
  const alts = [...fit.model.fit.alternatives].sort((a, b) => a.aic - b.aic);
  const winner = alts.find((a) => a.family === fit.model.family);
  const runnerUp = alts.find((a) => a.family !== fit.model.family);
  return {
    carrier: fit.carrier,
    behavior: fit.mapping.behavior,
    pairs: fit.mapping.evidence.pairs,
    preservation: fit.mapping.portPreservation,
    family: fit.model.family,
    params: modelParamsText(fit.model),
    ks: fit.model.fit.ks,
    n: fit.model.fit.n,
    deltaAic: winner && runnerUp ? runnerUp.aic - winner.aic : null,
    waitS: fit.timeouts.wait?.seconds ?? null,
    idleS: fit.timeouts.idle?.seconds ?? null,
  };
}

/**
 * Standard errors of a candidate's parameters where the fit has them: the candidate's own
 * (observed information), or the sequential fit's least-squares errors kept beside it.
 */
export function paramErrors(fit: CarrierFit, c: Candidate): Record<string, number> | undefined {
  return c.stdErr ?? (c.family === 'sequential' && fit.sequential?.stdErr ? fit.sequential.stdErr : undefined);
}
