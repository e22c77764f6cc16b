/**
 * Trial cells are predicted at the send rate their trials record. The NAT: uniform on
 * R = 2000 ports (20000-21999) with a 2 s wait timeout, punched from fresh sockets at its
 * marginal with a budget of k = 1800 packets a side (under R, so the range never runs
 * out of ports, and under the referee's 4,096 mappings per subscriber). Each of the k x k
 * packet pairs matches with chance 1/R^2 while both mappings live. At 5,000 packets/s a
 * mapping lives 10,000 packet slots, longer than the budget, so nothing expires: success
 * is about 1 - exp(-k^2 / R^2) = 1 - e^-0.81 = 0.555. At 100 packets/s it lives 200
 * slots, so only pairs sent within 200 slots of each other can match: about 1 -
 * exp(-k x 400 / R^2) = 1 - e^-0.18 = 0.165.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../pipeline/run.ts';
import { parseCarrierSpec, simulateCampaign } from '../../pipeline/simulate/index.ts';
import type { SuccessMatrix } from '../../pipeline/contracts/matrix.ts';
import { STAGES } from '../../pipeline/stages/index.ts';
import { FAST_RUN, recordingLogger, tempProject } from '../helpers/tmp.ts';

const MC = { trials: 400, screenTrials: 40, budget: 4000, workers: 1 };
const NARROW = 'Narrow:uniform min=20000 max=21999 wait=2 idle=2';

/** Ten biased trials (5 of 10 succeed, a failure spends the 1,800-packet budget), each row ending in `tail`. */
function biasedRows(tail: (trial: number) => string): string {
  return Array.from({ length: 10 }, (_, i) => `Narrow,Narrow,biased,${i + 1},${i % 2 === 1 ? 'F,1800' : `S,${300 + 100 * i}`}${tail(i + 1)}\n`).join('');
}

describe('evaluate: trial cells at their own send rate', () => {
  const p = tempProject();
  const trialsFile = path.join(p.raw, 'r', 'trials.csv');
  const matrixAfter = async (trials: string): Promise<SuccessMatrix> => {
    fs.writeFileSync(trialsFile, trials);
    await runPipeline({ paths: p, ...FAST_RUN, settings: { montecarlo: MC } }, recordingLogger());
    return JSON.parse(fs.readFileSync(path.join(p.derived, 'r', 'evaluate', 'matrix.json'), 'utf8')) as SuccessMatrix;
  };
  let fast: SuccessMatrix;
  let unrecorded: SuccessMatrix;
  beforeAll(async () => {
    await simulateCampaign({ outDir: p.raw, campaign: 'r', carriers: [parseCarrierSpec(NARROW)], runs: 2, packets: 3000, seed: 'rate-test' });
    // Naive rows at two rates: the closed form has no rate in it, so they are predicted all the same.
    fast = await matrixAfter(`carrier_a,carrier_b,strategy,trial,outcome,packets,rate_pps\n${biasedRows(() => ',5000')}Narrow,Narrow,naive,1,F,1800,5000\nNarrow,Narrow,naive,2,F,1800,100\n`);
    unrecorded = await matrixAfter(`carrier_a,carrier_b,strategy,trial,outcome,packets\n${biasedRows(() => '')}`);
  });
  const biased = (m: SuccessMatrix) => m.cells.find((c) => c.strategy === 'biased')!;

  it('runs the referee at the recorded rate, and records it', () => {
    const c = biased(fast);
    expect(c.predicted).toMatchObject({ budget: 1800, plan: expect.any(String), ratePps: 5000 });
    expect(c.predicted!.rateAssumed).toBeUndefined();
    // No expiry at 5,000 packets/s: about 0.555 (400 trials: a standard error of 2.5 points).
    expect(Math.abs(c.predicted!.p - (1 - Math.exp(-0.81)))).toBeLessThan(0.08);
  });

  it('without a recorded rate predicts at the referee\'s 100 packets/s, says so, and predicts less', () => {
    const c = biased(unrecorded);
    expect(c.predicted).toMatchObject({ budget: 1800, ratePps: 100, rateAssumed: true });
    // Mappings expire before the peer hits them: about 0.165 against 0.555.
    expect(c.predicted!.p).toBeLessThan(biased(fast).predicted!.p - 0.2);
    expect(Math.abs(c.predicted!.p - (1 - Math.exp(-0.18)))).toBeLessThan(0.08);
  });

  it('predicts naive cells with the closed form whatever their rates', () => {
    const c = fast.cells.find((x) => x.strategy === 'naive')!;
    expect(c.predicted).toMatchObject({ plan: 'naive', budget: 1800, ratePps: null });
  });

  it('gives a biased cell of mixed rates no prediction, and says why', async () => {
    const mixed = await matrixAfter(`carrier_a,carrier_b,strategy,trial,outcome,packets,rate_pps\n${biasedRows((t) => (t <= 5 ? ',5000' : t === 6 ? ',' : ',100'))}`);
    const c = biased(mixed);
    expect(c.predicted).toBeNull();
    expect(c.unpredicted).toBe('the trials ran at several send rates (unrecorded, 100, 5000 packets/s per side); one referee run cannot stand for them');
  });

  it('is deterministic: the same trials give the same matrix.json', async () => {
    const again = await matrixAfter(`carrier_a,carrier_b,strategy,trial,outcome,packets,rate_pps\n${biasedRows(() => ',5000')}Narrow,Narrow,naive,1,F,1800,5000\nNarrow,Narrow,naive,2,F,1800,100\n`);
    expect(again).toEqual(fast);
  });

  it('shows the recorded rate beside the prediction in the report', async () => {
    fs.writeFileSync(trialsFile, `carrier_a,carrier_b,strategy,trial,outcome,packets,rate_pps\n${biasedRows(() => ',5000')}Narrow,Narrow,naive,1,F,1800,5000\nNarrow,Narrow,naive,2,F,1800,100\n`);
    await runPipeline({ paths: p, stages: STAGES, settings: { montecarlo: MC } }, recordingLogger());
    const dir = path.join(p.reports, 'r');
    const pages = fs.readdirSync(dir).filter((f) => f.endsWith('.html')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
    const c = biased(fast);
    expect(pages).toContain(`model ${Math.round(100 * c.predicted!.p)}% at 1,800 packets, 5,000 packets/s:`);
    expect(pages).toContain('Biased cells are predicted at the send rate their trials record (5,000 packets/s per side)');
  });
});
