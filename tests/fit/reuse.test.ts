/**
 * Fit per carrier with reuse (units.ts): a carrier whose fit inputs did not change is
 * carried over from the last run, the others are fitted again, and the folder is the
 * same as a fit of everything from scratch. On worker threads, the same bytes as in one thread.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../pipeline/run.ts';
import { parseCarrierSpec, simulateCampaign } from '../../pipeline/simulate/index.ts';
import { STAGES } from '../../pipeline/stages/index.ts';
import { fit } from '../../pipeline/stages/fit.ts';
import { contextFor, recordingLogger, snapshot, tempProject } from '../helpers/tmp.ts';

const THROUGH_FIT = STAGES.filter((s) => ['ingest', 'join', 'fit'].includes(s.name));

describe('fit stage: reuse per carrier, worker threads', () => {
  it('refits only the carrier whose probes changed, and writes what a full refit writes', async () => {
    const p = tempProject();
    await simulateCampaign({ outDir: p.raw, campaign: 'r', carriers: ['Blocky:KPN', 'Flat:Odido'].map(parseCarrierSpec), runs: 2, packets: 1200, seed: 'fit-reuse' });
    await runPipeline({ paths: p, stages: THROUGH_FIT }, recordingLogger());
    const first = snapshot(path.join(p.derived, 'r', 'fit'));

    // One probe of Flat's fewer: its timeouts (and so maybe its window) change, Blocky's inputs do not.
    const probes = path.join(p.raw, 'r', 'Flat', 'timeouts.csv');
    const lines = fs.readFileSync(probes, 'utf8').trimEnd().split('\n');
    fs.writeFileSync(probes, `${lines.slice(0, -1).join('\n')}\n`);
    const log = recordingLogger();
    await runPipeline({ paths: p, stages: THROUGH_FIT }, log);
    expect(log.lines).toContain('fit r/Blocky: unchanged, block carried over');
    expect(log.lines).toContain('fit r: 1 carrier unchanged, 1 fitted');
    const second = snapshot(path.join(p.derived, 'r', 'fit'));
    expect(second['Blocky.json']).toBe(first['Blocky.json']);
    expect(second['Flat.json']).not.toBe(first['Flat.json']);

    const full = recordingLogger();
    await runPipeline({ paths: p, stages: THROUGH_FIT, force: true, recompute: true }, full);
    expect(full.lines.some((l) => l.includes('carried over'))).toBe(false);
    expect(snapshot(path.join(p.derived, 'r', 'fit'))).toEqual(second);
  });

  it('writes the same fits and warnings on two worker threads as in one thread', async () => {
    const p = tempProject();
    // A wait probe that replied after a longer delay than a silence: the warning must come back from the worker.
    await simulateCampaign({ outDir: p.raw, campaign: 't', carriers: ['Blocky:KPN', 'Flat:Odido', 'Counter:SeqCarrier'].map(parseCarrierSpec), runs: 2, packets: 900, seed: 'fit-threads' });
    fs.writeFileSync(path.join(p.raw, 't', 'Flat', 'timeouts.csv'), 'probe_id,kind,delay_s,replied\nw1,wait,1,false\nw2,wait,2,false\nw3,wait,3,false\nw4,wait,50,true\nw5,wait,60,true\nw6,wait,70,true\n');
    await runPipeline({ paths: p, stages: THROUGH_FIT.filter((s) => s.name !== 'fit') }, recordingLogger());
    const outputs: Record<string, string>[] = [];
    const said: string[][] = [];
    for (const threads of [1, 2]) {
      const log = recordingLogger();
      await fit({ ...contextFor(p, 't', log), recompute: true }, { threads });
      outputs.push(snapshot(path.join(p.derived, 't', 'fit')));
      said.push([...log.lines, ...log.warnings]);
    }
    expect(Object.keys(outputs[0]!)).toHaveLength(4);
    expect(outputs[1]).toEqual(outputs[0]);
    expect(said[0]!.filter((l) => l.includes('fit t/Flat: the wait timeout probes contradict each other'))).toHaveLength(1);
    expect(said[1]).toEqual(said[0]);
  });
});
