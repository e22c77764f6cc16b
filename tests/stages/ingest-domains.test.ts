/**
 * Bad numbers, time units, end markers and overlong lines at ingest, each on a hand-made
 * campaign whose counts, rejects and clock offsets are worked out by hand in the comments.
 */
import { joinedCsv } from '../helpers/joined-csv.ts';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { runPipeline } from '../../pipeline/run.ts';
import { STAGES } from '../../pipeline/stages/index.ts';
import type { CarrierSummary } from '../../pipeline/contracts/summary.ts';
import type { IngestManifest } from '../../pipeline/contracts/manifest.ts';
import { recordingLogger, tempProject, writeFiles } from '../helpers/tmp.ts';

const U = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const CLIENT = 'Message id, Time, Sender Port, Receiver Port, Success';
const SERVER = 'Message id, Time, Sender Port, Receiver Port';
const INGEST_JOIN = STAGES.filter((s) => s.name === 'ingest' || s.name === 'join');

function campaign(raw: string): void {
  writeFiles(raw, {
    // K: phone in epoch seconds, server in epoch ms; bad ports; well-formed and malformed end markers.
    'camp/K/client-1.csv': [
      CLIENT,
      `${U(1)}, 1700000000, 40000, 5000, S`, // 1700000000000 ms
      `${U(2)}, 1700000000.02, 0, 5001, S`, // 1700000000020 ms; local port 0 means "any"
      `${U(3)}, 1700000000.04, 40002, 0, S`, // reject: receiver port 0
      `${U(4)}, 1e300, 40003, 5003, S`, // reject: time
      'END OF MESSAGE, 1700000001, 40010, 5000, S', // control
      'END OF MESSAGE, 1700000001', // control, malformed
      '',
    ].join('\n'),
    'camp/K/server-1.csv': [
      SERVER,
      `${U(1)}, 1699999997500, 50000, 5000`, // offset -2500
      `${U(2)}, 1699999997530, 50001, 5001`, // offset -2490
      `${U(9)}, 1699999997600, 0, 5009`, // reject: sender port 0
      'END OF MESSAGE, 1699999998500, 50010, 5000', // control
      'END OF MESSAGE, 1699999998500, 99999, 5000', // control, unreadable port
      'END OF MESSAGE', // control, malformed
      '',
    ].join('\n'),
    'camp/K/timeouts.csv': [
      'probe_id,kind,delay_s,replied',
      'w1,wait,1e300,true', // reject
      'w2,wait,90000,false', // reject: over a day
      'w3,wait,-1,true', // reject
      'w4,wait,20,true',
      'w5,wait,86400,false', // exactly a day: kept
      'w6,wait,NaN,true', // reject
      '',
    ].join('\n'),
    // S: both sides in epoch seconds: the offset is -3000 ms, not -3.
    'camp/S/client-1.csv': `${CLIENT}\n${U(11)}, 1700000000, 40000, 5000, S\n${U(12)}, 1700000000.5, 40001, 5001, S\n`,
    'camp/S/server-1.csv': `${SERVER}\n${U(11)}, 1699999997, 50000, 5000\n${U(12)}, 1699999997.5, 50001, 5001\n`,
    // R: phone in ms since the capture started, server in epoch ms.
    'camp/R/client-1.csv': `${CLIENT}\n${U(21)}, 1000, 40000, 5000, S\n${U(22)}, 1020, 40001, 5001, S\n`,
    'camp/R/server-1.csv': [
      SERVER,
      `${U(21)}, 1700000000000, 50000, 5000`,
      `${U(22)}, 1700000000030, 50001, 5001`,
      `${U(23)}, 5, 50002, 5002`, // reject: relative time in an epoch file
      `${U(24)}, 1e300, 50003, 5003`, // reject
      `${U(25)}, 1700000000000000, 50004, 5004`, // reject: microseconds
      '',
    ].join('\n'),
    // M: one phone file mixing epoch ms and epoch seconds: each read by its size.
    'camp/M/client-1.csv': `${CLIENT}\n${U(31)}, 1700000000000, 40000, 5000, S\n${U(32)}, 1700000000.25, 40001, 5001, S\n`,
    'camp/M/server-1.csv': `${SERVER}\n${U(31)}, 1700000000100, 50000, 5000\n${U(32)}, 1700000000350, 50001, 5001\n`,
    // L: a 70,000-character line between good rows.
    'camp/L/client-1.csv': `${CLIENT}\n${U(41)}, 1700000000000, 40000, 5000, S\n${U(42)}, 1700000000020, ${'9'.repeat(70_000)}, 5000, S\n${U(43)}, 1700000000040, 40002, 5002, S\n`,
    'camp/L/server-1.csv': `${SERVER}\n${U(41)}, 1700000000100, 50000, 5000\n${U(43)}, 1700000000140, 50002, 5002\n`,
    'camp/trials.csv': [
      'carrier_a,carrier_b,strategy,trial,outcome,packets',
      'K,K,naive,1,S,99999999999999999999999', // reject
      'K,K,naive,2,F,1000000000', // the largest budget kept
      'K,K,naive,3,S,1000000001', // reject
      'K,K,naive,99999999999999999999,S,10', // reject: trial past 2^53
      'K,K,biased,4,S,',
      '',
    ].join('\n'),
    // The optional send rate: over 0, at most 10,000,000 packets/s, decimals allowed.
    'camp/trials-rate.csv': [
      'carrier_a,carrier_b,strategy,trial,outcome,packets,rate_pps',
      'K,K,biased,1,S,900,5000',
      'K,K,biased,2,F,10000,0.5',
      'K,K,biased,3,S,800', // the last, optional, field left out: no rate
      'K,K,biased,4,S,700,0', // reject: a rate of 0 sends nothing
      'K,K,biased,5,S,700,-5', // reject
      'K,K,biased,6,S,700,fast', // reject
      'K,K,biased,7,S,700,10000001', // reject
      'K,K,biased,8,S,700,10000000', // the largest rate kept
      'K,K,biased,9,S,,100',
      '',
    ].join('\n'),
  });
}

interface Run {
  derived: string;
  warnings: string[];
  manifest: IngestManifest;
  rejects: string[][];
  summary: (carrier: string) => CarrierSummary;
}

async function ingested(): Promise<Run> {
  const p = tempProject();
  campaign(p.raw);
  const log = recordingLogger();
  await runPipeline({ paths: p, stages: INGEST_JOIN }, log);
  const dir = path.join(p.derived, 'camp');
  return {
    derived: p.derived,
    warnings: log.warnings,
    manifest: JSON.parse(fs.readFileSync(path.join(dir, 'ingest', 'manifest.json'), 'utf8')) as IngestManifest,
    rejects: parse(fs.readFileSync(path.join(dir, 'rejects.csv'), 'utf8'), { from_line: 2 }) as string[][],
    summary: (c) => JSON.parse(fs.readFileSync(path.join(dir, 'summary', `${c}.json`), 'utf8')) as CarrierSummary,
  };
}

describe('ingest: value domains, time units, end markers, overlong lines', () => {
  let run: Run;
  beforeAll(async () => {
    run = await ingested();
  });

  const rejectsOf = (file: string) => run.rejects.filter((r) => r[0] === file).map((r) => [Number(r[1]), r[2]]);

  it('rejects numbers outside their domain with file, line and reason', () => {
    expect(rejectsOf('camp/K/client-1.csv')).toEqual([
      [4, 'receiver port 0 is outside 1..65535'],
      [5, 'time 1e300 is neither epoch milliseconds nor epoch seconds between 2000 and 2100 (nor elapsed milliseconds under 946684800)'],
    ]);
    expect(rejectsOf('camp/K/server-1.csv')).toEqual([[4, 'sender port 0 is outside 1..65535']]);
    expect(rejectsOf('camp/K/timeouts.csv')).toEqual([
      [2, 'delay_s 1e300 is outside 0..86400 seconds (one day)'],
      [3, 'delay_s 90000 is outside 0..86400 seconds (one day)'],
      [4, 'delay_s -1 is outside 0..86400 seconds (one day)'],
      [7, 'delay_s "NaN" is not a number'],
    ]);
    expect(rejectsOf('camp/trials.csv')).toEqual([
      [2, 'packets 99999999999999999999999 is over 1,000,000,000'],
      [4, 'packets 1000000001 is over 1,000,000,000'],
      [5, 'trial 99999999999999999999 is over 9,007,199,254,740,991'],
    ]);
    expect(rejectsOf('camp/R/server-1.csv').map(([line]) => line)).toEqual([4, 5, 6]);
    expect(rejectsOf('camp/R/server-1.csv')[0]![1]).toBe("time 5 does not fit this file's times (epoch times, from line 2: 1700000000000)");
    expect(run.manifest.carriers.K!.timeoutProbes).toBe(2);
    expect(rejectsOf('camp/trials-rate.csv')).toEqual([
      [5, 'rate_pps 0 is outside 0 (exclusive)..10,000,000 packets per second'],
      [6, 'rate_pps -5 is outside 0 (exclusive)..10,000,000 packets per second'],
      [7, 'rate_pps "fast" is not a number'],
      [8, 'rate_pps 10000001 is outside 0 (exclusive)..10,000,000 packets per second'],
    ]);
    expect(run.manifest.trials).toEqual({ rows: 2 + 5, rejected: 3 + 4 });
  });

  it('carries each trial\'s send rate into ingest/trials.csv, empty where the file records none', () => {
    const rows = parse(fs.readFileSync(path.join(run.derived, 'camp', 'ingest', 'trials.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.file, r.line, r.packets, r.rate_pps])).toEqual([
      ['camp/trials-rate.csv', '2', '900', '5000'],
      ['camp/trials-rate.csv', '3', '10000', '0.5'],
      ['camp/trials-rate.csv', '4', '800', ''],
      ['camp/trials-rate.csv', '9', '700', '10000000'],
      ['camp/trials-rate.csv', '10', '', '100'],
      ['camp/trials.csv', '3', '1000000000', ''],
      ['camp/trials.csv', '6', '', ''],
    ]);
  });

  it('counts end markers of both sides as control rows, malformed ones included, never as rejects', () => {
    const k = run.summary('K');
    expect(k.counts).toEqual({
      clientRows: 2, failed: 0, sent: 2, clientDuplicates: 0,
      serverRows: 2, joined: 2, lost: 0, strangers: 0, failedSeen: 0, serverDuplicates: 0,
      // Phone: 2 markers; server: 3 (one well-formed, one with port 99999, one with one field).
      controlRows: 5,
      // 2 client + 1 server + 4 timeouts rows.
      rejected: 7,
    });
    expect(run.rejects.some((r) => r[3]!.startsWith('END OF MESSAGE'))).toBe(false);
  });

  it('accounts for every line of every capture file in exactly one count', () => {
    for (const f of run.manifest.files) {
      expect([f.path, f.lines]).toEqual([f.path, (f.header ? 1 : 0) + f.blank + f.rows + f.control + f.rejected]);
    }
    for (const carrier of ['K', 'S', 'R', 'M', 'L']) {
      const s = run.summary(carrier).counts;
      const files = run.manifest.files.filter((f) => f.carrier === carrier && (f.kind === 'client' || f.kind === 'server'));
      expect(s.clientRows).toBe(s.failed + s.sent + s.clientDuplicates);
      expect(s.sent).toBe(s.joined + s.lost);
      expect(s.serverRows).toBe(s.joined + s.strangers + s.failedSeen + s.serverDuplicates);
      expect(s.clientRows + s.serverRows).toBe(files.reduce((t, f) => t + f.rows, 0));
      expect(s.controlRows).toBe(files.reduce((t, f) => t + f.control, 0));
    }
  });

  it('reads times in seconds as seconds: the clock offsets are in milliseconds', () => {
    // K: offsets -2500 and -2490 ms; the 5th/95th percentiles interpolate between them.
    expect(run.summary('K').clockOffsetMs).toEqual({ median: -2495, p05: -2499.5, p95: -2490.5 });
    // S: both sides in seconds, 3 s apart.
    expect(run.summary('S').clockOffsetMs).toEqual({ median: -3000, p05: -3000, p95: -3000 });
    // M: 100 ms and 100 ms (1700000000350 - 1700000000250).
    expect(run.summary('M').clockOffsetMs).toEqual({ median: 100, p05: 100, p95: 100 });
    const joined = joinedCsv(run.derived, 'camp', 'K').trim().split('\n');
    expect(joined.slice(1).map((l) => l.split(',').slice(3, 6))).toEqual([['1700000000000', '1699999997500', '40000'], ['1700000000020', '1699999997530', '0']]);
  });

  it('warns about files in seconds and runs whose sides disagree, naming the files and the fix', () => {
    const about = (s: string) => run.warnings.filter((w) => w.includes(s));
    const k = about('camp/K/');
    expect(k).toHaveLength(2);
    expect(k[0]).toMatch(/^camp\/K\/client-1\.csv: times are epoch seconds \(line 2: 1700000000\), not milliseconds; .*Fix: /);
    expect(k[1]).toMatch(/^camp\/K\/client-1\.csv and camp\/K\/server-1\.csv \(run 1\): the phone's times are epoch seconds, the server's epoch milliseconds; .*Fix: /);
    expect(about('camp/S/')).toHaveLength(2);
    expect(about('camp/S/').every((w) => /times are epoch seconds.*Fix: /.test(w))).toBe(true);
    expect(about('camp/R/')).toEqual([expect.stringMatching(/^camp\/R\/client-1\.csv and camp\/R\/server-1\.csv \(run 1\): .*clock offset in the summary means nothing\. Fix: /)]);
    expect(about('camp/M/')).toEqual([expect.stringMatching(/^camp\/M\/client-1\.csv: 1 of its 2 times are epoch seconds, the others epoch milliseconds; .*Fix: /)]);
    expect(about('camp/L/')).toEqual([]);
  });

  it('turns a line over the cap into one reject with the raw field cut, and reads on', () => {
    const l = run.rejects.filter((r) => r[0] === 'camp/L/client-1.csv');
    expect(l).toHaveLength(1);
    const head = `${U(42)}, 1700000000020, ${'9'.repeat(70_000)}`;
    // The line is 36 + 2 + 13 + 2 + 70,000 + 2 + 4 + 3 characters.
    expect(l[0]!.slice(1, 3)).toEqual(['3', 'line is 70062 characters long, over the limit of 65536; not read']);
    expect(l[0]![3]).toBe(`${head.slice(0, 1000)}...`);
    expect(run.summary('L').counts).toMatchObject({ clientRows: 2, joined: 2, lost: 0, rejected: 1 });
  });
});
