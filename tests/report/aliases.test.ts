/**
 * carriers.csv: trial files that name carriers their own way are mapped to capture
 * folders, so every measured cell carries the predicted success and the Wilson check.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../pipeline/run.ts';
import { preset, simulateCampaign } from '../../pipeline/simulate/index.ts';
import { readCarrierAliases } from '../../pipeline/evaluate/aliases.ts';
import type { SuccessMatrix } from '../../pipeline/contracts/matrix.ts';
import { FAST_RUN, recordingLogger, tempProject, writeFiles } from '../helpers/tmp.ts';

/** Hard-vs-hard birthday success with k probes a side over N ports, summed in logs (docs/design.md's formula). */
function birthday(k: number, n = 64511): number {
  const n2 = n * n;
  let log = 0;
  for (let i = 0; i < k; i++) log += Math.log1p(-k / (n2 - i));
  return 1 - Math.exp(log);
}

describe('carrier aliases for trials', () => {
  let matrix: SuccessMatrix;

  beforeAll(async () => {
    const p = tempProject();
    await simulateCampaign({ outDir: p.raw, campaign: 'a', carriers: [preset('KPN'), preset('Odido')], runs: 2, packets: 1500, seed: 'aliases' });
    writeFiles(path.join(p.raw, 'a'), {
      // The paper's way of naming them; Odido is the same in both; Ghost has no folder.
      'trials-paper.csv': 'carrier_a,carrier_b,strategy,trial,outcome,packets\nKay,Odido,naive,1,F,30000\nKay,Odido,naive,2,S,12000\nKay,Odido,naive,3,F,30000\nOdido,Odido,naive,1,S,5000\nGhost,Odido,naive,1,F,30000\n',
      'carriers.csv': 'trial_name,carrier\nKay,KPN\n',
    });
    await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    matrix = JSON.parse(fs.readFileSync(path.join(p.derived, 'a', 'evaluate', 'matrix.json'), 'utf8')) as SuccessMatrix;
  }, 120_000);

  it('puts mapped trials under the capture folder and predicts them at the budget they spent', () => {
    expect(matrix.aliases).toEqual({ Kay: 'KPN' });
    expect(matrix.carriers).toEqual(['Ghost', 'KPN', 'Odido']);
    const kpn = matrix.cells.find((c) => c.a === 'KPN' && c.b === 'Odido')!;
    expect([kpn.trials, kpn.successes]).toEqual([3, 1]);
    // Naive guessing between two endpoint-dependent NATs: the birthday bound at the cell's 30,000 packets.
    expect(kpn.predicted!.budget).toBe(30000);
    expect(kpn.predicted!.plan).toBe('naive');
    expect(kpn.predicted!.p).toBeCloseTo(birthday(30000), 5);
    // 1 of 3 has a Wilson interval of about 6–79%; 1 - e^{-k²/N²} at 30,000 is about 19%: inside.
    expect(kpn.predicted!.inside).toBe(true);
    expect(kpn.predicted!.assumed).toBeUndefined();
    const odido = matrix.cells.find((c) => c.a === 'Odido' && c.b === 'Odido')!;
    // 1 of 1 (Wilson 21–100%) against the birthday bound at 5,000 packets (0.6%): outside.
    expect([odido.predicted!.p < 0.01, odido.predicted!.inside]).toEqual([true, false]);
    expect(matrix.cells.find((c) => c.a === 'Ghost')!.predicted).toBeNull();
  });

  it('names file, line and reason for a bad carriers.csv', () => {
    const dir = tempProject().root;
    const file = path.join(dir, 'carriers.csv');
    const read = (text: string) => {
      fs.writeFileSync(file, text);
      return () => readCarrierAliases(file, 'a/carriers.csv', ['KPN', 'Odido']);
    };
    expect(read('name,folder\n')).toThrow('a/carriers.csv:1: header must be trial_name,carrier, got "name,folder"');
    expect(read('trial_name,carrier\nKay,KPN\n\nKay,Odido\n')).toThrow('a/carriers.csv:4: trial name "Kay" is listed twice');
    expect(read('trial_name,carrier\nKay,KPN_NL\n')).toThrow('a/carriers.csv:2: carrier "KPN_NL" is not a capture folder of this campaign (folders: KPN, Odido)');
    expect(read('trial_name,carrier\nKay\n')).toThrow('a/carriers.csv:2: expected two non-empty fields trial_name,carrier, got "Kay"');
    expect(read('trial_name,carrier\r\nKay,KPN\r\n')()).toEqual({ Kay: 'KPN' });
    expect(readCarrierAliases(path.join(dir, 'none.csv'), 'x', [])).toBeNull();
  });
});
