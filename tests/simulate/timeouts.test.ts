import { AtomicWriter } from '../../pipeline/io/atomic.ts';
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../../pipeline/random.ts';
import { resolveNat } from '../../pipeline/simulate/models.ts';
import { MAX_SWEEP_S, SWEEP_STEP_S, TIMEOUTS_HEADER, searchTimeout, writeTimeoutProbes } from '../../pipeline/simulate/timeouts.ts';
import { tempDir } from './files.ts';

/** Algorithms 2 and 3 as printed in the seed, written independently as a reference. */
function reference(replied: (d: number) => boolean): number[] {
  const delays: number[] = [];
  let delay = 0;
  let ok: boolean;
  do {
    delay += 20;
    delays.push(delay);
    ok = replied(delay);
  } while (ok);
  let l = delay - 20;
  let r = delay;
  while (l < r) {
    const d = Math.floor((l + r) / 2);
    delays.push(d);
    if (replied(d)) l = d + 1;
    else r = d - 1;
  }
  return delays;
}

describe('searchTimeout (seed Algorithms 2 and 3)', () => {
  it('probes exactly the delays the printed algorithms probe', () => {
    for (const T of [1, 7, 19.5, 20, 21, 33, 47, 60, 64.2, 119, 120, 300]) {
      const replies = (d: number) => d < T;
      const got = searchTimeout(replies).probes.map((p) => p.delayS);
      expect(got).toEqual(reference(replies));
    }
  });

  it('with no jitter, every reply is d < T and the final bracket holds the true timeout', () => {
    for (let T = 0.5; T <= 400; T += 0.5) {
      const { l, r, probes, censored } = searchTimeout((d) => d < T);
      expect(censored).toBe(false);
      for (const p of probes) expect(p.replied).toBe(p.delayS < T);
      // Algorithm 3's invariants: l never passes ceil(T), r never drops below ceil(T) - 1.
      expect(Math.abs(l - r)).toBeLessThanOrEqual(1);
      expect(T).toBeGreaterThan(Math.min(l, r) - 1);
      expect(T).toBeLessThanOrEqual(Math.max(l, r) + 1);
      // The evidence bracket: alive at the largest replied delay, gone at the smallest silent one.
      const replied = probes.filter((p) => p.replied).map((p) => p.delayS);
      const silent = probes.filter((p) => !p.replied).map((p) => p.delayS);
      if (replied.length > 0) expect(Math.max(...replied)).toBeLessThan(T);
      expect(Math.min(...silent)).toBeGreaterThanOrEqual(T);
      expect(Math.min(...silent) - Math.max(0, ...replied)).toBeLessThanOrEqual(2);
      // The sweep runs in 20 s steps up to the first silence.
      const sweep = Math.ceil(T / SWEEP_STEP_S);
      expect(probes.slice(0, sweep).map((p) => p.delayS)).toEqual(Array.from({ length: sweep }, (_, i) => (i + 1) * SWEEP_STEP_S));
    }
  });

  it('stops sweeping at MAX_SWEEP_S and marks the search censored', () => {
    const res = searchTimeout(() => true);
    expect(res.censored).toBe(true);
    expect(res.probes.length).toBe(MAX_SWEEP_S / SWEEP_STEP_S);
  });
});

describe('writeTimeoutProbes', () => {
  it('writes probe_id,kind,delay_s,replied rows for each kind and repetition', () => {
    const dir = tempDir('timeouts');
    try {
      const file = path.join(dir, 'timeouts.csv');
      const out = new AtomicWriter(file);
      const nat = resolveNat({ model: { family: 'beta' }, mapping: 'endpoint-dependent', waitTimeoutS: 47, idleTimeoutS: 95, timeoutJitterS: 0 });
      const truth = writeTimeoutProbes(out, nat, 3, new Rng('t'));
      out.commit();
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      expect(lines.pop()).toBe('');
      expect(lines[0]).toBe(TIMEOUTS_HEADER);
      const rows = lines.slice(1).map((l) => l.split(','));
      expect(rows.length).toBe(truth.wait.rows + truth.idle.rows);
      for (const [id, kind, delay, replied] of rows) {
        expect(id).toMatch(/^(wait|idle)-[1-3]-\d{2}$/);
        expect(id!.startsWith(`${kind}-`)).toBe(true);
        expect(replied === 'true' || replied === 'false').toBe(true);
        const T = kind === 'wait' ? 47 : 95;
        expect(replied === 'true').toBe(Number(delay) < T);
      }
      // Repetitions without jitter are identical searches; steps count up from 01.
      const wait1 = rows.filter((r) => r[0]!.startsWith('wait-1-'));
      expect(wait1.map((r) => r[0])).toEqual(wait1.map((_, i) => `wait-1-${String(i + 1).padStart(2, '0')}`));
      expect(rows.filter((r) => r[0]!.startsWith('wait-3-')).map((r) => r[2])).toEqual(wait1.map((r) => r[2]));
      expect(truth.wait.searches).toHaveLength(3);
      for (const s of [...truth.wait.searches, ...truth.idle.searches]) {
        const T = truth.wait.searches.includes(s) ? 47 : 95;
        expect(s.lastReplied!).toBeLessThan(T);
        expect(s.firstSilent!).toBeGreaterThanOrEqual(T);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with jitter, the searches differ between repetitions but still follow the algorithms', () => {
    const dir = tempDir('timeouts-j');
    try {
      const out = new AtomicWriter(path.join(dir, 'timeouts.csv'));
      const nat = resolveNat({ model: { family: 'beta' }, mapping: 'endpoint-dependent', waitTimeoutS: 47, idleTimeoutS: 95, timeoutJitterS: 3 });
      const truth = writeTimeoutProbes(out, nat, 20, new Rng('tj'));
      out.commit();
      const rows = fs.readFileSync(path.join(dir, 'timeouts.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
      const brackets = new Set(truth.wait.searches.map((s) => `${s.l},${s.r}`));
      expect(brackets.size).toBeGreaterThan(1);
      for (let rep = 1; rep <= 20; rep++) {
        const mine = rows.filter((r) => r[0]!.startsWith(`wait-${rep}-`));
        let k = 0;
        const replayed = reference(() => mine[k++]?.[3] === 'true');
        expect(replayed).toEqual(mine.map((r) => Number(r[2])));
      }
      // Every search lands within a few jitter SDs of the truth.
      for (const s of truth.wait.searches) expect(Math.abs((s.l + s.r) / 2 - 47)).toBeLessThan(5 * 3 + 2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
