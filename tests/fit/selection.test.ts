/**
 * Model choice against known answers: allocation sequences drawn from known laws (with
 * the project's seeded generator), and the lab's real --random-fully captures scored on a
 * run the fit did not see.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../../pipeline/random.ts';
import type { Allocations } from '../../pipeline/fit/allocations.ts';
import { choose, fitFamilies } from '../../pipeline/fit/families.ts';
import { fitPiecewise } from '../../pipeline/fit/piecewise.ts';
import { fitSequential } from '../../pipeline/fit/sequential.ts';
import { binsFromCdf, compactSegments, totalVariation, type Segment } from '../../pipeline/fit/marginal.ts';
import { ingest } from '../../pipeline/stages/ingest.ts';
import { join } from '../../pipeline/stages/join.ts';
import { fit } from '../../pipeline/stages/fit.ts';
import type { CarrierFit } from '../../pipeline/contracts/fit.ts';
import { recordingLogger, tempProject } from '../helpers/tmp.ts';

/** `runs` runs of `n` allocations each, 20 ms apart, ports from `draw`. */
function allocations(runs: number, n: number, draw: (i: number) => number, dtMs: (i: number) => number = () => 20): Allocations {
  const N = runs * n;
  const a: Allocations = { n: N, port: new Uint16Array(N), run: new Uint32Array(N), time: new Float64Array(N), sendSeq: new Uint32Array(N), local: new Uint16Array(N), markers: 0 };
  let k = 0;
  for (let r = 0; r < runs; r++) {
    let t = 1_700_000_000_000 + r * 600_000;
    for (let i = 0; i < n; i++, k++) {
      a.port[k] = draw(k);
      a.run[k] = r + 1;
      a.time[k] = t;
      a.sendSeq[k] = i;
      t += dtMs(k);
    }
  }
  return a;
}

/** Empirical histogram of ports on aligned bins, as segments. */
function histogram(ports: ArrayLike<number>, width: number): Segment[] {
  const counts = new Map<number, number>();
  for (let i = 0; i < ports.length; i++) counts.set(Math.floor(ports[i]! / width), (counts.get(Math.floor(ports[i]! / width)) ?? 0) + 1);
  return [...counts.entries()].sort((x, y) => x[0] - y[0]).map(([b, c]) => [b * width, b * width + width - 1, c / ports.length]);
}

/** Segments rebinned onto aligned bins of `width` (mass spread evenly within segments). */
function rebin(segs: Segment[], width: number): Segment[] {
  const out = new Map<number, number>();
  for (const [from, to, mass] of segs) {
    for (let b = Math.floor(from / width); b <= Math.floor(to / width); b++) {
      const lo = Math.max(from, b * width);
      const hi = Math.min(to, b * width + width - 1);
      out.set(b, (out.get(b) ?? 0) + (mass * (hi - lo + 1)) / (to - from + 1));
    }
  }
  return [...out.entries()].sort((x, y) => x[0] - y[0]).map(([b, m]) => [b * width, b * width + width - 1, m]);
}

function chosenMarginal(a: Allocations): { family: string; marginal: Segment[] } {
  const fits = fitFamilies(a, 0);
  const { best, marginal } = choose(fits, a);
  const p = marginal.candidate.params;
  return { family: best.candidate.family, marginal: compactSegments(binsFromCdf(marginal.cdf, p.min ?? 0, p.max ?? 65535)) };
}

describe('model choice', () => {
  it('keeps a uniform NAT over a non-power-of-two range uniform, reporting AIC, BIC and the held-out score', () => {
    const rng = new Rng('uniform-10000');
    const a = allocations(3, 450, () => rng.int(20000, 29999));
    const fits = fitFamilies(a, 0);
    const { best, model } = choose(fits, a);
    expect(best.candidate.family).toBe('uniform');
    for (const alt of model.fit.alternatives) {
      expect(alt.bic).toEqual(expect.any(Number));
      expect(alt.heldOut).toEqual(expect.any(Number));
    }
  });

  it('never takes chance neighbours in a narrow uniform range for blocks, and still finds short block visits', () => {
    // The lab's masq-narrow: uniform over 1,000 ports, where a 16-port block holds 1.6% of
    // consecutive pairs by chance; held-out scores alone picked "16-port blocks" for it in
    // about 1 lab capture in 5, and the punch plan built on that missed its prediction.
    const chosen: string[] = [];
    for (let seed = 0; seed < 40; seed++) {
      const rng = new Rng(`narrow-${seed}`);
      const a = allocations(3, 200, () => rng.int(20000, 20999));
      chosen.push(choose(fitFamilies(a, 0), a).best.candidate.family);
    }
    expect(chosen.filter((f) => f === 'block')).toEqual([]);
    // A block NAT with only four allocations per 256-port block visit is still one.
    const rng = new Rng('short-visits');
    let base = 0;
    const blocks = allocations(3, 200, (i) => {
      if (i % 4 === 0) base = 20480 + 256 * rng.int(0, 35);
      return base + rng.int(0, 255);
    });
    expect(choose(fitFamilies(blocks, 0), blocks).best.candidate.family).toBe('block');
  });

  it('finds the steps of a two-pool allocator as a piecewise-uniform family', () => {
    // 70% uniform on 10000-14999, 30% on 40000-40999.
    const rng = new Rng('two-pools');
    const draw = () => (rng.next() < 0.7 ? rng.int(10000, 14999) : rng.int(40000, 40999));
    const a = allocations(4, 1000, draw);
    const { family, marginal } = chosenMarginal(a);
    expect(family).toBe('piecewise');
    const truth: Segment[] = [[10000, 14999, 0.7], [40000, 40999, 0.3]];
    // 4,000 draws on 96 bins: sampling TV about sqrt(96 / (2 pi 4000)) = 0.06; the fit is smoother than that.
    expect(totalVariation(rebin(marginal, 256), rebin(truth, 256))).toBeLessThan(0.03);
    expect(fitPiecewise(a.port).pieces.filter((p) => p[2] > 0.01).length).toBe(2);
  });

  it('keeps the sequential rate non-negative, and null in the model when the pacing cannot identify it', () => {
    // Counter moving 3 per allocation, no other subscribers; sends evenly paced: step and rate are confounded.
    const even = allocations(3, 500, (k) => 20000 + 3 * (k % 500));
    const s = fitSequential(even, 45536)!;
    expect(s.rateIdentified).toBe(false);
    const seq = fitFamilies(even, 0).scored.find((f) => f.candidate.family === 'sequential')!;
    expect(seq.model).toEqual({ meanStep: 3, ratePerSecond: null });
    // Irregular pacing, gaps that shrink with the time between sends: least squares alone gives a negative rate.
    const rng = new Rng('negative-rate');
    const dts: number[] = [];
    let port = 20000;
    const falling = allocations(3, 500, (k) => {
      const dt = k === 0 ? 20 : dts[k - 1]!;
      port += Math.max(1, Math.round(6 - dt / 20 + rng.normal(0, 0.3)));
      return port;
    }, (k) => {
      dts[k] = rng.pick([10, 20, 40, 80]);
      return dts[k]!;
    });
    const f = fitSequential(falling, 45536)!;
    expect(f.rateIdentified).toBe(true);
    expect(f.ratePerSecond).toBeGreaterThanOrEqual(0);
    expect(f.meanStep).toBeGreaterThanOrEqual(0);
  });

  it.each(['masq-narrow', 'masq-random'])('on the real --random-fully capture %s, the chosen marginal predicts a held-out run no worse than a plain uniform over the range', async (carrier) => {
    const range = carrier === 'masq-narrow' ? [20000, 20999] : [1024, 65535];
    const src = path.join('raw', 'netfilter-lab', carrier);
    for (const held of ['01', '02', '03']) {
      const p = tempProject();
      const dir = path.join(p.raw, 'lab', carrier);
      fs.mkdirSync(dir, { recursive: true });
      for (const f of fs.readdirSync(src)) if (!f.endsWith(`-${held}.csv`)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
      const ctx = { campaign: 'lab', paths: p, log: recordingLogger() };
      await ingest(ctx);
      await join(ctx);
      await fit(ctx);
      const f = JSON.parse(fs.readFileSync(path.join(p.derived, 'lab', 'fit', `${carrier}.json`), 'utf8')) as CarrierFit;
      // The held-out run's external ports, as the capture server saw them (end markers are allocations too).
      const lines = fs.readFileSync(path.join(src, `server-${held}.csv`), 'utf8').trim().split('\n').slice(1);
      const ports = lines.map((l) => Number(l.split(',')[2])).filter((x) => x >= 1);
      const observed = histogram(ports, 64);
      const tvChosen = totalVariation(rebin(f.marginal, 64), observed);
      const tvUniform = totalVariation(rebin([[range[0]!, range[1]!, 1]], 64), observed);
      // The fitted range can stop a few ports short of the configured one: 0.01 of slack.
      expect({ carrier, held, family: f.model.family, ok: tvChosen <= tvUniform + 0.01, tvChosen, tvUniform }).toMatchObject({ ok: true });
    }
  });
});
