/**
 * No evaluate loop runs in proportion to a number read from a file: a trial's packet
 * budget feeds the naive success formula, so it must cost the same at 1e9 or 1e23
 * packets as at the point where success is already 1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { hardHardProbability, NAIVE_PORTS } from '../../pipeline/evaluate/analytic.ts';
import { runPipeline } from '../../pipeline/run.ts';
import { preset, simulateCampaign } from '../../pipeline/simulate/index.ts';
import type { SuccessMatrix } from '../../pipeline/contracts/matrix.ts';
import type { BiasTable } from '../../pipeline/bias/types.ts';
import { FAST_RUN, recordingLogger, tempProject } from '../helpers/tmp.ts';

const { log1p, expm1 } = Math;

/** 1 - C(S-a, b) / C(S, b), exactly, in BigInt: the birthday formula of docs/design.md. */
function exactHardHard(a: number, b: number, n: number): number {
  const S = BigInt(n * n);
  let num = 1n;
  let den = 1n;
  for (let i = 0n; i < BigInt(b); i++) {
    num *= S - BigInt(a) - i;
    den *= S - i;
  }
  const scale = 10n ** 18n;
  return 1 - Number((num * scale) / den) / 1e18;
}

describe('hard-vs-hard success with any budget', () => {
  it('matches the exact product, whichever side is larger', () => {
    for (const [a, b] of [[7, 13], [13, 7], [1, 40], [40, 1], [50, 50]] as const) {
      expect(hardHardProbability(a, b, 10)).toBeCloseTo(exactHardHard(a, b, 10), 12);
    }
    // Every pair taken: certain success.
    expect(hardHardProbability(60, 41, 10)).toBe(1);
  });

  it('gives 1 for budgets far past saturation without a loop per packet (1e23 hung, 1e9 took 9 s)', () => {
    expect(hardHardProbability(1e23, 1e23)).toBe(1);
    expect(hardHardProbability(1e9, 1e9)).toBe(1);
    expect(hardHardProbability(2 ** 53, 2 ** 53)).toBe(1);
    // One packet against b: success is b / N^2 exactly (one factor of the product).
    expect(hardHardProbability(1, 1e9)).toBeCloseTo(1e9 / (NAIVE_PORTS * NAIVE_PORTS), 12);
    expect(hardHardProbability(1e9, 1)).toBeCloseTo(1e9 / (NAIVE_PORTS * NAIVE_PORTS), 12);
  });

  it('stops early only where the full product is already exactly 1', () => {
    const S = NAIVE_PORTS * NAIVE_PORTS;
    // -ln(fail) ~ k^2 / S crosses 40 near k = 406,000; check both sides of it against the full loop.
    for (const k of [300_000, 380_000, 395_000, 410_000, 450_000]) {
      let logFail = 0;
      for (let i = 0; i < k; i++) logFail += log1p(-k / (S - i));
      expect(hardHardProbability(k, k)).toBe(-expm1(logFail));
    }
  });
});

describe('evaluate stage with extreme trial budgets', () => {
  it('rejects an unrepresentable budget at ingest and prices 1e9 packets at once', async () => {
    const p = tempProject();
    await simulateCampaign({ outDir: p.raw, campaign: 'b', carriers: [preset('Odido')], runs: 1, packets: 1500, seed: 'bounded-test' });
    fs.writeFileSync(
      path.join(p.raw, 'b', 'trials-big.csv'),
      'carrier_a,carrier_b,strategy,trial,outcome,packets\nOdido,Odido,naive,1,S,99999999999999999999999\nOdido,Odido,naive,2,S,1000000000\nOdido,Odido,naive,3,F,20000\n',
    );
    // Contradictory wait probes (silence at 0 s, a reply at 60 s) published wait.seconds 0 before.
    fs.writeFileSync(path.join(p.raw, 'b', 'Odido', 'timeouts.csv'), 'probe_id,kind,delay_s,replied\nw1,wait,0,false\nw2,wait,60,true\ni1,idle,30,true\ni2,idle,50,false\n');
    const log = recordingLogger();
    await runPipeline({ paths: p, ...FAST_RUN }, log);
    const rejects = fs.readFileSync(path.join(p.derived, 'b', 'rejects.csv'), 'utf8');
    expect(rejects).toContain('b/trials-big.csv,2,"packets 99999999999999999999999 is over 1,000,000,000"');
    const matrix = JSON.parse(fs.readFileSync(path.join(p.derived, 'b', 'evaluate', 'matrix.json'), 'utf8')) as SuccessMatrix;
    expect(matrix.cells).toHaveLength(1);
    expect(matrix.cells[0]).toMatchObject({ trials: 2, successes: 1, meanPackets: 500010000, predicted: { budget: 1e9, p: 1, plan: 'naive' } });
    const table = JSON.parse(fs.readFileSync(path.join(p.derived, 'b', 'bias', 'Odido.json'), 'utf8')) as BiasTable;
    expect(table.timeouts.wait).toEqual({ seconds: null, low: null, high: null, probes: 2, disagreeing: 1 });
    // Consistent idle probes still give the bracket's midpoint.
    expect(table.timeouts.idle).toEqual({ seconds: 40, low: 30, high: 50, probes: 2, disagreeing: 0 });
    expect(log.warnings.filter((w) => w.includes('timeout probes contradict'))).toEqual([
      expect.stringMatching(/^fit b\/Odido: the wait timeout probes contradict each other \(1 of 2 disagree with any single timeout/),
    ]);
  });
});
