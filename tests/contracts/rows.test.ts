/**
 * Row contracts: what the writers put on disk (checked against hand-written bytes),
 * that readers give the rows back by column name, and that a damaged file is refused
 * with its file, record and reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  CLIENT_ROWS, ClientRowBytes, ExtrasBytes, SERVER_ROWS, ServerRowBytes, type ClientRow, type ClientRowFromBytes, type ServerRowFromBytes,
} from '../../pipeline/contracts/ingest-rows.ts';
import { ByteFields } from '../../pipeline/io/byte-fields.ts';
import { UuidIndex } from '../../pipeline/stages/uuid-index.ts';
import { JOINED, joinedExtraColumns, type JoinedRow } from '../../pipeline/contracts/joined.ts';
import { replaceFolder } from '../../pipeline/contracts/folder.ts';
import { silentLogger } from '../../pipeline/context.ts';
import { FileNames } from '../../pipeline/io/names.ts';
import { tempDir } from '../helpers/tempdir.ts';

function project() {
  const root = tempDir('rows');
  return { campaign: 'camp', paths: { raw: path.join(root, 'raw'), derived: path.join(root, 'derived'), reports: path.join(root, 'reports') }, log: silentLogger };
}

const U1 = '00000000-0000-4000-8000-000000000001';
const U2 = '00000000-0000-4000-8000-000000000002';
const names = new FileNames(['C'], 'carrier');

const clientRows: ClientRow[] = [
  { run: '01', line: 2, uuid: U1, time: 1700000000000, localPort: 40000, destPort: 5000, status: 'S', extra: null },
  { run: 'a,b', line: 3, uuid: U2, time: 1700000000020.5, localPort: 0, destPort: 5001, status: 'F', extra: { 'Sender IP': '10.0.0.1' } },
];

async function readAll<T>(forEach: (onRow: (r: Readonly<T>) => void) => Promise<number>): Promise<T[]> {
  const out: T[] = [];
  await forEach((r) => out.push(structuredClone(r)));
  return out;
}

describe('client rows', () => {
  it('are written as fixed columns, quoted only where needed, extras as one JSON field', async () => {
    const ctx = project();
    await replaceFolder(ctx, 'ingest', async (out) => {
      const w = CLIENT_ROWS.open(out, 'C');
      for (const r of clientRows) w.write(r);
      w.commit();
    });
    expect(fs.readFileSync(CLIENT_ROWS.file(ctx, names, 'C'), 'utf8')).toBe([
      'run,line,uuid,time,local_port,dest_port,status,extra',
      `01,2,${U1},1700000000000,40000,5000,S,`,
      `"a,b",3,${U2},1700000000020.5,0,5001,F,"{""Sender IP"":""10.0.0.1""}"`,
      '',
    ].join('\n'));
    const back = await readAll<ClientRow>((f) => CLIENT_ROWS.forEach(ctx, names, 'C', f));
    expect(back.map((r) => ({ ...r, extra: r.extra === null ? null : { ...r.extra } }))).toEqual(clientRows);
  });

  it('refuse a damaged file, naming file, record and column', async () => {
    const ctx = project();
    const file = path.join(ctx.paths.derived, 'camp', 'ingest', 'carriers', 'C', 'client.csv');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `run,line,uuid,time,local_port,dest_port,status,extra\n01,2,${U1},1,40000,5000,S,\n01,3,${U2},2,70000,5000,S,\n`);
    await expect(CLIENT_ROWS.forEach(ctx, names, 'C', () => {})).rejects.toThrow(
      'derived/camp/ingest/carriers/C/client.csv:3: local_port "70000" is not a port (0..65535): the file is damaged or from another natatlas; rerun `natatlas ingest`');
    fs.writeFileSync(file, `uuid,run,time\n${U1},01,1\n`);
    await expect(CLIENT_ROWS.forEach(ctx, names, 'C', () => {})).rejects.toThrow(
      'derived/camp/ingest/carriers/C/client.csv:1: header "uuid,run,time" does not start with "run,line,uuid,time,local_port,dest_port,status,extra": written by another natatlas; rerun `natatlas ingest`');
  });
});

/** A raw capture line split as ingest's byte path splits it. */
function rawFields(line: string): ByteFields {
  const f = new ByteFields(16);
  const buf = Buffer.from(line, 'latin1');
  if (!f.split(buf, 0, buf.length, true)) throw new Error(`not a plain line: ${line}`);
  return f;
}

describe('client and server rows by bytes', () => {
  it('write the bytes written by hand: UUID lower-cased, run quoted, kind words, extras as one JSON field', async () => {
    const ctx = project();
    const f = rawFields('00000000-0000-4000-8000-00000000000A, 1700000000000, 40000, 5000, S, 10.0.0.1');
    const extras = ExtrasBytes.of(['Sender IP'], [5])!;
    await replaceFolder(ctx, 'ingest', async (out) => {
      const client = CLIENT_ROWS.open(out, 'C');
      const row: ClientRowFromBytes = { run: 'a,b', line: 7, time: 1700000000000, f, uuidField: 0, extras, localPort: 40000, destPort: 5000, status: 'F' };
      client.writeBytes(row);
      client.commit();
      const server = SERVER_ROWS.open(out, 'C');
      const srow: ServerRowFromBytes = { run: '01', line: 3, time: 1700000000500, f, uuidField: 0, extras: ExtrasBytes.of([], [])!, marker: false, externalPort: 50000, serverPort: 5000 };
      server.writeBytes(srow);
      srow.marker = true;
      srow.line = 4;
      server.writeBytes(srow);
      server.commit();
    });
    const u = '00000000-0000-4000-8000-00000000000a';
    expect(fs.readFileSync(CLIENT_ROWS.file(ctx, names, 'C'), 'utf8')).toBe([
      'run,line,uuid,time,local_port,dest_port,status,extra',
      `"a,b",7,${u},1700000000000,40000,5000,F,"{""Sender IP"":""10.0.0.1""}"`,
      '',
    ].join('\n'));
    expect(fs.readFileSync(SERVER_ROWS.file(ctx, names, 'C'), 'utf8')).toBe([
      'run,line,kind,uuid,time,external_port,server_port,extra',
      `01,3,packet,${u},1700000000500,50000,5000,`,
      '01,4,end-marker,,1700000000500,50000,5000,',
      '',
    ].join('\n'));
  });

  it('decline extras whose JSON key order or keys the bytes could not match', () => {
    expect(ExtrasBytes.of(['zeta', '7'], [4, 5])).toBeNull();
    expect(ExtrasBytes.of(['ip', 'ip'], [4, 5])).toBeNull();
  });

  it('read back field by field, runs and extras as ids, UUIDs as index words', async () => {
    const ctx = project();
    await replaceFolder(ctx, 'ingest', async (out) => {
      const w = CLIENT_ROWS.open(out, 'C');
      for (const r of [...clientRows, { ...clientRows[0]!, line: 4, extra: { 'Sender IP': '10.0.0.1' } }]) w.write(r);
      w.commit();
    });
    const seen: unknown[] = [];
    const view = new ClientRowBytes();
    const words = new Uint32Array(4);
    const index = new UuidIndex(1);
    for (const bytePath of [true, false]) {
      await CLIENT_ROWS.forEachBytes(ctx, names, 'C', view, (r) => {
        expect(r.uuidWords(words, 0)).toBe(true);
        index.setProbe(r.uuidText());
        expect([...words]).toEqual([...index.probe]);
        seen.push([bytePath, r.uuidText(), r.run(), r.time(), r.localPort(), r.destPort(), r.failed(), r.extra()]);
      }, bytePath);
    }
    const expected = [
      [U1, 0, 1700000000000, 40000, 5000, false, 0],
      [U2, 1, 1700000000020.5, 0, 5001, true, 1],
      [U1, 0, 1700000000000, 40000, 5000, false, 1],
    ];
    expect(seen).toEqual([...expected.map((e) => [true, ...e]), ...expected.map((e) => [false, ...e])]);
    expect(view.runs.values).toEqual(['01', 'a,b']);
    expect(view.extras.values.map((e) => (e === null ? null : { ...e }))).toEqual([null, { 'Sender IP': '10.0.0.1' }]);
  });

  it('refuse a damaged file with the typed reader\'s message', async () => {
    const ctx = project();
    const file = path.join(ctx.paths.derived, 'camp', 'ingest', 'carriers', 'C', 'server.csv');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const read = () => SERVER_ROWS.forEachBytes(ctx, names, 'C', new ServerRowBytes(), (r) => {
      if (!r.isEndMarker()) r.externalPort();
    });
    fs.writeFileSync(file, `run,line,kind,uuid,time,external_port,server_port,extra\n01,2,packet,${U1},1,50000,5000,\n01,3,packet,${U2},2,70000,5000,\n`);
    await expect(read()).rejects.toThrow(
      'derived/camp/ingest/carriers/C/server.csv:3: external_port "70000" is not a port (0..65535): the file is damaged or from another natatlas; rerun `natatlas ingest`');
    fs.writeFileSync(file, `run,line,kind,uuid,time,external_port,server_port,extra\n01,2,pakket,${U1},1,50000,5000,\n`);
    await expect(read()).rejects.toThrow(
      'derived/camp/ingest/carriers/C/server.csv:2: kind "pakket" is not one of packet, end-marker: the file is damaged or from another natatlas; rerun `natatlas ingest`');
    fs.writeFileSync(file, `uuid,run,time\n${U1},01,1\n`);
    await expect(read()).rejects.toThrow(
      'derived/camp/ingest/carriers/C/server.csv:1: header "uuid,run,time" does not start with "run,line,kind,uuid,time,external_port,server_port,extra": written by another natatlas; rerun `natatlas ingest`');
  });
});

describe('joined rows', () => {
  it('name colliding extra columns by side and give them back by header order', async () => {
    expect(joinedExtraColumns(['Sender IP', 'note'], ['Sender IP', 'run'])).toEqual(['client.Sender IP', 'note', 'server.Sender IP', 'server.run']);
    const ctx = project();
    const extras = joinedExtraColumns(['note'], ['Sender IP']);
    const rows: JoinedRow[] = [
      { uuid: U1, run: '01', sendSeq: 0, sendTime: 1000, recvTime: 1400.25, localPort: 40000, destPort: 5000, externalPort: 50007, serverPort: 5000, extras: ['x', '10.0.0.1'] },
      { uuid: U2, run: '01', sendSeq: 2, sendTime: 1040, recvTime: 1441, localPort: 40002, destPort: 5001, externalPort: 50014, serverPort: 5001, extras: ['', 'a "b"'] },
    ];
    await replaceFolder(ctx, 'joined', async (out) => {
      const w = JOINED.open(out, 'C', extras);
      w.write(rows[0]!);
      // The second row by its UUID's index words: the same bytes as write().
      const index = new UuidIndex(1);
      index.setProbe(rows[1]!.uuid);
      const { uuid: _, ...rest } = rows[1]!;
      w.writeWords({ ...rest, words: index.probe, at: 0 });
      w.commit();
    });
    expect(fs.readFileSync(path.join(ctx.paths.derived, 'camp', 'joined', 'C.csv'), 'utf8')).toBe([
      'uuid,run,send_seq,send_time,recv_time,local_port,dest_port,external_port,server_port,note,Sender IP',
      `${U1},01,0,1000,1400.25,40000,5000,50007,5000,x,10.0.0.1`,
      `${U2},01,2,1040,1441,40002,5001,50014,5001,,"a ""b"""`,
      '',
    ].join('\n'));
    let header: string[] = [];
    const back = await readAll<JoinedRow>((f) => JOINED.forEach(ctx, names, 'C', f, (h) => { header = h; }));
    expect(header).toEqual(['note', 'Sender IP']);
    expect(back).toEqual(rows);
  });
});
