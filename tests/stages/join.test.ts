import fs from 'node:fs';
import { joinedCsv } from '../helpers/joined-csv.ts';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { runPipeline } from '../../pipeline/run.ts';
import { InputError } from '../../pipeline/errors.ts';
import type { CarrierSummary } from '../../pipeline/contracts/summary.ts';
import { recordingLogger, snapshot, tempProject, writeFiles, FAST_RUN } from '../helpers/tmp.ts';

const U = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A hand-made carrier whose every count is worked out below. */
function handMadeCampaign(raw: string): void {
  const client = [
    'Message id, Time, Sender Port, Receiver Port, Success',
    `${U(1)}, 1000, 40000, 5000, S`,
    `${U(2)}, 1020, 80, 5001, F`,
    `${U(3)}, 1040, 0, 5002, S`,
    `${U(4)}, 1060, 40001, 5003, S`, // lost
    `${U(1)}, 1080, 40002, 5004, S`, // client duplicate
    'not-a-uuid, 1100, 1, 1, S', // reject: id
    `${U(5)}, abc, 1, 1, S`, // reject: time
    `${U(6)}, 1120, 70000, 1, S`, // reject: port
    `${U(7)}, 1140, 1, 1`, // reject: columns
    '',
    '',
  ].join('\n');
  const server = [
    'Message id, Time, Sender Port, Receiver Port, Sender IP',
    'Failed, to, launch, 17', // reject: junk
    `${U(3).toUpperCase()}, 1500, 50000, 5002, 198.51.100.7`,
    `${U(1)}, 1400, 50001, 5000, 198.51.100.7`, // reordered: sent before U3
    `${U(9)}, 1600, 50002, 5009, 198.51.100.7`, // stranger
    `${U(2)}, 1610, 50003, 5001, 198.51.100.7`, // the phone said F
    `${U(1)}, 1620, 50001, 5000, 198.51.100.7`, // server duplicate
    'END OF MESSAGE, 1700, 50010, 5000, 198.51.100.7', // control
  ].join('\r\n');
  writeFiles(raw, {
    'camp/CarrierA/client-1.csv': client,
    'camp/CarrierA/server-1.csv': `\uFEFF${server}\r\n`,
    'camp/trials-naive.csv': 'carrier_a,carrier_b,strategy,trial,outcome,packets\nCarrierA,CarrierA,naive,1,S,1200\nCarrierA,CarrierA,naive,2,F\nCarrierA,CarrierA,clever,3,F,\n',
  });
}

function readSummary(derived: string, carrier: string): CarrierSummary {
  return JSON.parse(fs.readFileSync(path.join(derived, 'camp', 'summary', `${carrier}.json`), 'utf8')) as CarrierSummary;
}

describe('join', () => {
  it('accounts for every row of a hand-made carrier in exactly one count', async () => {
    const p = tempProject();
    handMadeCampaign(p.raw);
    await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    const s = readSummary(p.derived, 'CarrierA');
    expect(s.counts).toEqual({
      clientRows: 5, failed: 1, sent: 3, clientDuplicates: 1,
      serverRows: 5, joined: 2, lost: 1, strangers: 1, failedSeen: 1, serverDuplicates: 1,
      controlRows: 1, rejected: 5,
    });
    expect(s.outOfOrder).toEqual({ rows: 1, fraction: 0.5 });
    expect(s.clockOffsetMs?.median).toBe(430);
    expect(s.files.map((f) => f.path)).toEqual(['camp/CarrierA/client-1.csv', 'camp/CarrierA/server-1.csv']);
  });

  it('writes joined rows in send order with extra columns kept', async () => {
    const p = tempProject();
    handMadeCampaign(p.raw);
    await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    const joined = joinedCsv(p.derived, 'camp', 'CarrierA').trim().split('\n');
    expect(joined).toEqual([
      'uuid,run,send_seq,send_time,recv_time,local_port,dest_port,external_port,server_port,Sender IP',
      `${U(1)},1,0,1000,1400,40000,5000,50001,5000,198.51.100.7`,
      `${U(3)},1,1,1040,1500,0,5002,50000,5002,198.51.100.7`,
    ]);
  });

  it('names file, line and reason for each rejected row', async () => {
    const p = tempProject();
    handMadeCampaign(p.raw);
    await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    const text = fs.readFileSync(path.join(p.derived, 'camp', 'rejects.csv'), 'utf8');
    expect(text.split('\n')[0]).toBe('file,line,reason,raw');
    // csv-parse reads our output back: an independent check that quoting is right.
    const rejects = (parse(text, { from_line: 2 }) as string[][]).map((r) => r.join(' | '));
    const rows = rejects.map((r) => r.split(' | ').slice(0, 2).join(':'));
    expect(rows).toEqual([
      'camp/CarrierA/client-1.csv:7', 'camp/CarrierA/client-1.csv:8', 'camp/CarrierA/client-1.csv:9', 'camp/CarrierA/client-1.csv:10',
      'camp/CarrierA/server-1.csv:2',
      'camp/trials-naive.csv:4',
    ]);
    expect(rejects[0]).toContain('is not a UUID');
    expect(rejects[1]).toContain('is not a number');
    expect(rejects[2]).toContain('outside 0..65535');
    expect(rejects[3]).toContain('expected 5 columns, got 4');
    expect(rejects[4]).toContain('could not bind port 17');
    expect(rejects[5]).toContain('strategy "clever" is not naive or biased | CarrierA,CarrierA,clever,3,F,');
  });

  it('gives byte-identical outputs for the same inputs', async () => {
    const a = tempProject();
    const b = tempProject();
    handMadeCampaign(a.raw);
    handMadeCampaign(b.raw);
    await runPipeline({ paths: a, ...FAST_RUN }, recordingLogger());
    await runPipeline({ paths: b, ...FAST_RUN }, recordingLogger());
    const strip = (snap: Record<string, string>) => Object.fromEntries(Object.entries(snap).filter(([k]) => !k.includes('hashes.json')));
    expect(strip(snapshot(a.derived))).toEqual(strip(snapshot(b.derived)));
  });

  it('reruns nothing when nothing changed, and only what a change touches', async () => {
    const p = tempProject();
    handMadeCampaign(p.raw);
    const first = await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    expect(first.map((r) => r.ran)).toEqual([true, true, true, true, true]);
    const log = recordingLogger();
    const second = await runPipeline({ paths: p, ...FAST_RUN }, log);
    expect(second.map((r) => r.ran)).toEqual([false, false, false, false, false]);
    expect(log.lines.at(-1)).toMatch(/nothing to do/);
    fs.appendFileSync(path.join(p.raw, 'camp', 'CarrierA', 'client-1.csv'), `${U(10)}, 2000, 40010, 5000, S\n`);
    const third = await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    expect(third.map((r) => r.ran)).toEqual([true, true, true, true, true]);
    expect(readSummary(p.derived, 'CarrierA').counts.lost).toBe(2);
    fs.rmSync(path.join(p.derived, 'camp', 'joined', 'CarrierA.cols'));
    const fourth = await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    expect(fourth.map((r) => [r.stage, r.ran])).toEqual([['ingest', false], ['join', true], ['fit', false], ['evaluate', false], ['bias', false]]);
  });

  it('stops with file and line when a header names the wrong columns', async () => {
    const p = tempProject();
    writeFiles(p.raw, { 'camp/C/client-1.csv': 'id, when, port\nx, 1, 2\n', 'camp/C/server-1.csv': 'Message id, Time, Sender Port, Receiver Port\n' });
    await expect(runPipeline({ paths: p, ...FAST_RUN }, recordingLogger())).rejects.toThrow(InputError);
    await expect(runPipeline({ paths: p, ...FAST_RUN }, recordingLogger())).rejects.toThrow(/^camp\/C\/client-1\.csv:1: header does not name the columns "Message id", "Time"/);
    expect(fs.existsSync(path.join(p.derived, 'camp', 'ingest'))).toBe(false);
  });
});
