/**
 * Independent check of fitBeta4 against scipy.stats.beta.fit (loc and scale free) on
 * the same seeded carrier samples. Skipped, with a message, when no python3 imports
 * scipy; in CI that is a failure (.ci/run installs python3-scipy).
 */
import { beforeAll, describe, expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { betaLogLik, fitBeta4, type Beta4Fit } from '../../../pipeline/fit/stats/beta.ts';
import { needs } from '../../helpers/requirements.ts';
import { carrierPorts, findScipyPython } from './samples.ts';

const python = findScipyPython();
const maybe = needs('scipy (the independent Beta fit)', python ? null : 'neither python3 nor /usr/bin/python3 imports scipy.stats and numpy (apt-get install python3-scipy)').it;

/** For each sample file: scipy's fit, its log-likelihood, and scipy's log-likelihood at our fit. */
const SCRIPT = `
import json, sys, warnings
import numpy as np
from scipy import stats
warnings.simplefilter('ignore')
out = []
for job in json.loads(sys.argv[1]):
    x = np.loadtxt(job['file'])
    p = stats.beta.fit(x)
    out.append({
        'params': [float(v) for v in p],
        'logLik': float(stats.beta.logpdf(x, *p).sum()),
        'oursByScipy': float(stats.beta.logpdf(x, *job['ours']).sum()),
    })
print(json.dumps(out))
`;

interface ScipyResult {
  params: [number, number, number, number];
  logLik: number;
  oursByScipy: number;
}

const CASES = [
  { n: 5000, seed: 'scipy-a' },
  { n: 20000, seed: 'scipy-b' },
] as const;

describe('beta: fitBeta4 against scipy.stats.beta.fit', () => {
  const samples = CASES.map((c) => carrierPorts(c.n, c.seed));
  let ours: Beta4Fit[] = [];
  let theirs: ScipyResult[] = [];

  beforeAll(() => {
    if (!python) return;
    ours = samples.map((xs) => fitBeta4(xs));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natatlas-scipy-'));
    try {
      const jobs = samples.map((xs, i) => {
        const file = path.join(dir, `sample-${i}.txt`);
        fs.writeFileSync(file, Array.from(xs).join('\n') + '\n');
        const f = ours[i]!;
        return { file, ours: [f.alpha, f.beta, f.loc, f.scale] };
      });
      const r = spawnSync(python, ['-c', SCRIPT, JSON.stringify(jobs)], { timeout: 120000, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`scipy run failed (${r.status ?? r.signal}): ${r.stderr}`);
      theirs = JSON.parse(r.stdout) as ScipyResult[];
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  CASES.forEach(({ n }, i) => {
    maybe(`reaches at least scipy's likelihood, at the same maximum (n = ${n})`, () => {
      const f = ours[i]!;
      const sp = theirs[i]!;
      const xs = samples[i]!;
      // One likelihood function: scipy's logpdf at our parameters equals our logLik, and
      // our sum at scipy's parameters equals scipy's, up to summation order (1e-9 relative).
      expect(Math.abs(sp.oursByScipy - f.logLik)).toBeLessThan(1e-9 * Math.abs(f.logLik));
      const [a, b, loc, scale] = sp.params;
      expect(Math.abs(betaLogLik(xs, a, b, loc, scale) - sp.logLik)).toBeLessThan(1e-9 * Math.abs(sp.logLik));
      // Ours is at least as high. Tolerance 1e-6 nats: our search stops when the Newton
      // decrement is < 1e-9 nats and the sums carry ~1e-10 rounding; a one-standard-error
      // change of any parameter costs ~0.5 nats, so 1e-6 is "equal".
      expect(f.logLik).toBeGreaterThanOrEqual(sp.logLik - 1e-6);
      // ... and not by much: scipy's simplex converged to the same peak (observed gap:
      // 4e-11 nats at n = 5000, 0 at n = 20000).
      expect(f.logLik - sp.logLik).toBeLessThan(1e-3);
      // Same peak: on it, a logLik gap of D nats allows parameter differences up to
      // sqrt(2 D) standard errors, so with D < 1e-3 each parameter must lie within 5% of
      // its SE (observed: < 1e-5 SE).
      const se = f.stdErr!;
      expect(Math.abs(f.alpha - a)).toBeLessThan(0.05 * se.alpha);
      expect(Math.abs(f.beta - b)).toBeLessThan(0.05 * se.beta);
      expect(Math.abs(f.loc - loc)).toBeLessThan(0.05 * se.loc);
      expect(Math.abs(f.scale - scale)).toBeLessThan(0.05 * se.scale);
    });
  });
});
