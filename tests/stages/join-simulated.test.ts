import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../pipeline/run.ts';
import { preset, simulateCampaign, type SimulationReport } from '../../pipeline/simulate/index.ts';
import type { CarrierSummary } from '../../pipeline/contracts/summary.ts';
import { recordingLogger, tempProject, FAST_RUN } from '../helpers/tmp.ts';

/** Messier than the defaults, so every count is exercised many times. */
const MESSY = { malformedRate: 0.01, duplicateRate: 0.01, strangerRate: 0.01, reuseRate: 0.1, jitterMs: 30 };

describe('join on a simulated campaign', () => {
  let truth: SimulationReport;
  let summaries: Record<string, CarrierSummary>;

  beforeAll(async () => {
    const p = tempProject();
    const carriers = ['KPN', 'VodafoneNL', 'PreserveCarrier'].map((n) => {
      const c = preset(n);
      return { ...c, capture: { ...c.capture, ...MESSY } };
    });
    truth = await simulateCampaign({ outDir: p.raw, campaign: 'sim', carriers, runs: 4, packets: 8000, seed: 'join-test' });
    await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    summaries = Object.fromEntries(
      carriers.map((c) => [c.name, JSON.parse(fs.readFileSync(path.join(p.derived, 'sim', 'summary', `${c.name}.json`), 'utf8')) as CarrierSummary]),
    );
  });

  it('finds exactly the counts the simulator reports', () => {
    for (const [name, s] of Object.entries(summaries)) {
      const t = truth.carriers[name]!;
      expect({ name, ...s.counts }).toEqual({
        name,
        clientRows: t.clientRows,
        failed: t.failed,
        sent: t.sent,
        clientDuplicates: 0,
        serverRows: t.serverRows,
        joined: t.joined,
        lost: t.lost,
        strangers: t.strangers,
        failedSeen: 0,
        serverDuplicates: t.serverDuplicates,
        controlRows: t.control,
        rejected: t.junk + t.malformed.client + t.malformed.server,
      });
      expect(t.malformed.client + t.malformed.server).toBeGreaterThan(50);
    }
  });

  it('counts reordered packets as the simulator does (RFC 4737, per server file)', () => {
    for (const [name, s] of Object.entries(summaries)) {
      expect(s.outOfOrder.rows).toBe(truth.carriers[name]!.reordered);
      expect(s.outOfOrder.rows).toBeGreaterThan(0);
    }
  });

  it('recovers the server clock offset plus the median one-way delay', () => {
    for (const [name, s] of Object.entries(summaries)) {
      const t = truth.carriers[name]!;
      // delay = base + Exponential(mean jitter): its median is base + jitter * ln 2.
      const expected = t.clockOffsetMs + t.capture.baseDelayMs + t.capture.jitterMs * Math.LN2;
      expect(Math.abs(s.clockOffsetMs!.median - expected)).toBeLessThan(2);
    }
  });

  it('balances every row: client and server identities hold', () => {
    for (const s of Object.values(summaries)) {
      const c = s.counts;
      expect(c.failed + c.sent + c.clientDuplicates).toBe(c.clientRows);
      expect(c.joined + c.lost).toBe(c.sent);
      expect(c.joined + c.strangers + c.failedSeen + c.serverDuplicates).toBe(c.serverRows);
    }
  });
});
