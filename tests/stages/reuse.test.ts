/**
 * Incremental ingest and join (issue 13 item 3): one capture run added to a campaign
 * rereads only that run's raw files and rejoins only their carrier; everything else is
 * carried over by the unit ledgers (pipeline/units.ts), and the result is the same, byte
 * for byte and warning for warning, as a from-scratch run in a fresh folder (whose raw
 * files are read and carriers joined on worker threads, so the comparison covers that path too).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StageContext } from '../../pipeline/context.ts';
import { InputError } from '../../pipeline/errors.ts';
import { ingest } from '../../pipeline/stages/ingest.ts';
import { join } from '../../pipeline/stages/join.ts';
import { preset, simulateCampaign } from '../../pipeline/simulate/index.ts';
import { recordingLogger, snapshot, tempProject, writeFiles } from '../helpers/tmp.ts';
import { jest } from '@jest/globals';
import { runPipeline } from '../../pipeline/run.ts';
import { silentLogger } from '../../pipeline/context.ts';
import { STAGES } from '../../pipeline/stages/index.ts';

const MESSY = { malformedRate: 0.02, duplicateRate: 0.01, strangerRate: 0.01 };
/** A carrier whose phone wrote epoch seconds: its warning must come back when its file is carried over. */
const SECONDS = {
  'sim/Seconds/client-1.csv': 'Message id, Time, Sender Port, Receiver Port, Success\n00000000-0000-4000-8000-000000000001, 1700000000, 40000, 5000, S\nnot a row\n',
  'sim/Seconds/server-1.csv': 'Message id, Time, Sender Port, Receiver Port\n00000000-0000-4000-8000-000000000001, 1700000000250, 50000, 5000\n',
};

async function ingestJoin(paths: { raw: string; derived: string; reports: string }, workers = 0) {
  const log = recordingLogger();
  const ctx: StageContext = { campaign: 'sim', paths, log };
  await ingest(ctx, { workers });
  await join(ctx, { workers });
  return log;
}

/** The campaign's derived files without the ledgers and stamps (`.natatlas/`), which record history. */
function outputs(derived: string): Record<string, string> {
  const snap = snapshot(path.join(derived, 'sim'));
  return Object.fromEntries(Object.entries(snap).filter(([f]) => !f.startsWith('.natatlas')));
}

describe('incremental ingest and join', () => {
  it('reads only the added run\'s files, joins only its carrier, and equals a fresh run', async () => {
    const full = tempProject();
    const carriers = ['KPN', 'VodafoneNL'].map((n) => {
      const c = preset(n);
      return { ...c, capture: { ...c.capture, ...MESSY } };
    });
    await simulateCampaign({ outDir: full.raw, campaign: 'sim', carriers, runs: 3, packets: 300, seed: 'reuse-test' });
    writeFiles(full.raw, SECONDS);
    const added = fs.readdirSync(path.join(full.raw, 'sim', 'KPN')).filter((f) => /^(client|server)-.*3\.csv$/.test(f));
    expect(added).toHaveLength(2);

    const inc = tempProject();
    fs.cpSync(full.raw, inc.raw, { recursive: true });
    for (const f of added) fs.rmSync(path.join(inc.raw, 'sim', 'KPN', f));
    await ingestJoin(inc);
    for (const f of added) fs.copyFileSync(path.join(full.raw, 'sim', 'KPN', f), path.join(inc.raw, 'sim', 'KPN', f));
    const second = await ingestJoin(inc);

    // KPN runs 1-2 (4 files), VodafoneNL runs 1-3 (6) and the seconds carrier (2) carried over; KPN run 3 read.
    expect(second.lines.find((l) => l.startsWith('ingest sim:'))).toMatch(/\(12 capture files unchanged, carried over\)/);
    expect(second.lines.filter((l) => l.startsWith('join sim/'))).toEqual([
      expect.stringMatching(/^join sim\/KPN: [\d,]+ joined of/),
      'join sim/Seconds: unchanged, carried over',
      'join sim/VodafoneNL: unchanged, carried over',
    ]);

    // From scratch, on two worker threads: the same outputs whoever reads and joins.
    const fresh = tempProject();
    fs.cpSync(full.raw, fresh.raw, { recursive: true });
    const scratch = await ingestJoin(fresh, 2);
    expect(scratch.lines.find((l) => l.startsWith('ingest sim:'))).not.toMatch(/carried over/);
    const a = outputs(inc.derived);
    const b = outputs(fresh.derived);
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    for (const f of Object.keys(b)) expect({ f, same: a[f] === b[f] }).toEqual({ f, same: true });
    // The carried-over files gave back their rejects and their time-unit warning.
    expect(b['rejects.csv']!.split('\n').length).toBeGreaterThan(3);
    expect(second.warnings).toEqual(scratch.warnings);
    expect(second.warnings.some((w) => w.startsWith('sim/Seconds/client-1.csv: times are epoch seconds'))).toBe(true);
  });

  it('hashes each carried-over or freshly written output once: the stage stamps take the ledger\'s hashes', async () => {
    const p = tempProject();
    await simulateCampaign({ outDir: p.raw, campaign: 'sim', carriers: [preset('KPN'), preset('VodafoneNL')], runs: 3, packets: 300, seed: 'reuse-hashes' });
    const third = fs.readdirSync(path.join(p.raw, 'sim', 'KPN')).filter((f) => /^(client|server)-.*3\.csv$/.test(f));
    const aside = tempProject();
    for (const f of third) fs.renameSync(path.join(p.raw, 'sim', 'KPN', f), path.join(aside.root, f));
    const stages = STAGES.filter((s) => s.name === 'ingest' || s.name === 'join');
    await runPipeline({ paths: p, stages }, silentLogger);
    for (const f of third) fs.renameSync(path.join(aside.root, f), path.join(p.raw, 'sim', 'KPN', f));
    // A cached hash counts only once the file's last change is a clock tick old (io/hash.ts settled).
    await new Promise((r) => setTimeout(r, 100));
    const reads = new Map<string, number>();
    const spy = jest.spyOn(fs, 'createReadStream');
    try {
      await runPipeline({ paths: p, stages }, silentLogger);
      for (const c of spy.mock.calls) {
        const rel = path.relative(path.join(p.derived, 'sim'), String(c[0])).split(path.sep).join('/');
        reads.set(rel, (reads.get(rel) ?? 0) + 1);
      }
    } finally {
      spy.mockRestore();
    }
    const derived = [...reads].filter(([f]) => !f.startsWith('..') && !f.includes('.tmp-'));
    // VodafoneNL's ingested rows and joined rows were carried over: never read to be hashed
    // (its timeouts.csv is not a unit of the ledger: ingest writes it again, a few lines).
    expect(derived.filter(([f]) => f.includes('VodafoneNL') && f.endsWith('.cols'))).toEqual([]);
    // Every output is read at most once (the ledger's hash of a new file, in its temp folder, is not in this list).
    expect(derived.filter(([, n]) => n > 1)).toEqual([]);
  });

  it('reports a bad file read on a worker as the same one-line InputError, leaving no output behind', async () => {
    const p = tempProject();
    writeFiles(p.raw, {
      ...SECONDS,
      'sim/Bad/client-1.csv': 'id, when, port\nx, 1, 2\n',
      'sim/Bad/server-1.csv': 'Message id, Time, Sender Port, Receiver Port\n',
    });
    const ctx: StageContext = { campaign: 'sim', paths: p, log: recordingLogger() };
    const failed = ingest(ctx, { workers: 2 });
    await expect(failed).rejects.toBeInstanceOf(InputError);
    await expect(failed).rejects.toThrow(/^sim\/Bad\/client-1\.csv:1: /);
    expect(fs.existsSync(path.join(p.derived, 'sim', 'ingest'))).toBe(false);
    expect(fs.readdirSync(path.join(p.derived, 'sim')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
