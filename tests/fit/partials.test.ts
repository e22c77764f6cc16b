/**
 * Fit partials (contracts/partials.ts, fit/partials.ts): partials of capture runs computed
 * apart merge into exactly the fit of the runs together; the contract reads Spark-style
 * part files in any row order, names file and line for damage, and `fit --partials`
 * refuses partials made with another mapping window than the probes give.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../pipeline/run.ts';
import { parseCarrierSpec, simulateCampaign } from '../../pipeline/simulate/index.ts';
import { InputError } from '../../pipeline/errors.ts';
import { readManifest } from '../../pipeline/contracts/manifest.ts';
import { SUMMARIES } from '../../pipeline/contracts/summary.ts';
import { readPartials, writePartials, type CarrierPartials } from '../../pipeline/contracts/partials.ts';
import { readObservations } from '../../pipeline/fit/observations.ts';
import { partialsOf } from '../../pipeline/fit/partials.ts';
import { probesWindowS, WrongWindow } from '../../pipeline/fit/carrier.ts';
import { carrierPartials, fitFromPartials } from '../../pipeline/stages/fit.ts';
import { partialsFitStage, STAGES } from '../../pipeline/stages/index.ts';
import { contextFor, recordingLogger, snapshot, tempDir, tempProject } from '../helpers/tmp.ts';

const CARRIERS = ['Blocky:KPN', 'Counter:SeqCarrier wait=8 idle=12'];
const INGEST_JOIN = STAGES.filter((s) => s.name === 'ingest' || s.name === 'join');
const THROUGH_FIT = STAGES.filter((s) => ['ingest', 'join', 'fit'].includes(s.name));

/** One campaign `ab` of two runs per carrier, plus `a` (run 01 and the probes) and `b` (run 02 alone) copied from it. */
async function campaigns(): Promise<ReturnType<typeof tempProject>> {
  const p = tempProject();
  await simulateCampaign({ outDir: p.raw, campaign: 'ab', carriers: CARRIERS.map(parseCarrierSpec), runs: 2, packets: 1600, seed: 'partials-merge' });
  for (const carrier of ['Blocky', 'Counter']) {
    const from = path.join(p.raw, 'ab', carrier);
    for (const [campaign, files] of [['a', ['client-01.csv', 'server-01.csv', 'timeouts.csv']], ['b', ['client-02.csv', 'server-02.csv']]] as const) {
      fs.mkdirSync(path.join(p.raw, campaign, carrier), { recursive: true });
      for (const f of files) fs.copyFileSync(path.join(from, f), path.join(p.raw, campaign, carrier, f));
    }
  }
  return p;
}

/** Spark writes a table as a folder of part files, each with its header. */
function asSparkFolder(dirs: string[], out: string): void {
  for (const table of ['allocations', 'tallies', 'markers', 'probes', 'counts']) {
    fs.mkdirSync(path.join(out, table), { recursive: true });
    dirs.forEach((d, i) => fs.copyFileSync(path.join(d, `${table}.csv`), path.join(out, table, `part-0000${i}-c000.csv`)));
    fs.writeFileSync(path.join(out, table, '_SUCCESS'), '');
  }
}

describe('fit partials', () => {
  let p: ReturnType<typeof tempProject>;
  let merged: string;
  beforeAll(async () => {
    p = await campaigns();
    const log = recordingLogger();
    await runPipeline({ paths: p, campaign: 'ab', stages: THROUGH_FIT }, log);
    for (const c of ['a', 'b']) await runPipeline({ paths: p, campaign: c, stages: INGEST_JOIN }, log);
    // Run 01 with the carrier's probes, by natatlas; run 02 without probes, as an engine
    // would compute it: with the window the carrier's probes give (campaign a has them).
    const ctxA = contextFor(p, 'a', log);
    const ctxB = contextFor(p, 'b', log);
    const batches: CarrierPartials[][] = [[], []];
    for (const carrier of ['Blocky', 'Counter']) {
      const a = await carrierPartials(ctxA, carrier);
      batches[0]!.push(a);
      const { counts } = SUMMARIES.read(ctxB, carrier);
      batches[1]!.push(partialsOf(carrier, await readObservations(ctxB, carrier), probesWindowS(a.probes), [], counts));
    }
    const dirs = batches.map((b, i) => {
      const d = path.join(p.root, `batch-${i}`);
      writePartials(d, b);
      return d;
    });
    merged = path.join(p.root, 'merged');
    asSparkFolder(dirs.reverse(), merged);
  });

  it('fits the partials of runs computed apart to exactly the fit of the runs together', async () => {
    const want = snapshot(path.join(p.derived, 'ab', 'fit'));
    // The short wait timeout makes Counter's window come from its probes (4 s, not 10).
    expect(JSON.parse(want['Counter.json']!).mapping.evidence.windowS).toBeLessThan(10);
    const log = recordingLogger();
    await fitFromPartials(contextFor(p, 'ab', log), merged);
    expect(snapshot(path.join(p.derived, 'ab', 'fit'))).toEqual(want);
    expect(Object.keys(readManifest(contextFor(p, 'ab', log)).carriers)).toEqual(['Blocky', 'Counter']);
  });

  it('is a fit stage run whose inputs are the partials: a later natatlas run refits from the joined rows', async () => {
    const want = snapshot(path.join(p.derived, 'ab', 'fit'));
    const log = recordingLogger();
    await runPipeline({ paths: p, campaign: 'ab', stages: [partialsFitStage(merged)], force: true }, log);
    expect(log.lines).toContain('[stale] ab: fit (forced)');
    await runPipeline({ paths: p, campaign: 'ab', stages: THROUGH_FIT }, log);
    expect(log.lines).toContain('[stale] ab: fit (settings changed)');
    expect(snapshot(path.join(p.derived, 'ab', 'fit'))).toEqual(want);
  });

  it('reads a partials folder the same whatever the order of its rows', async () => {
    const shuffled = tempDir('partials');
    for (const table of ['allocations', 'tallies', 'markers', 'probes', 'counts']) {
      fs.mkdirSync(path.join(shuffled, table));
      const parts = fs.readdirSync(path.join(merged, table)).filter((f) => f.startsWith('part-'));
      parts.forEach((f, i) => {
        const [header, ...rows] = fs.readFileSync(path.join(merged, table, f), 'utf8').trimEnd().split('\n');
        // A fixed permutation (reverse, then odd rows first): no wall-clock randomness in tests.
        const mixed = [...rows.reverse().filter((_, k) => k % 2 === 1), ...rows.filter((_, k) => k % 2 === 0)];
        fs.writeFileSync(path.join(shuffled, table, `part-${i}.csv`), `${header}\n${mixed.join('\n')}\n`);
      });
    }
    const a = await readPartials(merged);
    const b = await readPartials(shuffled);
    expect([...b.keys()]).toEqual(['Blocky', 'Counter']);
    expect(b).toEqual(a);
    expect(b.get('Counter')!.runs.map((r) => r.run)).toEqual(['01', '02']);
  });

  it('refuses partials made with another mapping window, naming the window the probes give', async () => {
    const dir = tempDir('partials');
    const partials = [...(await readPartials(merged)).values()].map((c) => ({ ...c, windowS: 3, runs: c.runs.map((r) => ({ ...r, windowS: 3 })) }));
    writePartials(dir, partials);
    const ctx = contextFor(p, 'ab', recordingLogger());
    const counter = probesWindowS(partials[1]!.probes);
    await expect(fitFromPartials(ctx, dir)).rejects.toThrow(WrongWindow);
    await expect(fitFromPartials(ctx, dir)).rejects.toThrow(`"Blocky" has 3 s, its probes give 10 s; "Counter" has 3 s, its probes give ${counter} s`);
    await expect(fitFromPartials(ctx, dir)).rejects.toThrow(`Blocky=10, Counter=${counter}`);
  });

  it('names the file and line of a damaged partials row', async () => {
    const dir = tempDir('partials');
    writePartials(dir, [...(await readPartials(merged)).values()]);
    const file = path.join(dir, 'allocations.csv');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const good = lines[2]!;
    const damage = async (row: string, lineNo = 3) => {
      lines[lineNo - 1] = row;
      fs.writeFileSync(file, lines.join('\n'));
      const e = await readPartials(dir).then(() => null, (err: unknown) => err);
      lines[lineNo - 1] = lineNo === 1 ? 'carrier,run,send_seq,port,send_time,local_port' : good;
      fs.writeFileSync(file, lines.join('\n'));
      return e;
    };
    const f = good.split(',');
    const port = await damage([...f.slice(0, 3), '70000', ...f.slice(4)].join(','));
    expect(port).toBeInstanceOf(InputError);
    expect(port).toMatchObject({ file, line: 3 });
    expect((port as Error).message).toContain('port "70000" is not a whole number in 1..65535');
    expect(await damage(f.slice(0, 4).join(','))).toMatchObject({ file, line: 3, reason: 'expected 6 fields (carrier,run,send_seq,port,send_time,local_port), got 4' });
    expect(await damage('carrier,run,seq,port,send_time,local_port', 1)).toMatchObject({ file, line: 1 });
    expect(await damage(lines[3]!, 3)).toMatchObject({ file, line: 4, reason: expect.stringContaining('appears twice') });
    expect(await readPartials(dir)).toEqual(await readPartials(merged));
  });
});
