/**
 * One carrier measured in two campaigns: its model side by side with standard errors, a
 * two-sample test on its allocations, its timeouts against each other's brackets, its
 * mapping class, and what a punch costs, summed up in a one-line verdict.
 *
 * The verdict is "changed" when the allocations differ (two-sample KS p below ALPHA),
 * the mapping class differs, or a timeout moved beyond both brackets; the parameter
 * z-scores and the family are shown, not voted: families close in AIC swap between
 * captures of one NAT, and a difference in parameters shows in the allocations.
 */
import type { CarrierFit, TimeoutFit } from '../contracts/fit.ts';
import type { AttackReport } from '../contracts/attack.ts';
import { paramErrors } from '../report/tables/models.ts';
import { fmtSig } from '../report/format.ts';
import { ksTwoSample, zPValue, type TwoSample } from './stats.ts';
import type { SampleKind } from './samples.ts';

/** Significance of the allocation test: strict, as a campaign compares many carriers. */
export const ALPHA = 0.001;

export interface ParamRow {
  name: string;
  a: number | null;
  seA: number | null;
  b: number | null;
  seB: number | null;
  /** (a - b) / sqrt(seA² + seB²) and its two-sided p, when both sides have an error. */
  z: number | null;
  p: number | null;
}

export interface TimeoutCompare {
  kind: 'wait' | 'idle';
  a: { seconds: number | null; low: number | null; high: number | null } | null;
  b: { seconds: number | null; low: number | null; high: number | null } | null;
  /** The two brackets do not overlap. */
  beyond: boolean;
}

export interface CarrierComparison {
  carrier: string;
  family: [string, string];
  params: ParamRow[];
  test: (TwoSample & { kind: SampleKind }) | null;
  mapping: [string, string];
  timeouts: TimeoutCompare[];
  /** Biased packets per side for 99% success, carrier against itself, in each campaign. */
  attack: { a: number | null; b: number | null; ratio: number | null; reached: [Reached | null, Reached | null] } | null;
  verdict: 'same' | 'changed';
  reasons: string[];
  line: string;
}

function chosenParams(fit: CarrierFit): { params: Record<string, number>; se: Record<string, number> } {
  const c = fit.candidates.find((x) => x.family === fit.model.family);
  return { params: (c?.params ?? (fit.model.params as Record<string, number>)), se: (c ? paramErrors(fit, c) : undefined) ?? {} };
}

function paramRows(a: CarrierFit, b: CarrierFit): ParamRow[] {
  const pa = chosenParams(a);
  const pb = chosenParams(b);
  const names = [...new Set([...Object.keys(pa.params), ...Object.keys(pb.params)])].sort();
  return names.map((name) => {
    const [x, y] = [pa.params[name] ?? null, pb.params[name] ?? null];
    const [sx, sy] = [pa.se[name] ?? null, pb.se[name] ?? null];
    const both = a.model.family === b.model.family && x !== null && y !== null && sx !== null && sy !== null && sx + sy > 0;
    const t = both ? zPValue(x, sx, y, sy) : null;
    return { name, a: x, seA: sx, b: y, seB: sy, z: t?.z ?? null, p: t?.p ?? null };
  });
}

function bracket(t: TimeoutFit | null): TimeoutCompare['a'] {
  return t ? { seconds: t.seconds, low: t.low, high: t.high } : null;
}

function timeoutRows(a: CarrierFit, b: CarrierFit): TimeoutCompare[] {
  return (['wait', 'idle'] as const).map((kind) => {
    const x = bracket(a.timeouts[kind]);
    const y = bracket(b.timeouts[kind]);
    // An open end (null) reaches as far as it can.
    const beyond = x !== null && y !== null && ((x.high !== null && y.low !== null && x.high < y.low) || (y.high !== null && x.low !== null && y.high < x.low));
    return { kind, a: x, b: y, beyond };
  });
}

/** Where 99% is not reached: the highest success the referee measured within its budget. */
export interface Reached {
  cap: number;
  budget: number;
}

function selfPair(attack: AttackReport | null, carrier: string) {
  return attack?.pairs.find((p) => p.a === carrier && p.b === carrier) ?? null;
}

function selfCost(attack: AttackReport | null, carrier: string): number | null {
  return selfPair(attack, carrier)?.biased.p99 ?? null;
}

function selfCap(attack: AttackReport | null, carrier: string): Reached | null {
  const cap = selfPair(attack, carrier)?.biased.cap ?? null;
  const budget = attack?.simulator?.budget ?? null;
  return cap === null || budget === null ? null : { cap, budget };
}

/**
 * Compare one carrier. `samples` are its test samples in A and B (see samples.ts).
 *
 * @example compareCarrier(fitA, fitB, { kind: 'ports', a: portsA, b: portsB }, attackA, attackB).line
 */
export function compareCarrier(
  a: CarrierFit, b: CarrierFit,
  samples: { kind: SampleKind; a: number[]; b: number[] },
  attackA: AttackReport | null, attackB: AttackReport | null,
): CarrierComparison {
  const test = samples.a.length > 0 && samples.b.length > 0 ? { ...ksTwoSample(samples.a, samples.b), kind: samples.kind } : null;
  const timeouts = timeoutRows(a, b);
  const mapping: [string, string] = [a.mapping.behavior, b.mapping.behavior];
  const reasons: string[] = [];
  if (test && test.p < ALPHA) reasons.push(`allocations differ (KS D = ${fmtSig(test.d, 3)} on ${test.kind}, p = ${pText(test.p)})`);
  if (mapping[0] !== mapping[1]) reasons.push(`mapping ${mapping[0]} -> ${mapping[1]}`);
  for (const t of timeouts.filter((x) => x.beyond)) reasons.push(`${t.kind} timeout ${fmtSig(t.a!.seconds, 3)} s -> ${fmtSig(t.b!.seconds, 3)} s, beyond both brackets`);
  const [ca, cb] = [selfCost(attackA, a.carrier), selfCost(attackB, b.carrier)];
  const attack = attackA && attackB
    ? { a: ca, b: cb, ratio: ca !== null && cb !== null && ca > 0 ? cb / ca : null, reached: [selfCap(attackA, a.carrier), selfCap(attackB, b.carrier)] as [Reached | null, Reached | null] }
    : null;
  const verdict = reasons.length > 0 ? 'changed' : 'same';
  const family = a.model.family === b.model.family ? a.model.family : `${a.model.family} -> ${b.model.family}`;
  const testText = test ? `KS p = ${pText(test.p)} on ${test.kind}` : 'no allocations to test';
  const line = verdict === 'same'
    ? `${a.carrier}: same (${testText}; ${family})`
    : `${a.carrier}: changed: ${reasons.join('; ')} (${family})`;
  return { carrier: a.carrier, family: [a.model.family, b.model.family], params: paramRows(a, b), test, mapping, timeouts, attack, verdict, reasons, line };
}

/** A p-value in few characters: `0.43`, `3.1e-20`. */
export function pText(p: number): string {
  if (!Number.isFinite(p)) return '—';
  if (p >= 0.001) return fmtSig(p, 2);
  return p === 0 ? '< 1e-300' : p.toExponential(1);
}
