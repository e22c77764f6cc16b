/**
 * Timeout probes exactly as the seed's Algorithms 2 and 3 print them: a coarse sweep
 * (delay += 20 s while the reply gets in), then a binary search on [delay - 20, delay]
 * (`while l < r: d = floor((l + r) / 2); probe d; if replied l = d + 1 else r = d - 1`).
 * A probe at delay d gets a reply iff d < T + e, e ~ Normal(0, jitter) drawn per probe.
 */
import type { AtomicWriter } from '../io/atomic.ts';
import type { Rng } from '../random.ts';
import type { ResolvedNatSpec } from './models.ts';

export type TimeoutKind = 'wait' | 'idle';

export const TIMEOUTS_HEADER = 'probe_id,kind,delay_s,replied';
/** Algorithm 2's step. */
export const SWEEP_STEP_S = 20;
/** The sweep gives up (and skips the binary search) past this delay. */
export const MAX_SWEEP_S = 3600;

export interface Probe {
  step: number;
  delayS: number;
  replied: boolean;
}

export interface TimeoutSearch {
  repetition: number;
  probes: number;
  /** Algorithm 3's final l and r (its printed return value). */
  l: number;
  r: number;
  /** Largest delay that got a reply and smallest that did not (null if none). */
  lastReplied: number | null;
  firstSilent: number | null;
  /** True when the sweep reached MAX_SWEEP_S without losing the reply. */
  censored: boolean;
}

export interface TimeoutTruth {
  trueS: number;
  jitterS: number;
  rows: number;
  searches: TimeoutSearch[];
}

/**
 * One search: Algorithm 2 then Algorithm 3, calling `probe(step, delay)` for every
 * probe in order. `replies(d)` is the NAT: whether a reply after d seconds gets in.
 */
export function searchTimeout(replies: (delayS: number) => boolean, onProbe: (p: Probe) => void = () => {}): { l: number; r: number; probes: Probe[]; censored: boolean } {
  const probes: Probe[] = [];
  const probe = (d: number): boolean => {
    const p = { step: probes.length + 1, delayS: d, replied: replies(d) };
    probes.push(p);
    onProbe(p);
    return p.replied;
  };
  // Algorithm 2.
  let delay = 0;
  let replied: boolean;
  do {
    delay += SWEEP_STEP_S;
    replied = probe(delay);
  } while (replied && delay < MAX_SWEEP_S);
  if (replied) return { l: delay, r: delay, probes, censored: true };
  // Algorithm 3.
  let l = delay - SWEEP_STEP_S;
  let r = delay;
  while (l < r) {
    const d = Math.floor((l + r) / 2);
    if (probe(d)) l = d + 1;
    else r = d - 1;
  }
  return { l, r, probes, censored: false };
}

/** Write `probeRepeats` searches of each kind as `timeouts.csv` rows; returns the truth. */
export function writeTimeoutProbes(out: AtomicWriter, nat: ResolvedNatSpec, repeats: number, rng: Rng): Record<TimeoutKind, TimeoutTruth> {
  out.write(`${TIMEOUTS_HEADER}\n`);
  const truth = {} as Record<TimeoutKind, TimeoutTruth>;
  for (const kind of ['wait', 'idle'] as const) {
    const trueS = kind === 'wait' ? nat.waitTimeoutS : nat.idleTimeoutS;
    const jitter = nat.timeoutJitterS;
    const kindTruth: TimeoutTruth = { trueS, jitterS: jitter, rows: 0, searches: [] };
    for (let rep = 1; rep <= repeats; rep++) {
      let text = '';
      const result = searchTimeout(
        (d) => d < trueS + (jitter > 0 ? rng.normal(0, jitter) : 0),
        (p) => {
          text += `${kind}-${rep}-${String(p.step).padStart(2, '0')},${kind},${p.delayS},${p.replied}\n`;
        },
      );
      out.write(text);
      let lastReplied: number | null = null;
      let firstSilent: number | null = null;
      for (const p of result.probes) {
        if (p.replied && (lastReplied === null || p.delayS > lastReplied)) lastReplied = p.delayS;
        if (!p.replied && (firstSilent === null || p.delayS < firstSilent)) firstSilent = p.delayS;
      }
      kindTruth.rows += result.probes.length;
      kindTruth.searches.push({ repetition: rep, probes: result.probes.length, l: result.l, r: result.r, lastReplied, firstSilent, censored: result.censored });
    }
    truth[kind] = kindTruth;
  }
  return truth;
}
