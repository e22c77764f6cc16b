import fs from 'node:fs';
import path from 'node:path';
import { preset, simulateCampaign } from '../pipeline/simulate/index.ts';
import { snapshot, tempProject } from './helpers/tmp.ts';

describe('the embedded sample campaign', () => {
  it('is exactly what the command in raw/sample/README.md writes', async () => {
    const readme = fs.readFileSync('raw/sample/README.md', 'utf8');
    const command = /natatlas simulate --out raw --campaign sample \\\n\s+--carriers (\S+) --runs (\d+) --packets (\d+) --seed (\S+)/.exec(readme);
    expect(command).not.toBeNull();
    const [, carriers, runs, packets, seed] = command!;
    const p = tempProject();
    await simulateCampaign({
      outDir: p.raw, campaign: 'sample', carriers: carriers!.split(',').map(preset), runs: Number(runs), packets: Number(packets), seed: seed!,
    });
    const made = snapshot(path.join(p.raw, 'sample'));
    const shipped = snapshot('raw/sample');
    delete shipped['README.md'];
    delete shipped['trials-naive.csv'];
    delete shipped['carriers.csv']; // hand-written: maps the trials' carrier names to these folders
    expect(Object.keys(made).sort()).toEqual(Object.keys(shipped).sort());
    for (const k of Object.keys(made)) expect(made[k] === shipped[k] ? k : `${k} differs`).toBe(k);
  });

  it('stays under 5 MB', () => {
    const bytes = Object.values(snapshot('raw')).reduce((s, t) => s + t.length, 0);
    expect(bytes).toBeLessThan(5 * 1024 * 1024);
  });
});
