import fs from 'node:fs';
import path from 'node:path';
import { NatatlasError } from '../../pipeline/errors.ts';
import { stableStringify } from '../../pipeline/io/json.ts';
import { parseCarrierSpec, preset, runLabel, simulateCampaign, searchTimeout, type CarrierSim, type SimulationReport } from '../../pipeline/simulate/index.ts';
import { joinedInSendOrder, readCarrier, recount, tempDir, type RunFiles } from './files.ts';

const RUNS = 6;
const PACKETS = 12_000;

function carriers(): CarrierSim[] {
  const odido = preset('Odido');
  odido.capture = { ...odido.capture, portZeroRate: 0.002, bindFailureRate: 0.003 };
  return [
    odido,
    preset('KPN'),
    preset('PreserveCarrier'),
    parseCarrierSpec('EimUni:uniform mapping=eim wait=40 idle=70 malformedRate=0.01 duplicateRate=0.01 strangerRate=0.01'),
  ];
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p).map((f) => `${e.name}/${f}`));
    else out.push(e.name);
  }
  return out.sort();
}

function expectSameBytes(a: string, b: string, only?: string): void {
  const fa = listFiles(a).filter((f) => only === undefined || f.startsWith(`${only}/`));
  const fb = listFiles(b).filter((f) => only === undefined || f.startsWith(`${only}/`));
  expect(fb).toEqual(fa);
  for (const f of fa) {
    if (!fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f)))) throw new Error(`${f} differs`);
  }
}

describe('simulateCampaign', () => {
  let root: string;
  let report: SimulationReport;
  const files = new Map<string, RunFiles[]>();
  const progress: [string, number, number][] = [];

  beforeAll(async () => {
    root = tempDir('sim');
    report = await simulateCampaign({
      outDir: root, campaign: 'c1', carriers: carriers(), runs: RUNS, packets: PACKETS, seed: 'test-seed',
      onProgress: (c, done, total) => progress.push([c, done, total]),
    });
    for (const name of Object.keys(report.carriers)) files.set(name, readCarrier(path.join(root, 'c1', name)));
  });

  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('writes the campaign layout of docs/design.md and simulation.json with the returned report', () => {
    const names = ['EimUni', 'KPN', 'Odido', 'PreserveCarrier'];
    expect(fs.readdirSync(path.join(root, 'c1')).sort()).toEqual([...names, 'simulation.json']);
    for (const name of names) {
      const expected = ['timeouts.csv'];
      for (let r = 1; r <= RUNS; r++) expected.push(`client-0${r}.csv`, `server-0${r}.csv`);
      expect(fs.readdirSync(path.join(root, 'c1', name)).sort()).toEqual(expected.sort());
      expect(report.carriers[name]!.files.client[0]).toBe(`${name}/client-01.csv`);
    }
    const written = fs.readFileSync(path.join(root, 'c1', 'simulation.json'), 'utf8');
    expect(written).toBe(stableStringify(report));
    expect(report.schema).toBe('natatlas.simulation/1');
    expect(report.options.carriers.map((c) => c.name)).toEqual(['Odido', 'KPN', 'PreserveCarrier', 'EimUni']);
    expect(written).not.toContain(root);
  });

  it('writes the exact headers and ", " separators, and only whole rows', () => {
    for (const [name, runs] of files) {
      const ip = report.carriers[name]!.capture.senderIp;
      for (const run of runs) {
        expect(run.clientHeader).toBe('Message id, Time, Sender Port, Receiver Port, Success');
        expect(run.serverHeader).toBe(ip ? 'Message id, Time, Sender Port, Receiver Port, Sender IP' : 'Message id, Time, Sender Port, Receiver Port');
        expect(run.rawClient).not.toMatch(/,(?! )/);
        expect(run.rawServer).not.toMatch(/,(?! )/);
        expect(run.rawClient).not.toContain('\r');
        expect(run.junkOnTop).toBe(true);
        expect(run.server.every((row) => (row.ip !== undefined) === ip)).toBe(true);
      }
    }
  });

  it('keeps every count identity of the truth', () => {
    for (const t of Object.values(report.carriers)) {
      expect(t.clientRows).toBe(PACKETS);
      expect(t.packetsPerRun).toEqual(Array(RUNS).fill(PACKETS / RUNS));
      expect(t.clientRows).toBe(t.failed + t.sent);
      expect(t.failed).toBe(t.failedPrivileged + t.failedBind);
      expect(t.sent).toBe(t.lost + t.joined);
      expect(t.lost).toBe(t.lostInNetwork + t.lostToClosedPorts);
      expect(t.serverRows).toBe(t.joined + t.serverDuplicates + t.strangers);
      expect(t.control).toBe(RUNS * t.capture.endMarkers);
      expect(t.junk).toBe(RUNS * t.capture.failedServerPorts);
      expect(t.reusedSameExternal).toBeLessThanOrEqual(t.reusedPorts);
      expect(t.reusedObserved).toBeLessThanOrEqual(t.reusedPorts);
      expect(t.allocations).toBeGreaterThan(0);
      for (const k of ['failed', 'lostInNetwork', 'lostToClosedPorts', 'serverDuplicates', 'strangers', 'reusedPorts', 'reordered'] as const) {
        expect(t[k]).toBeGreaterThan(0);
      }
    }
  });

  it('reports counts that a recount of the written files reproduces exactly', () => {
    for (const [name, runs] of files) {
      const t = report.carriers[name]!;
      const r = recount(runs);
      expect({
        clientRows: r.clientRows, failed: r.failed, sent: r.sent, portZero: r.portZero, failedPrivileged: r.failedPrivileged, failedBind: r.failedOther,
        serverRows: r.serverRows, joined: r.joined, lost: r.lost, serverDuplicates: r.serverDuplicates, strangers: r.strangers, control: r.control,
        junk: r.junk, reordered: r.reordered, reusedPorts: r.reusedPorts, reusedObserved: r.reusedObserved,
        reusedObservedSameExternal: r.reusedObservedSameExternal, malformed: { client: r.malformedClient, server: r.malformedServer },
      }).toEqual({
        clientRows: t.clientRows, failed: t.failed, sent: t.sent, portZero: t.portZero, failedPrivileged: t.failedPrivileged, failedBind: t.failedBind,
        serverRows: t.serverRows, joined: t.joined, lost: t.lost, serverDuplicates: t.serverDuplicates, strangers: t.strangers, control: t.control,
        junk: t.junk, reordered: t.reordered, reusedPorts: t.reusedPorts, reusedObserved: t.reusedObserved,
        reusedObservedSameExternal: t.reusedObservedSameExternal, malformed: t.malformed,
      });
    }
  });

  it('injects malformed rows only when asked, one per kind of defect', () => {
    const t = report.carriers.EimUni!;
    expect(t.malformed.client).toBeGreaterThan(50);
    expect(t.malformed.server).toBeGreaterThan(50);
    const bad = files.get('EimUni')!.flatMap((r) => [...r.badClient, ...r.badServer]);
    expect(bad.some((l) => /^[0-9a-f]{8}-zz/.test(l))).toBe(true);
    expect(bad.some((l) => /, (70000|-5), /.test(l))).toBe(true);
    expect(bad.some((l) => l.includes('2023-03-01 10:00:00'))).toBe(true);
    expect(bad.some((l) => l.split(', ').length === 4)).toBe(true);
    for (const name of ['Odido', 'KPN', 'PreserveCarrier']) expect(report.carriers[name]!.malformed).toEqual({ client: 0, server: 0 });
  });

  it('fails sends only on privileged ports or at the bind-failure rate, never on port 0', () => {
    for (const [name, runs] of files) {
      const t = report.carriers[name]!;
      let privileged = 0;
      let other = 0;
      let nonPrivileged = 0;
      for (const row of runs.flatMap((r) => r.client)) {
        if (row.local >= 1 && row.local <= 1023) {
          if (row.ok) throw new Error(`S row on privileged port ${row.local}`);
          privileged += 1;
        } else if (row.local === 0) {
          if (!row.ok) throw new Error('F row on port 0');
        } else {
          nonPrivileged += 1;
          if (!row.ok) other += 1;
        }
      }
      expect(privileged).toBe(t.failedPrivileged);
      expect(other).toBe(t.failedBind);
      const p = t.capture.bindFailureRate;
      // Reused sends cannot fail, so the rate applies to slightly fewer rows; 5 SE either way.
      expect(Math.abs(other - p * nonPrivileged)).toBeLessThan(5 * Math.sqrt(nonPrivileged * p * (1 - p)) + 2);
      // Uniform local ports: about 1023/65536 of fresh draws are privileged.
      expect(Math.abs(privileged / PACKETS - 1023 / 65536)).toBeLessThan(5 * Math.sqrt((1023 / 65536) / PACKETS));
    }
    expect(report.carriers.Odido!.portZero).toBeGreaterThan(5);
  });

  it('shows endpoint dependence: reuse keeps the external port on EIM NATs and changes it on EDM NATs', () => {
    for (const [name, mapping] of [['Odido', 'edm'], ['KPN', 'edm'], ['PreserveCarrier', 'eim'], ['EimUni', 'eim']] as const) {
      const t = report.carriers[name]!;
      expect(t.reusedObserved).toBeGreaterThan(100);
      if (mapping === 'eim') {
        expect(t.reusedSameExternal).toBe(t.reusedPorts);
        expect(t.reusedObservedSameExternal).toBe(t.reusedObserved);
      } else {
        expect(t.reusedSameExternal).toBe(0);
        expect(t.reusedObservedSameExternal).toBe(0);
      }
      // About reuseRate of sends that follow a send reuse its port.
      const p = t.capture.reuseRate;
      expect(Math.abs(t.reusedPorts / t.sent - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / t.sent) + 0.002);
    }
  });

  it('preserving NAT: the external port is the local port for nearly every joined packet', () => {
    const joined = files.get('PreserveCarrier')!.flatMap(joinedInSendOrder).filter((j) => j.local !== 0);
    const kept = joined.filter((j) => j.ext === j.local).length;
    expect(kept / joined.length).toBeGreaterThan(0.97);
  });

  it('block NAT: consecutive allocations share 256-aligned blocks about perBlock times', () => {
    const t = report.carriers.KPN!;
    const perBlock = (t.nat.model as { perBlock: number }).perBlock;
    const lengths: number[] = [];
    for (const run of files.get('KPN')!) {
      const exts = joinedInSendOrder(run).map((j) => j.ext);
      let len = 1;
      for (let i = 1; i < exts.length; i++) {
        if (Math.floor(exts[i]! / 256) === Math.floor(exts[i - 1]! / 256)) len += 1;
        else {
          lengths.push(len);
          len = 1;
        }
      }
      expect(Math.min(...exts)).toBeGreaterThanOrEqual(1024);
    }
    // Whole blocks between the first and last of a run: perBlock allocations less the lost ones.
    const inner = lengths.filter((_, i) => i > 0);
    const mean = inner.reduce((a, b) => a + b, 0) / inner.length;
    const deliver = t.joined / t.sent;
    expect(Math.abs(mean - perBlock * deliver)).toBeLessThan(0.1 * perBlock);
  });

  it('timestamps: 20 ms pacing from the fixed base, receive = send + clock offset + delay, server sorted by receive time', () => {
    for (const [name, runs] of files) {
      const t = report.carriers[name]!;
      expect(runs[0]!.client[0]!.time).toBe(Date.UTC(2023, 2, 1, 10, 0, 0));
      for (const run of runs) {
        expect(run.client.every((row, i) => row.time === run.client[0]!.time + 20 * i)).toBe(true);
        expect(run.server.every((row, i) => i === 0 || row.time >= run.server[i - 1]!.time)).toBe(true);
      }
      const starts = runs.map((r) => r.client[0]!.time);
      for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBe(300_000);
      const delays = runs.flatMap(joinedInSendOrder).map((j) => j.recv - j.time - t.clockOffsetMs);
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(t.capture.baseDelayMs);
      // floor(25 + Exp(mean 15)) has mean 25 + 1 / (e^(1/15) - 1) and sd ~15.
      const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
      const expected = t.capture.baseDelayMs + 1 / (Math.exp(1 / t.capture.jitterMs) - 1);
      expect(Math.abs(mean - expected)).toBeLessThan((5 * t.capture.jitterMs) / Math.sqrt(delays.length));
    }
    expect(new Set(Object.values(report.carriers).map((c) => c.clockOffsetMs)).size).toBe(4);
  });

  it('ends each run with END OF MESSAGE rows from fresh NAT mappings, which are not in the client file', () => {
    for (const [name, runs] of files) {
      const t = report.carriers[name]!;
      for (const run of runs) {
        const markers = run.server.filter((s) => s.uuid === 'END OF MESSAGE');
        expect(markers).toHaveLength(t.capture.endMarkers);
        const lastSend = run.client[run.client.length - 1]!.time + t.clockOffsetMs;
        for (const m of markers) {
          expect(m.time).toBeGreaterThan(lastSend);
          expect(run.junk).not.toContain(m.port);
        }
        expect(run.rawClient).not.toContain('END OF MESSAGE');
      }
    }
  });

  it('writes the carrier IP in the Sender IP column and strangers from other addresses', () => {
    const t = report.carriers.KPN!;
    expect(t.ipPool.every((ip) => /^198\.51\.100\.\d+$/.test(ip))).toBe(true);
    const ids = new Set(files.get('KPN')!.flatMap((r) => r.client.map((c) => c.uuid)));
    for (const run of files.get('KPN')!) {
      const own = new Set(run.server.filter((s) => s.uuid === 'END OF MESSAGE' || ids.has(s.uuid)).map((s) => s.ip));
      expect(own.size).toBe(1);
      expect(t.ipPool).toContain([...own][0]);
      for (const s of run.server) if (s.uuid !== 'END OF MESSAGE' && !ids.has(s.uuid)) expect(s.ip).toMatch(/^203\.0\.113\./);
    }
  });

  it('writes timeout probes that follow Algorithms 2 and 3 and bracket the true timeout without jitter', () => {
    for (const name of Object.keys(report.carriers)) {
      const t = report.carriers[name]!;
      const lines = fs.readFileSync(path.join(root, 'c1', name, 'timeouts.csv'), 'utf8').trim().split('\n');
      expect(lines[0]).toBe('probe_id,kind,delay_s,replied');
      const rows = lines.slice(1).map((l) => l.split(','));
      expect(rows.length).toBe(t.timeouts.wait.rows + t.timeouts.idle.rows);
      for (const kind of ['wait', 'idle'] as const) {
        const T = kind === 'wait' ? t.nat.waitTimeoutS : t.nat.idleTimeoutS;
        for (let rep = 1; rep <= t.capture.probeRepeats; rep++) {
          const mine = rows.filter((r) => r[0]!.startsWith(`${kind}-${rep}-`));
          let k = 0;
          const replay = searchTimeout(() => mine[k++]![3] === 'true');
          expect(replay.probes.map((p) => `${kind}-${rep}-${String(p.step).padStart(2, '0')},${kind},${p.delayS},${p.replied}`)).toEqual(mine.map((r) => r.join(',')));
          if (t.nat.timeoutJitterS === 0) {
            expect(T).toBeGreaterThan(Math.min(replay.l, replay.r) - 1);
            expect(T).toBeLessThanOrEqual(Math.max(replay.l, replay.r) + 1);
          }
        }
      }
    }
  });

  it('reports progress up to the packet total per carrier', () => {
    for (const name of Object.keys(report.carriers)) {
      const mine = progress.filter((p) => p[0] === name);
      expect(mine[mine.length - 1]).toEqual([name, PACKETS, PACKETS]);
      for (let i = 1; i < mine.length; i++) expect(mine[i]![1]).toBeGreaterThan(mine[i - 1]![1]);
    }
  });

  it('is deterministic: the same options give byte-identical files; each carrier has its own stream', async () => {
    const again = tempDir('sim-again');
    const alone = tempDir('sim-alone');
    const other = tempDir('sim-other');
    try {
      await simulateCampaign({ outDir: again, campaign: 'c1', carriers: carriers(), runs: RUNS, packets: PACKETS, seed: 'test-seed' });
      expectSameBytes(path.join(root, 'c1'), path.join(again, 'c1'));
      // KPN simulated alone (no other carriers) is byte-identical to KPN in the full campaign.
      await simulateCampaign({ outDir: alone, campaign: 'c1', carriers: [preset('KPN')], runs: RUNS, packets: PACKETS, seed: 'test-seed' });
      expectSameBytes(path.join(root, 'c1'), path.join(alone, 'c1'), 'KPN');
      // Another seed changes the data.
      await simulateCampaign({ outDir: other, campaign: 'c1', carriers: [preset('KPN')], runs: RUNS, packets: PACKETS, seed: 'other-seed' });
      expect(fs.readFileSync(path.join(other, 'c1', 'KPN', 'client-01.csv')).equals(fs.readFileSync(path.join(alone, 'c1', 'KPN', 'client-01.csv')))).toBe(false);
    } finally {
      for (const d of [again, alone, other]) fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('replaces a carrier folder whole, so a smaller rerun leaves no stale runs', async () => {
    const dir = tempDir('sim-rerun');
    try {
      await simulateCampaign({ outDir: dir, campaign: 'c', carriers: [preset('Odido')], runs: 5, packets: 500, seed: 1 });
      const r = await simulateCampaign({ outDir: dir, campaign: 'c', carriers: [preset('Odido')], runs: 2, packets: 200, seed: 1 });
      expect(fs.readdirSync(path.join(dir, 'c', 'Odido')).sort()).toEqual(['client-01.csv', 'client-02.csv', 'server-01.csv', 'server-02.csv', 'timeouts.csv']);
      expect(fs.readdirSync(path.join(dir, 'c')).sort()).toEqual(['Odido', 'simulation.json']);
      expect(recount(readCarrier(path.join(dir, 'c', 'Odido'))).clientRows).toBe(r.carriers.Odido!.clientRows);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits packets evenly with the remainder on the first runs, and pads run numbers to the run count', async () => {
    expect(runLabel(7, 20)).toBe('07');
    expect(runLabel(7, 100)).toBe('007');
    expect(runLabel(100, 100)).toBe('100');
    const dir = tempDir('sim-split');
    try {
      const r = await simulateCampaign({ outDir: dir, campaign: 'c', carriers: [preset('SeqCarrier')], runs: 101, packets: 205, seed: 2 });
      const t = r.carriers.SeqCarrier!;
      expect(t.packetsPerRun.slice(0, 4)).toEqual([3, 3, 3, 2]);
      expect(t.packetsPerRun.reduce((a, b) => a + b, 0)).toBe(205);
      expect(t.files.client[0]).toBe('SeqCarrier/client-001.csv');
      expect(fs.existsSync(path.join(dir, 'c', 'SeqCarrier', 'server-101.csv'))).toBe(true);
      expect(recount(readCarrier(path.join(dir, 'c', 'SeqCarrier'))).clientRows).toBe(205);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each<[string, Partial<Parameters<typeof simulateCampaign>[0]>, RegExp]>([
    ['duplicate carriers', { carriers: [preset('KPN'), preset('KPN')] }, /carrier "KPN" given twice/],
    ['no carriers', { carriers: [] }, /at least one carrier/],
    ['zero runs', { runs: 0 }, /runs must be a whole number >= 1/],
    ['fractional packets', { packets: 1.5 }, /packets must be a whole number/],
    ['bad campaign name', { campaign: '../up' }, /campaign "..\/up" must be a folder name/],
    ['unknown capture option', { carriers: [{ ...preset('KPN'), capture: { lossRat: 0.1 } as never }] }, /capture option lossRat is unknown/],
    ['bad model', { carriers: [{ name: 'X', nat: { model: { family: 'uniform', min: 9, max: 1 }, mapping: 'endpoint-dependent', waitTimeoutS: 30, idleTimeoutS: 30, timeoutJitterS: 0 } }] }, /carrier X: min 9 is above max 1/],
  ])('rejects %s with a NatatlasError before writing anything', async (_label, patch, message) => {
    const dir = tempDir('sim-bad');
    try {
      const run = simulateCampaign({ outDir: dir, campaign: 'c', carriers: [preset('KPN')], runs: 1, packets: 10, seed: 1, ...patch });
      await expect(run).rejects.toThrow(NatatlasError);
      await expect(simulateCampaign({ outDir: dir, campaign: 'c', carriers: [preset('KPN')], runs: 1, packets: 10, seed: 1, ...patch })).rejects.toThrow(message);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
