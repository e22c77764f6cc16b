/**
 * Row contracts: what the writers put on disk (checked against hand-written bytes),
 * that readers give the rows back by column name, and that a damaged file is refused
 * with its file, record and reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CLIENT_ROWS, type ClientRow } from '../../pipeline/contracts/ingest-rows.ts';
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
      for (const r of rows) w.write(r);
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
