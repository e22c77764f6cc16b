import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../pipeline/run.ts';
import { preset, simulateCampaign } from '../../pipeline/simulate/index.ts';
import type { AttackReport } from '../../pipeline/contracts/attack.ts';
import type { BiasTable } from '../../pipeline/bias/types.ts';
import { FAST_RUN, recordingLogger, tempProject } from '../helpers/tmp.ts';

const MC = { trials: 100, screenTrials: 40, budget: 4000, workers: 1 };

async function evaluated(settings: typeof MC | false = MC): Promise<{ attack: AttackReport; derived: string; text: string }> {
  const p = tempProject();
  await simulateCampaign({ outDir: p.raw, campaign: 'e', carriers: [preset('Odido'), preset('VodafoneNL')], runs: 2, packets: 3000, seed: 'evaluate-test' });
  // Trials between fitted carriers: the matrix cells get the stage's prediction beside them.
  fs.writeFileSync(path.join(p.raw, 'e', 'trials-lab.csv'), 'carrier_a,carrier_b,strategy,trial,outcome,packets\nOdido,Odido,naive,1,F,50000\nOdido,Odido,naive,2,S,41000\nOdido,Odido,naive,3,F,50000\n');
  await runPipeline({ paths: p, ...FAST_RUN, settings: { montecarlo: settings } }, recordingLogger());
  const text = fs.readFileSync(path.join(p.derived, 'e', 'evaluate', 'attack.json'), 'utf8');
  return { attack: JSON.parse(text) as AttackReport, derived: p.derived, text };
}

describe('evaluate stage', () => {
  let run: Awaited<ReturnType<typeof evaluated>>;
  beforeAll(async () => {
    run = await evaluated();
  });

  it('prices every carrier pair once, cross pairs included, with the plan each side executes', () => {
    expect(run.attack.pairs.map((p) => `${p.a}|${p.b}`)).toEqual(['Odido|Odido', 'Odido|VodafoneNL', 'VodafoneNL|VodafoneNL']);
    expect(run.attack.simulator).toMatchObject({ trials: 100, screenTrials: 40, budget: 4000, ratePps: 100, mappingLimit: 4096 });
    for (const p of run.attack.pairs) {
      expect(p.headline).toBe('realistic');
      expect(p.plan.strategy).toBe(p.biased.strategy);
      expect(p.candidates.length).toBeGreaterThan(0);
      // A level is either reached (a cost) or not (then the cap says how far the plan got).
      if (p.biased.p99 === null) expect(p.biased.cap).toEqual(expect.any(Number));
      else expect(p.biased.cap).toBeNull();
      expect(p.realistic.seed).toMatch(/^natatlas-evaluate\//);
    }
  });

  it('publishes the textbook naive cost as a baseline, never as the plan\'s cost', () => {
    const odido = run.attack.pairs.find((p) => p.a === 'Odido' && p.b === 'Odido')!;
    // Two uniform NATs: the plan is the textbook one, and within 4,000 packets a side with
    // ~3,400 live mappings it gets nowhere near 99%: no p99, a small cap.
    expect(odido.biased.strategy).toBe('naive');
    expect(odido.biased.p99).toBeNull();
    expect(odido.biased.cap!).toBeLessThan(0.05);
    expect(odido.naive.p99).toBe(138437);
  });

  it('predicts each trial cell between fitted carriers at the budget its trials spent', () => {
    const m = JSON.parse(fs.readFileSync(path.join(run.derived, 'e', 'evaluate', 'matrix.json'), 'utf8'));
    const cell = m.cells[0];
    expect(cell).toMatchObject({ a: 'Odido', b: 'Odido', successes: 1, trials: 3 });
    // Odido is uniform: the naive hard-vs-hard formula at 50,000 packets a side,
    // 1 - Gamma(S-a+1)^2 / (Gamma(S-2a+1) Gamma(S+1)), S = 64,511^2, a = 50,000:
    // 0.451587604266214 (mpmath loggamma, 60 digits).
    // matrix.json keeps 6 digits.
    expect(cell.predicted.budget).toBe(50000);
    expect(cell.predicted.p).toBeCloseTo(0.451587604266214, 6);
    // 1 of 3: Wilson 95% [0.0615, 0.7923] (scipy binomtest(1, 3).proportion_ci(method='wilson')).
    expect(cell.wilson[0]).toBeCloseTo(0.06149194472039626, 6);
    expect(cell.wilson[1]).toBeCloseTo(0.7923403991979523, 6);
    expect(cell.predicted.inside).toBe(true);
  });

  it('copies each same-carrier plan and cost into the bias table, each figure under its own name', () => {
    for (const c of ['Odido', 'VodafoneNL']) {
      const table = JSON.parse(fs.readFileSync(path.join(run.derived, 'e', 'bias', `${c}.json`), 'utf8')) as BiasTable;
      const pair = run.attack.pairs.find((p) => p.a === c && p.b === c)!;
      expect(table.attack.naive).toEqual({ p50: pair.naive.p50, p99: pair.naive.p99 });
      expect(table.attack.biased).toEqual({ p50: pair.biased.p50, p99: pair.biased.p99, cap: pair.biased.cap, strategy: pair.biased.strategy });
      expect(table.attack.plan).toEqual(pair.plan);
      expect(table.attack.headline).toBe('realistic');
      expect(table.attack.settings).toMatchObject({ budget: 4000, trials: pair.realistic.trials, seed: pair.realistic.seed, perBlockSpread: 2 });
    }
  });

  it('is deterministic for a seed', async () => {
    expect((await evaluated()).text).toBe(run.text);
  });

  it('without the referee publishes plans unpriced, not numbers from another plan', async () => {
    const unpriced = await evaluated(false);
    for (const p of unpriced.attack.pairs) {
      expect(p.headline).toBe('not simulated');
      expect([p.biased.p50, p.biased.p99, p.biased.cap]).toEqual([null, null, null]);
      expect(p.plan.a.aim).toBeDefined();
    }
    const table = JSON.parse(fs.readFileSync(path.join(unpriced.derived, 'e', 'bias', 'Odido.json'), 'utf8')) as BiasTable;
    expect(table.attack.biased).toMatchObject({ p50: null, p99: null });
    expect(table.attack.settings).toBeNull();
  });
});
