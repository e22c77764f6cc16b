/**
 * Drive the simulator's synchronous `searchTimeout` (the seed's Algorithms 2 and 3)
 * with asynchronous, real probes: run it against the answers known so far; when it
 * asks a delay it has no answer for, stop it, probe that delay for real, and replay.
 * The search is deterministic, so the replayed prefix asks the same delays.
 */
import type { Probe } from '../simulate/timeouts.ts';

type SyncSearch = (replies: (delayS: number) => boolean) => { l: number; r: number; probes: Probe[]; censored: boolean };

const NEED = Symbol('need a probe');

export async function searchAsync(search: SyncSearch, probe: (delay: number) => Promise<boolean>): Promise<{ l: number; r: number; probes: Probe[]; censored: boolean }> {
  const answers: boolean[] = [];
  for (;;) {
    let asked: number | null = null;
    let calls = 0;
    try {
      return search((d) => {
        const i = calls++;
        if (i < answers.length) return answers[i]!;
        asked = d;
        throw NEED;
      });
    } catch (e) {
      if (e !== NEED) throw e;
    }
    answers.push(await probe(asked!));
  }
}
