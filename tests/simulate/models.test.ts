import { NatatlasError } from '../../pipeline/errors.ts';
import { Rng } from '../../pipeline/random.ts';
import { Nat, SEED_BETA, createAllocator, resolveModel, resolveNat, type AllocationModel, type MappingBehavior, type ResolvedNatSpec } from '../../pipeline/simulate/models.ts';

function natSpec(model: AllocationModel, mapping: MappingBehavior, waitTimeoutS = 30): ResolvedNatSpec {
  return resolveNat({ model, mapping, waitTimeoutS, idleTimeoutS: 60, timeoutJitterS: 0 });
}

function draws(model: AllocationModel, n: number, seed: string, stepMs = 20): number[] {
  const alloc = createAllocator(resolveModel(model), new Rng(seed));
  const free = new Uint8Array(65536);
  return Array.from({ length: n }, (_, i) => alloc.allocate(40000, i * stepMs, free));
}

function meanVar(xs: number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, variance };
}

describe('resolveModel', () => {
  it('fills the seed Beta fit and the 256-port block by default', () => {
    expect(resolveModel({ family: 'beta' })).toEqual({ family: 'beta', ...SEED_BETA });
    expect(resolveModel({ family: 'block', perBlock: 100, min: 1024, max: 65535 })).toEqual({ family: 'block', blockSize: 256, perBlock: 100, min: 1024, max: 65535 });
  });

  it.each<[AllocationModel, RegExp]>([
    [{ family: 'uniform', min: 5000, max: 4000 }, /min 5000 is above max 4000/],
    [{ family: 'uniform', min: 0, max: 4000 }, /min must be >= 1/],
    [{ family: 'uniform', min: 1, max: 70000 }, /max must be <= 65535/],
    [{ family: 'block', perBlock: 300, min: 1024, max: 65535 }, /perBlock must be <= 256/],
    [{ family: 'block', perBlock: 10, min: 1030, max: 1200 }, /no 256-aligned block fits/],
    [{ family: 'beta', loc: 60000, scale: 10000 }, /loc \+ scale/],
    [{ family: 'beta', alpha: -1 }, /alpha must be > 0/],
    [{ family: 'sequential', min: 1024, max: 65535, meanStep: 0.5, ratePerSecond: 1 }, /meanStep must be >= 1/],
    [{ family: 'nope' } as unknown as AllocationModel, /unknown family "nope"/],
  ])('rejects %j naming the parameter', (model, message) => {
    expect(() => resolveModel(model)).toThrow(NatatlasError);
    expect(() => resolveModel(model)).toThrow(message);
  });

  it('rejects a bad mapping and timeouts', () => {
    expect(() => resolveNat({ model: { family: 'beta' }, mapping: 'cone' as MappingBehavior, waitTimeoutS: 30, idleTimeoutS: 30, timeoutJitterS: 0 })).toThrow(/mapping must be/);
    expect(() => resolveNat({ model: { family: 'beta' }, mapping: 'endpoint-dependent', waitTimeoutS: 0, idleTimeoutS: 30, timeoutJitterS: 0 })).toThrow(/waitTimeoutS must be > 0/);
  });
});

describe('allocation models', () => {
  it('uniform stays in [min, max] with the uniform mean and variance', () => {
    const xs = draws({ family: 'uniform', min: 2048, max: 65535 }, 50_000, 'u');
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(2048);
    expect(Math.max(...xs)).toBeLessThanOrEqual(65535);
    const n = 65535 - 2048 + 1;
    const { mean } = meanVar(xs);
    expect(Math.abs(mean - (2048 + 65535) / 2)).toBeLessThan(5 * Math.sqrt((n * n - 1) / 12 / xs.length));
  });

  it('beta: the sample mean of external ports is near loc + scale * alpha / (alpha + beta)', () => {
    const n = 100_000;
    const { alpha: a, beta: b, loc, scale } = SEED_BETA;
    const xs = draws({ family: 'beta' }, n, 'b');
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(Math.floor(loc));
    expect(Math.max(...xs)).toBeLessThanOrEqual(Math.floor(loc + scale));
    const sd = scale * Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1)));
    const { mean, variance } = meanVar(xs);
    // floor() lowers a smooth continuous variable by 1/2 on average.
    expect(Math.abs(mean - (loc + (scale * a) / (a + b) - 0.5))).toBeLessThan(5 * (sd / Math.sqrt(n)) + 0.05);
    expect(Math.abs(Math.sqrt(variance) / sd - 1)).toBeLessThan(0.02);
  });

  it('block: aligned blocks inside the range, perBlock allocations each, offsets without replacement', () => {
    for (const perBlock of [60, 100, 256]) {
      const xs = draws({ family: 'block', perBlock, min: 1024, max: 65535 }, perBlock * 50 + 7, `blk-${perBlock}`);
      const runs: number[][] = [];
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(1024);
      for (const p of xs) {
        const block = Math.floor(p / 256);
        const last = runs[runs.length - 1];
        if (last && Math.floor(last[0]! / 256) === block) last.push(p);
        else runs.push([p]);
      }
      expect(runs.length).toBe(51);
      for (const run of runs.slice(0, -1)) {
        expect(run.length).toBe(perBlock);
        expect(new Set(run).size).toBe(run.length);
      }
      expect(runs[runs.length - 1]!.length).toBe(7);
    }
  });

  it('block: a NAT with live mappings still hands out perBlock ports per block, none of them in use', () => {
    const nat = new Nat(natSpec({ family: 'block', perBlock: 100, min: 1024, max: 65535 }, 'endpoint-dependent', 3600), new Rng('blk-nat'));
    const seen = new Set<number>();
    const exts: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const ext = nat.send(1024 + (i % 60000), 10000 + (i % 7), i * 20);
      expect(seen.has(ext)).toBe(false);
      seen.add(ext);
      exts.push(ext);
    }
    let runs = 1;
    for (let i = 1; i < exts.length; i++) if (Math.floor(exts[i]! / 256) !== Math.floor(exts[i - 1]! / 256)) runs += 1;
    expect(runs).toBe(50);
  });

  it('sequential: steps average 1 + (meanStep - 1) + ratePerSecond * seconds between allocations, wrapping in range', () => {
    const model = { family: 'sequential' as const, min: 1024, max: 65535, meanStep: 3, ratePerSecond: 50 };
    const stepMs = 20;
    const xs = draws(model, 50_000, 'seq', stepMs);
    const span = 65535 - 1024 + 1;
    const steps = xs.slice(1).map((p, i) => (((p - xs[i]!) % span) + span) % span);
    const lambda = (model.ratePerSecond * stepMs) / 1000;
    const g = model.meanStep - 1;
    const { mean, variance } = meanVar(steps);
    expect(Math.abs(mean - (1 + g + lambda))).toBeLessThan(5 * Math.sqrt((g * (1 + g) + lambda) / steps.length));
    expect(variance).toBeGreaterThan(0);
    expect(xs.every((p) => p >= 1024 && p <= 65535)).toBe(true);
    // It wraps: 50k steps of ~4 cross the 64k range about three times.
    expect(steps.length).toBeGreaterThan(0);
    expect(xs.some((p, i) => i > 0 && p < xs[i - 1]!)).toBe(true);
  });

  it('sequential: a pause lets other subscribers advance the counter by about rate * pause', () => {
    const alloc = createAllocator(resolveModel({ family: 'sequential', min: 1024, max: 65535, meanStep: 1, ratePerSecond: 10 }), new Rng('gap'));
    const free = new Uint8Array(65536);
    const a = alloc.allocate(1, 0, free);
    const b = alloc.allocate(1, 300_000, free); // 5 minutes: Poisson(3000)
    const step = (((b - a) % 64512) + 64512) % 64512;
    expect(Math.abs(step - 3001)).toBeLessThan(5 * Math.sqrt(3000));
  });

  it('preserving keeps the local port when free and falls back to the range when it is mapped', () => {
    const nat = new Nat(natSpec({ family: 'preserving', min: 1024, max: 65535 }, 'endpoint-independent'), new Rng('pres'));
    expect(nat.send(40000, 10000, 0)).toBe(40000);
    expect(nat.send(40000, 10001, 10)).toBe(40000); // EIM: same mapping
    const edm = new Nat(natSpec({ family: 'preserving', min: 1024, max: 65535 }, 'endpoint-dependent'), new Rng('pres'));
    expect(edm.send(40000, 10000, 0)).toBe(40000);
    const other = edm.send(40000, 10001, 10); // port 40000 is mapped: fallback
    expect(other).not.toBe(40000);
    expect(other).toBeGreaterThanOrEqual(1024);
  });
});

describe('Nat', () => {
  it('endpoint-independent: one external port per local port while the mapping lives', () => {
    const nat = new Nat(natSpec({ family: 'uniform', min: 1024, max: 65535 }, 'endpoint-independent', 30), new Rng('eim'));
    const a = nat.send(5000, 10000, 0);
    expect(nat.send(5000, 10001, 20)).toBe(a);
    expect(nat.send(5000, 10002, 29_000)).toBe(a); // refreshed at 29 s
    expect(nat.send(5000, 10002, 58_999)).toBe(a); // alive until 59 s
    expect(nat.allocations).toBe(1);
    const b = nat.send(5000, 10000, 58_999 + 30_000); // expired exactly at last + wait
    expect(nat.allocations).toBe(2);
    expect(nat.send(5001, 10000, 88_999)).not.toBe(b);
  });

  it('endpoint-dependent: a new external port per destination, the same one for a repeated destination', () => {
    const nat = new Nat(natSpec({ family: 'uniform', min: 1024, max: 65535 }, 'endpoint-dependent', 30), new Rng('edm'));
    const a = nat.send(5000, 10000, 0);
    const b = nat.send(5000, 10001, 20);
    expect(b).not.toBe(a);
    expect(nat.send(5000, 10000, 40)).toBe(a);
    expect(nat.size).toBe(2);
  });

  it('never hands out a mapped port, and says so when the range is exhausted', () => {
    const nat = new Nat(natSpec({ family: 'uniform', min: 1000, max: 1009 }, 'endpoint-dependent', 30), new Rng('small'));
    const ports = Array.from({ length: 10 }, (_, i) => nat.send(2000 + i, 10000, i));
    expect([...ports].sort((x, y) => x - y)).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]);
    expect(() => nat.send(3000, 10000, 100)).toThrow(NatatlasError);
    expect(() => nat.send(3000, 10000, 100)).toThrow(/exhausted/);
    // Once mappings expire their ports come back.
    expect(nat.send(3000, 10000, 30_000)).toBeGreaterThanOrEqual(1000);
  });

  it('rejects time going backwards', () => {
    const nat = new Nat(natSpec({ family: 'uniform', min: 1024, max: 65535 }, 'endpoint-dependent'), new Rng('t'));
    nat.send(1, 1, 100);
    expect(() => nat.send(1, 1, 99)).toThrow(/backwards/);
  });

  it.each<MappingBehavior>(['endpoint-independent', 'endpoint-dependent'])('%s agrees with a reference mapping table over 200k random sends', (mapping) => {
    const waitMs = 1000;
    const rng = new Rng(`ref-${mapping}`);
    const nat = new Nat(natSpec({ family: 'uniform', min: 1024, max: 65535 }, mapping, waitMs / 1000), new Rng(`nat-${mapping}`));
    const ref = new Map<number, { ext: number; last: number }>();
    const byExt = new Map<number, { key: number; last: number }>();
    // About 300 keys either way, revisited every ~1.5 s: a mix of reuse and expiry.
    const [localHi, destHi] = mapping === 'endpoint-independent' ? [1323, 10000] : [1043, 10014];
    let t = 0;
    let reuses = 0;
    for (let i = 0; i < 200_000; i++) {
      t += Math.floor(rng.exponential(1 / 5));
      const local = rng.int(1024, localHi);
      const dest = rng.int(10000, destHi);
      const key = mapping === 'endpoint-independent' ? local : local * 65536 + dest;
      const ext = nat.send(local, dest, t);
      const m = ref.get(key);
      if (m && t < m.last + waitMs) {
        if (ext !== m.ext) throw new Error(`send ${i}: live mapping ${m.ext} not reused (got ${ext})`);
        reuses += 1;
      } else {
        const holder = byExt.get(ext);
        if (holder && t < holder.last + waitMs) throw new Error(`send ${i}: port ${ext} of live key ${holder.key} handed out again`);
      }
      ref.set(key, { ext, last: t });
      byExt.set(ext, { key, last: t });
    }
    expect(reuses).toBeGreaterThan(10_000);
    let live = 0;
    for (const v of ref.values()) if (t < v.last + waitMs) live += 1;
    nat.send(1024, 10000, t); // expire at t
    expect(Math.abs(nat.size - live)).toBeLessThanOrEqual(1);
  });
});
