/**
 * Recovery of known NATs: a campaign simulated from models with known parameters goes
 * through ingest -> join -> fit -> bias, and every estimate is checked against the truth
 * with a tolerance that follows from the sample size (standard errors the fit reports,
 * or the probes' resolution).
 */
import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../pipeline/run.ts';
import { preset, simulateCampaign, SEED_BETA, type SimulationReport } from '../../pipeline/simulate/index.ts';
import type { CarrierFit } from '../../pipeline/contracts/fit.ts';
import type { BiasTable } from '../../pipeline/bias/types.ts';
import { validateBiasTable } from '../../pipeline/bias/validate.ts';
import { binsFromCdf, totalVariation, type Segment } from '../../pipeline/fit/marginal.ts';
import { betaCdf } from '../../pipeline/fit/stats/beta.ts';
import { uniformCdf } from '../../pipeline/fit/stats/uniform.ts';
import { recordingLogger, snapshot, tempProject, FAST_RUN } from '../helpers/tmp.ts';

const PACKETS = 20000;

function carriers() {
  const voda = preset('VodafoneNL');
  // A NAT never hands out a port that is still mapped; at 50 packets/s and a 45 s
  // timeout ~2,250 live mappings would reshape the Beta. A 2 s timeout keeps ~100.
  voda.nat.waitTimeoutS = 2;
  // Whole-second probes cannot resolve a 2 s timer jittered by 1.5 s; keep this one exact.
  voda.nat.timeoutJitterS = 0;
  const seq = preset('SeqCarrier');
  seq.nat.model = { family: 'sequential', min: 1024, max: 65535, meanStep: 2, ratePerSecond: 200 };
  return [voda, preset('KPN'), preset('LebaraNL'), preset('Odido'), preset('PreserveCarrier'), seq];
}

/** Rebin segments onto coarse aligned bins (mass spread evenly within each segment). */
function rebin(segs: Segment[], width: number): Segment[] {
  const out = new Map<number, number>();
  for (const [from, to, mass] of segs) {
    const density = mass / (to - from + 1);
    for (let b = Math.floor(from / width); b <= Math.floor(to / width); b++) {
      const lo = Math.max(from, b * width);
      const hi = Math.min(to, b * width + width - 1);
      out.set(b, (out.get(b) ?? 0) + density * (hi - lo + 1));
    }
  }
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([b, m]) => [b * width, b * width + width - 1, m]);
}

describe('fit and bias on simulated carriers with known truth', () => {
  let truth: SimulationReport;
  let fits: Record<string, CarrierFit>;
  let tables: Record<string, BiasTable>;
  let derived: string;
  let raw: string;

  beforeAll(async () => {
    const p = tempProject();
    derived = p.derived;
    raw = p.raw;
    truth = await simulateCampaign({ outDir: p.raw, campaign: 'fit', carriers: carriers(), runs: 10, packets: PACKETS, seed: 'fit-test' });
    await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    const read = <T>(dir: string, c: string) => JSON.parse(fs.readFileSync(path.join(p.derived, 'fit', dir, `${c}.json`), 'utf8')) as T;
    fits = Object.fromEntries(Object.keys(truth.carriers).map((c) => [c, read<CarrierFit>('fit', c)]));
    tables = Object.fromEntries(Object.keys(truth.carriers).map((c) => [c, read<BiasTable>('bias', c)]));
  });

  it('chooses the family that generated each carrier', () => {
    const families = Object.fromEntries(Object.entries(fits).map(([c, f]) => [c, f.model.family]));
    expect(families).toEqual({ VodafoneNL: 'beta', KPN: 'block', LebaraNL: 'block', Odido: 'uniform', PreserveCarrier: 'preserving', SeqCarrier: 'sequential' });
  });

  it('recovers the Beta parameters within 4 standard errors', () => {
    const beta = fits.VodafoneNL!.candidates.find((c) => c.family === 'beta')!;
    expect(beta.stdErr).toBeDefined();
    for (const k of ['alpha', 'beta', 'loc', 'scale'] as const) {
      // Ports are floor() of the draws: the integer data sit half a port below the continuous ones.
      const t = k === 'loc' ? SEED_BETA.loc - 0.5 : SEED_BETA[k];
      expect({ k, off: Math.abs(beta.params[k]! - t) / beta.stdErr![k]! }).toEqual({ k, off: expect.any(Number) });
      expect(Math.abs(beta.params[k]! - t)).toBeLessThan(4 * beta.stdErr![k]!);
    }
  });

  it('finds 256-port blocks and the allocations used per block', () => {
    for (const [c, perBlock] of [['KPN', 100], ['LebaraNL', 60]] as const) {
      const f = fits[c]!;
      expect(f.block!.blockSize).toBe(256);
      // Each complete visit is perBlock allocations, ~2% lost and corrected for; hundreds of visits.
      expect(Math.abs(f.block!.perBlock - perBlock)).toBeLessThan(2);
      expect(f.conditional).toEqual({ kind: 'block', blockSize: 256, pSameBlock: expect.any(Number), perBlock: f.block!.perBlock });
      expect(f.block!.sizes.find((s) => s.size === 256)!.logLik).toBeGreaterThan(f.block!.sizes.find((s) => s.size === 512)!.logLik);
    }
  });

  it('judges mapping behaviour and port preservation', () => {
    for (const [c, f] of Object.entries(fits)) {
      expect({ c, b: f.mapping.behavior }).toEqual({ c, b: truth.carriers[c]!.nat.mapping });
      expect(f.mapping.evidence.pairs).toBeGreaterThan(100);
    }
    expect(fits.PreserveCarrier!.mapping.portPreservation).toBeGreaterThan(0.99);
    expect(fits.Odido!.mapping.portPreservation).toBeLessThan(0.001);
    expect(tables.PreserveCarrier!.model.params).toEqual({ rate: expect.any(Number) });
    expect((tables.PreserveCarrier!.model.params as { rate: number }).rate).toBeGreaterThan(0.99);
  });

  it('recovers the sequential step and the background rate within 4 standard errors', () => {
    const s = fits.SeqCarrier!.sequential!;
    expect(s.rateIdentified).toBe(true);
    expect(Math.abs(s.meanStep - 2)).toBeLessThan(4 * s.stdErr!.meanStep);
    expect(Math.abs(s.ratePerSecond - 200)).toBeLessThan(4 * s.stdErr!.ratePerSecond);
    expect(fits.SeqCarrier!.conditional!.kind).toBe('delta');
  });

  it('brackets every timeout, within the probes resolution when the timer is exact', () => {
    for (const [c, f] of Object.entries(fits)) {
      const nat = truth.carriers[c]!.nat;
      for (const kind of ['wait', 'idle'] as const) {
        const t = f.timeouts[kind]!;
        const T = kind === 'wait' ? nat.waitTimeoutS : nat.idleTimeoutS;
        if (nat.timeoutJitterS === 0) {
          // Exact timer: replies below T, silence from T on, so T lies in (low, high].
          expect({ c, kind, inside: T > t.low! && T <= t.high! }).toEqual({ c, kind, inside: true });
          expect(Math.abs(t.seconds! - T)).toBeLessThanOrEqual((t.high! - t.low!) / 2 + 1e-9);
        } else {
          expect({ c, kind, inside: T >= t.low! && T <= t.high! }).toEqual({ c, kind, inside: true });
        }
      }
    }
  });

  it('publishes a marginal close to the true allocation distribution (total variation on coarse bins)', () => {
    const truthSegs = (cdf: (x: number) => number, lo: number, hi: number) => rebin(binsFromCdf(cdf, lo, hi), 4096);
    const b = SEED_BETA;
    // Bounds: the TV of an empirical histogram on B bins from n draws is about sqrt(B / (2 pi n));
    // 16 bins: n = 19,000 allocations gives 0.012, ~190 block visits give 0.12. Twice those.
    const cases: [string, Segment[], number][] = [
      ['VodafoneNL', truthSegs((x) => betaCdf(x + 1, b.alpha, b.beta, b.loc, b.scale), 4096, 20480), 0.025],
      ['Odido', truthSegs((x) => uniformCdf(x, 1024, 65535), 1024, 65535), 0.01],
      ['KPN', truthSegs((x) => uniformCdf(x, 1024, 65535), 1024, 65535), 0.24],
    ];
    for (const [c, want, bound] of cases) {
      const tv = totalVariation(rebin(tables[c]!.marginal, 4096), want);
      expect({ c, ok: tv < bound, tv }).toEqual({ c, ok: true, tv });
    }
  });

  it('writes tables that pass the schema, with masses summing to 1', () => {
    for (const t of Object.values(tables)) {
      expect(validateBiasTable(t)).toEqual([]);
      expect(t.schema).toBe('natatlas.bias/2');
      expect(t.source.files.length).toBeGreaterThan(0);
    }
    const index = JSON.parse(fs.readFileSync(path.join(derived, 'fit', 'bias', 'index.json'), 'utf8'));
    expect(index.tables.map((t: { carrier: string }) => t.carrier)).toEqual(Object.keys(truth.carriers).sort());
  });

  it('gives byte-identical bias tables for the same inputs', async () => {
    // The same raw files (the simulator's own byte-identity is tests/simulate's) through a
    // second, fresh derived folder.
    const p = { ...tempProject(), raw };
    await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    expect(snapshot(path.join(p.derived, 'fit', 'bias'))).toEqual(snapshot(path.join(derived, 'fit', 'bias')));
  });
});
