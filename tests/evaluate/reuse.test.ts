/**
 * evaluate prices each carrier pair once and reuses the result while the two fits, the
 * referee settings and the code are unchanged (stages/evaluate.ts, evaluate/pair-cache.ts):
 * a new capture for one carrier of three reprices the three pairs that carrier is in and
 * reuses the other three, and attack.json and matrix.json come out byte for byte as a run
 * from scratch on the same captures writes them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../pipeline/run.ts';
import { parseCarrierSpec, simulateCampaign } from '../../pipeline/simulate/index.ts';
import { FAST_RUN, recordingLogger, tempProject } from '../helpers/tmp.ts';

const MC = { trials: 60, screenTrials: 20, budget: 3000, workers: 1 };
const SPECS = ['A:uniform min=20000 max=21999 wait=2 idle=2', 'B:uniform min=30000 max=33999 wait=3 idle=3', 'C:uniform min=40000 max=41999 wait=2 idle=2'];
const C_AGAIN = 'C:uniform min=40000 max=45999 wait=2 idle=2';
// Biased trials at their own send rate: the cells' predictions run the referee again (reused too).
const TRIALS = `carrier_a,carrier_b,strategy,trial,outcome,packets,rate_pps
A,B,biased,1,S,900,5000
A,B,biased,2,F,1500,5000
C,C,biased,1,F,1500,5000
`;

type Project = ReturnType<typeof tempProject>;

async function simulate(p: Project, specs: string[]): Promise<void> {
  await simulateCampaign({ outDir: p.raw, campaign: 'u', carriers: specs.map((s) => parseCarrierSpec(s)), runs: 2, packets: 1200, seed: 'reuse-test' });
  fs.writeFileSync(path.join(p.raw, 'u', 'trials.csv'), TRIALS);
}

/** Runs the data stages; returns evaluate's pair counts and its two files' bytes. */
async function run(p: Project, recompute = false): Promise<{ priced: number; reused: number; attack: string; matrix: string }> {
  const log = recordingLogger();
  await runPipeline({ paths: p, ...FAST_RUN, force: recompute, recompute, settings: { montecarlo: MC } }, log);
  const line = log.lines.find((l) => l.startsWith('evaluate u: '));
  const m = /\((\d+) priced, (\d+) reused\)/.exec(line ?? '');
  if (!m) throw new Error(`no evaluate summary in ${JSON.stringify(log.lines)}`);
  const read = (f: string) => fs.readFileSync(path.join(p.derived, 'u', 'evaluate', f), 'utf8');
  return { priced: Number(m[1]), reused: Number(m[2]), attack: read('attack.json'), matrix: read('matrix.json') };
}

describe('evaluate: per-pair reuse', () => {
  it('reprices only the pairs of the carrier whose fit changed, with the bytes of a run from scratch', async () => {
    const p = tempProject();
    await simulate(p, SPECS);
    const first = await run(p);
    expect(first).toMatchObject({ priced: 6, reused: 0 });

    // A new capture of C with a wider range: C's fit changes, A's and B's do not.
    await simulate(p, [SPECS[0]!, SPECS[1]!, C_AGAIN]);
    const incremental = await run(p);
    expect(incremental).toMatchObject({ priced: 3, reused: 3 });
    const pairsOf = (text: string, carrier: string) => JSON.stringify(JSON.parse(text).pairs.filter((x: { a: string; b: string }) => x.a === carrier || x.b === carrier));
    expect(pairsOf(incremental.attack, 'C')).not.toBe(pairsOf(first.attack, 'C'));

    const fresh = tempProject();
    fs.cpSync(p.raw, fresh.raw, { recursive: true });
    const scratch = await run(fresh);
    expect(scratch).toMatchObject({ priced: 6, reused: 0 });
    expect(incremental.attack).toBe(scratch.attack);
    expect(incremental.matrix).toBe(scratch.matrix);
    // The trial cells' own referee runs came back too (the A/B one reused, the C/C one redone).
    expect(JSON.parse(incremental.matrix).cells.filter((c: { predicted: unknown }) => c.predicted !== null)).toHaveLength(2);

    // --force reuses nothing.
    expect(await run(p, true)).toMatchObject({ priced: 6, reused: 0 });
  });
});
