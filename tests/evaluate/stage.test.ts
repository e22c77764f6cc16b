import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../pipeline/run.ts';
import { preset, simulateCampaign } from '../../pipeline/simulate/index.ts';
import type { AttackReport } from '../../pipeline/stages/evaluate.ts';
import type { BiasTable } from '../../pipeline/bias/types.ts';
import { FAST_RUN, recordingLogger, tempProject } from '../helpers/tmp.ts';

const MC = { trials: 120, realisticTrials: 20, realisticBudget: 20_000, workers: 1 };

async function evaluated(): Promise<{ attack: AttackReport; derived: string; text: string }> {
  const p = tempProject();
  await simulateCampaign({ outDir: p.raw, campaign: 'e', carriers: [preset('Odido'), preset('VodafoneNL')], runs: 2, packets: 3000, seed: 'evaluate-test' });
  // Trials between fitted carriers: the matrix cells get the stage's prediction beside them.
  fs.writeFileSync(path.join(p.raw, 'e', 'trials-lab.csv'), 'carrier_a,carrier_b,strategy,trial,outcome,packets\nOdido,Odido,naive,1,F,50000\nOdido,Odido,naive,2,S,41000\nOdido,Odido,naive,3,F,50000\n');
  await runPipeline({ paths: p, ...FAST_RUN, settings: { montecarlo: MC } }, recordingLogger());
  const text = fs.readFileSync(path.join(p.derived, 'e', 'evaluate', 'attack.json'), 'utf8');
  return { attack: JSON.parse(text) as AttackReport, derived: p.derived, text };
}

describe('evaluate stage', () => {
  let run: Awaited<ReturnType<typeof evaluated>>;
  beforeAll(async () => {
    run = await evaluated();
  });

  it('prices every carrier pair once, same-carrier pairs with Monte Carlo curves', () => {
    expect(run.attack.pairs.map((p) => `${p.a}|${p.b}`)).toEqual(['Odido|Odido', 'Odido|VodafoneNL', 'VodafoneNL|VodafoneNL']);
    expect(run.attack.pairs[1]!.curve.mcNaive).toBeNull();
    expect(run.attack.simulator).toMatchObject({ trials: 120, ratePps: 100, mappingLimit: 4096 });
  });

  it('simulated and analytic curves agree within Monte Carlo error', () => {
    for (const pair of run.attack.pairs.filter((p) => p.a === p.b)) {
      for (const [analytic, mc] of [[pair.curve.naive, pair.curve.mcNaive], [pair.curve.biased, pair.curve.mcBiased]] as const) {
        analytic.forEach((p, i) => {
          // 4 binomial standard errors, plus one trial's worth for the grid's discreteness.
          const tolerance = 4 * Math.sqrt((p * (1 - p)) / MC.trials) + 1 / MC.trials;
          if (pair.curve.packets[i]! <= 1.2 * (pair.biased.p999 ?? Infinity)) expect(Math.abs(mc![i]! - p)).toBeLessThanOrEqual(tolerance);
        });
      }
    }
  });

  it('shows where a timeout and a mapping limit make the naive budget useless', () => {
    const odido = run.attack.pairs.find((p) => p.a === 'Odido' && p.b === 'Odido')!;
    // 20,000 packets at 100/s, mappings living ~35 s: at most ~3,500 live per side, so
    // success stays near 1 - exp(-(live * 20,000) / N^2), far below the unlimited curve.
    expect(odido.realistic.naive!).toBeLessThan(0.2);
    const at = odido.curve.packets.findIndex((k) => k >= 20_000);
    expect(odido.curve.realisticNaive![at]!).toBeLessThanOrEqual(odido.curve.naive[at]!);
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

  it('copies each same-carrier cost into the bias table', () => {
    for (const c of ['Odido', 'VodafoneNL']) {
      const table = JSON.parse(fs.readFileSync(path.join(run.derived, 'e', 'bias', `${c}.json`), 'utf8')) as BiasTable;
      const pair = run.attack.pairs.find((p) => p.a === c && p.b === c)!;
      expect(table.attack).toEqual({ naive: { p50: pair.naive.p50, p99: pair.naive.p99 }, biased: { p50: pair.biased.p50, p99: pair.biased.p99, strategy: pair.biased.strategy } });
    }
  });

  it('is deterministic for a seed', async () => {
    expect((await evaluated()).text).toBe(run.text);
  });
});
