/**
 * Property: over generated messy campaigns, every ingested row lands in exactly one
 * count, and the counts are the ones README promises. The expected numbers come from
 * the generator's own description of each line (tests/property/captures.ts), never
 * from pipeline code. The joined rows, send_seq, clock offsets and out-of-order counts are
 * checked the same way.
 */
import { joinedCsv } from '../helpers/joined-csv.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { runPipeline } from '../../pipeline/run.ts';
import { silentLogger } from '../../pipeline/context.ts';
import type { CarrierSummary } from '../../pipeline/contracts/summary.ts';
import type { IngestManifest } from '../../pipeline/contracts/manifest.ts';
import { writeFiles, INGEST_JOIN } from '../helpers/tmp.ts';
import { budget, TEST_TIMEOUT_MS } from './budget.ts';
import { campaignArb, expectedCounts, renderCampaign, type Campaign, type GenOptions } from './captures.ts';


async function withProject<T>(fn: (p: { root: string; raw: string; derived: string; reports: string }) => Promise<T>): Promise<T> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'natatlas-prop-'));
  const p = { root, raw: path.join(root, 'raw'), derived: path.join(root, 'derived'), reports: path.join(root, 'reports') };
  try {
    return await fn(p);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const readJson = <T>(file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

/** Run ingest and join on the rendered campaign (what writes every count checked here) and compare each count with the independent one. */
async function checkAccounting(c: Campaign): Promise<void> {
  await withProject(async (p) => {
    writeFiles(p.raw, renderCampaign(c));
    await runPipeline({ paths: p, ...INGEST_JOIN }, silentLogger);
    const want = expectedCounts(c);
    const dir = path.join(p.derived, 'camp');
    const manifest = readJson<IngestManifest>(path.join(dir, 'ingest', 'manifest.json'));

    // Every line of every file: header, blank, data row, control row or reject, once.
    const files = Object.fromEntries(manifest.files.map((f) => [f.path, { lines: f.lines, header: f.header, blank: f.blank, rows: f.rows, control: f.control, rejected: f.rejected }]));
    const wantFiles = Object.fromEntries([...want.files].map(([k, f]) => [k, { lines: f.lines, header: f.header, blank: f.blank, rows: f.rows, control: f.control, rejected: f.rejected }]));
    expect(files).toEqual(wantFiles);
    expect(manifest.trials).toEqual(want.trials);

    // rejects.csv names exactly the bad lines (read back by csv-parse, an independent CSV reader).
    const rejects = (parse(fs.readFileSync(path.join(dir, 'rejects.csv'), 'utf8'), { from_line: 2 }) as string[][]).map((r) => `${r[0]}:${r[1]}`).sort();
    const wantRejects = [...want.files].flatMap(([k, f]) => f.rejectLines.map((l) => `${k}:${l}`)).sort();
    expect(rejects).toEqual(wantRejects);
    expect(manifest.rejected).toBe(wantRejects.length);

    expect(Object.keys(manifest.carriers).sort()).toEqual([...want.carriers.keys()].sort());
    for (const [name, w] of want.carriers) {
      const s = readJson<CarrierSummary>(path.join(dir, 'summary', `${name}.json`));
      expect({ carrier: name, ...s.counts }).toEqual({ carrier: name, ...w.counts });
      expect(manifest.carriers[name]!.timeoutProbes).toBe(w.timeoutProbes);
      // The joined file: each sent packet the server saw, once, in send order, with its first receipt.
      const joined = (parse(joinedCsv(p.derived, 'camp', name), { from_line: 2 }) as string[][]).map((r) => r.slice(0, 9));
      expect(joined).toEqual(w.joinedRows);
      expect({ runs: s.runs, clockOffsetMs: s.clockOffsetMs, outOfOrder: s.outOfOrder }).toEqual({ runs: w.runs, clockOffsetMs: w.clockOffsetMs, outOfOrder: w.outOfOrder });
    }
  });
}

const OPTIONS: GenOptions = { clientEnds: false, maxCarriers: 3, maxRuns: 3, maxPackets: 12 };

describe('accounting over generated captures', () => {
  it('puts every row in exactly one count and joins each sent packet to its first receipt, as an independent count says', async () => {
    await fc.assert(fc.asyncProperty(campaignArb(OPTIONS), checkAccounting), budget(40));
  }, TEST_TIMEOUT_MS);

  it('counts END OF MESSAGE rows of client files as controlRows too', async () => {
    await fc.assert(fc.asyncProperty(campaignArb({ ...OPTIONS, clientEnds: true }), checkAccounting), budget(40));
  }, TEST_TIMEOUT_MS);
});
