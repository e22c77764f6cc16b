/**
 * Row contracts: what the column writers put on disk (checked against a hand-computed
 * layout: offsets, little-endian words), that readers give the rows back, that the byte
 * and typed writers write the same bytes, that the joined CSV export is the CSV written
 * by hand, and that a damaged, truncated or foreign file is refused with its file and
 * the command to rerun.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  CLIENT_ROWS, ExtrasBytes, SERVER_ROWS, type ClientRow, type ClientRowFromBytes, type ServerRow, type ServerRowFromBytes,
} from '../../pipeline/contracts/ingest-rows.ts';
import { INGEST_SCHEMA, type FileRecord, type IngestManifest } from '../../pipeline/contracts/manifest.ts';
import { ByteFields } from '../../pipeline/io/byte-fields.ts';
import { UuidIndex } from '../../pipeline/stages/uuid-index.ts';
import { JOINED, joinedExtraColumns, type JoinedRow } from '../../pipeline/contracts/joined.ts';
import { replaceFolder, type OutputFolder } from '../../pipeline/contracts/folder.ts';
import { silentLogger } from '../../pipeline/context.ts';
import { FileNames } from '../../pipeline/io/names.ts';
import { InputError } from '../../pipeline/errors.ts';
import { tempDir } from '../helpers/tempdir.ts';

function project() {
  const root = tempDir('rows');
  return { campaign: 'camp', paths: { raw: path.join(root, 'raw'), derived: path.join(root, 'derived'), reports: path.join(root, 'reports') }, log: silentLogger };
}

const U1 = '00000000-0000-4000-8000-000000000001';
const U2 = '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3';
const names = new FileNames(['C'], 'carrier');
/** A run name that is no plain file name (comma, slash, space): its file gets a hashed stem. */
const ODD_RUN = 'a,b/ c';

function record(kind: 'client' | 'server', run: string): FileRecord {
  return { path: `camp/C/${kind}-${run}.csv`, sha256: '', kind, carrier: 'C', run, lines: 0, header: true, blank: 0, rows: 0, control: 0, rejected: 0, extraColumns: [] };
}

/** The manifest a reader needs: which raw files (runs) the carrier had, in order. */
function manifest(runs: string[]): IngestManifest {
  return {
    schema: INGEST_SCHEMA, campaign: 'camp', files: [...runs.map((r) => record('client', r)), ...runs.map((r) => record('server', r))],
    carriers: { C: { runs, clientRows: 0, failed: 0, sent: 0, serverRows: 0, control: 0, rejected: 0, timeoutProbes: 0, natType: false, clientExtraColumns: [], serverExtraColumns: [] } },
    trials: { rows: 0, rejected: 0 }, rejected: 0,
  };
}

const clientRows: ClientRow[] = [
  { run: '01', line: 2, uuid: U1, time: 1700000000000, localPort: 40000, destPort: 5000, status: 'S', extra: null },
  { run: ODD_RUN, line: 3, uuid: U2, time: 1700000000020.5, localPort: 0, destPort: 5001, status: 'F', extra: { 'Sender IP': '10.0.0.1' } },
  { run: ODD_RUN, line: 4, uuid: U1, time: 1700000000040, localPort: 65535, destPort: 5001, status: 'S', extra: { 'Sender IP': '10.0.0.1' } },
];

/** Write `rows` one file per run, as ingest does. */
async function writeClient(ctx: ReturnType<typeof project>, rows: ClientRow[]): Promise<IngestManifest> {
  const runs = [...new Set(rows.map((r) => r.run))];
  const stems = CLIENT_ROWS.runNames(runs);
  await replaceFolder(ctx, 'ingest', async (out: OutputFolder) => {
    for (const run of runs) {
      const w = CLIENT_ROWS.open(out, 'C', stems.stem(run), run);
      for (const r of rows.filter((x) => x.run === run)) w.write(r);
      w.commit();
    }
  });
  return manifest(runs);
}

function clientFile(ctx: ReturnType<typeof project>, run: string, runs: string[]): string {
  return path.join(ctx.paths.derived, 'camp', ...CLIENT_ROWS.units(manifest(runs), names, 'C')[runs.indexOf(run)]!.split('/'));
}

function readClient(ctx: ReturnType<typeof project>, m: IngestManifest): ClientRow[] {
  const out: ClientRow[] = [];
  CLIENT_ROWS.forEach(ctx, m, 'C', (r) => out.push({ ...r, extra: r.extra === null ? null : { ...r.extra } }));
  return out;
}

describe('client rows', () => {
  it('are written in the documented layout: header, metadata, 8-aligned little-endian columns', async () => {
    const ctx = project();
    await writeClient(ctx, clientRows.slice(0, 1));
    const bytes = fs.readFileSync(clientFile(ctx, '01', ['01']));
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('NATCOLS\n');
    expect(bytes.readUInt32LE(8)).toBe(1);
    const metaLength = bytes.readUInt32LE(12);
    const meta = JSON.parse(bytes.toString('utf8', 16, 16 + metaLength)) as { schema: string; rows: number; columns: { name: string; type: string; width: number; offset: number; bytes: number }[]; dictionaries: Record<string, string[]> };
    expect(meta.schema).toBe('natatlas.client-rows/1');
    expect(meta.rows).toBe(1);
    expect(meta.columns.map((c) => [c.name, c.type, c.width, c.bytes])).toEqual([
      ['run', 'u32', 1, 4], ['line', 'u32', 1, 4], ['uuid', 'u32', 4, 16], ['time', 'f64', 1, 8],
      ['local_port', 'u16', 1, 2], ['dest_port', 'u16', 1, 2], ['status', 'u8', 1, 1], ['extra', 'u32', 1, 4],
    ]);
    expect(meta.dictionaries).toEqual({ run: ['01'], extra: [''] });
    // Columns start 8-aligned right after the padded metadata, one after the other; the last one ends the file.
    let at = Math.ceil((16 + metaLength) / 8) * 8;
    for (const c of meta.columns) {
      expect(c.offset).toBe(at);
      at = Math.ceil((c.offset + c.bytes) / 8) * 8;
    }
    expect(bytes.length).toBe(meta.columns.at(-1)!.offset + 4);
    const col = (name: string) => meta.columns.find((c) => c.name === name)!.offset;
    expect(bytes.readUInt32LE(col('line'))).toBe(2);
    // U1 = 00000000-0000-4000-8000-000000000001: words 00000000, 00004000, 80000000, 00000001.
    expect([0, 4, 8, 12].map((k) => bytes.readUInt32LE(col('uuid') + k))).toEqual([0, 0x4000, 0x80000000, 1]);
    expect(bytes.readDoubleLE(col('time'))).toBe(1700000000000);
    expect(bytes.readUInt16LE(col('local_port'))).toBe(40000);
    expect(bytes.readUInt16LE(col('dest_port'))).toBe(5000);
    expect(bytes[col('status')]).toBe('S'.charCodeAt(0));
    expect(bytes.readUInt32LE(col('extra'))).toBe(0);
  });

  it('give back every field, one file per run in the manifest\'s order, extras and odd run names included', async () => {
    const ctx = project();
    const m = await writeClient(ctx, clientRows);
    expect(CLIENT_ROWS.units(m, names, 'C')[1]).toMatch(/^ingest\/carriers\/C\/client\/a-b-c-[0-9a-f]{8}\.cols$/);
    expect(readClient(ctx, m)).toEqual(clientRows);
    const files: number[][] = [];
    CLIENT_ROWS.forEachFile(ctx, m, 'C', (c) => files.push([c.rows, ...c.failed, ...c.extra]));
    expect(files).toEqual([[1, 0, 0], [2, 1, 0, 1, 1]]);
  });

  it('refuse a truncated, foreign or other contract\'s file, naming it and the stage to rerun', async () => {
    const ctx = project();
    const m = await writeClient(ctx, clientRows.slice(0, 1));
    const file = clientFile(ctx, '01', ['01']);
    const good = fs.readFileSync(file);
    const shown = 'derived/camp/ingest/carriers/C/client/01.cols';
    const refused = (bytes: Buffer, why: RegExp) => {
      fs.writeFileSync(file, bytes);
      let err: unknown;
      try {
        readClient(ctx, m);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(why);
      expect((err as Error).message).toContain(shown);
      expect((err as Error).message).toContain('rerun `natatlas ingest`');
    };
    refused(good.subarray(0, good.length - 1), /truncated/);
    refused(good.subarray(0, 12), /no NATCOLS header/);
    refused(Buffer.concat([Buffer.from('run,line,uuid\n'), good.subarray(14)]), /no NATCOLS header/);
    refused(Buffer.concat([good, Buffer.alloc(8)]), /8 bytes after its last column/);
    const bad = Buffer.from(good);
    bad.writeUInt32LE(7, 8);
    refused(bad, /layout version 7/);
    // A server file where a client file belongs: another schema.
    const other = project();
    await replaceFolder(other, 'ingest', async (out) => {
      const w = SERVER_ROWS.open(out, 'C', '01', '01');
      w.write({ run: '01', line: 2, kind: 'packet', uuid: U1, time: 1, externalPort: 1, serverPort: 1, extra: null });
      w.commit();
    });
    const serverFile = path.join(other.paths.derived, 'camp', 'ingest', 'carriers', 'C', 'server', '01.cols');
    refused(fs.readFileSync(serverFile), /holds "natatlas.server-rows\/1", expected "natatlas.client-rows\/1"/);
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
  it('write the same file as the typed writer: UUID in either case, extras as their JSON text', async () => {
    const byBytes = project();
    const byRows = project();
    const f = rawFields('0A1B2C3D-4E5F-4A6B-8C7D-8E9FA0B1C2D3, 1700000000000, 40000, 5000, S, 10.0.0.1');
    const extras = ExtrasBytes.of(['Sender IP'], [5])!;
    expect(extras.text(f)).toBe(JSON.stringify({ 'Sender IP': '10.0.0.1' }));
    const serverRows: ServerRow[] = [
      { run: ODD_RUN, line: 3, kind: 'packet', uuid: U2, time: 1700000000500, externalPort: 50000, serverPort: 5000, extra: { 'Sender IP': '10.0.0.1' } },
      { run: ODD_RUN, line: 4, kind: 'end-marker', uuid: '', time: 1700000000500, externalPort: 50000, serverPort: 5000, extra: { 'Sender IP': '10.0.0.1' } },
    ];
    const stem = CLIENT_ROWS.runNames([ODD_RUN]).stem(ODD_RUN);
    await replaceFolder(byBytes, 'ingest', async (out) => {
      const client = CLIENT_ROWS.open(out, 'C', stem, ODD_RUN);
      const row: ClientRowFromBytes = { line: 7, time: 1700000000000, f, uuidField: 0, extras, localPort: 40000, destPort: 5000, status: 'F' };
      client.writeBytes(row);
      client.commit();
      const server = SERVER_ROWS.open(out, 'C', stem, ODD_RUN);
      const srow: ServerRowFromBytes = { line: 3, time: 1700000000500, f, uuidField: 0, extras, marker: false, externalPort: 50000, serverPort: 5000 };
      server.writeBytes(srow);
      srow.marker = true;
      srow.line = 4;
      server.writeBytes(srow);
      server.commit();
    });
    await replaceFolder(byRows, 'ingest', async (out) => {
      const client = CLIENT_ROWS.open(out, 'C', stem, ODD_RUN);
      client.write({ run: ODD_RUN, line: 7, uuid: U2, time: 1700000000000, localPort: 40000, destPort: 5000, status: 'F', extra: { 'Sender IP': '10.0.0.1' } });
      client.commit();
      const server = SERVER_ROWS.open(out, 'C', stem, ODD_RUN);
      for (const r of serverRows) server.write(r);
      server.commit();
    });
    for (const side of ['client', 'server']) {
      const rel = ['camp', 'ingest', 'carriers', 'C', side, `${stem}.cols`];
      expect(fs.readFileSync(path.join(byBytes.paths.derived, ...rel)).toString('latin1')).toBe(fs.readFileSync(path.join(byRows.paths.derived, ...rel)).toString('latin1'));
    }
    const back: ServerRow[] = [];
    SERVER_ROWS.forEach(byBytes, manifest([ODD_RUN]), 'C', (r) => back.push({ ...r, extra: r.extra === null ? null : { ...r.extra } }));
    expect(back).toEqual(serverRows);
  });

  it('decline extras whose JSON key order or keys the bytes could not match', () => {
    expect(ExtrasBytes.of(['zeta', '7'], [4, 5])).toBeNull();
    expect(ExtrasBytes.of(['ip', 'ip'], [4, 5])).toBeNull();
  });
});

describe('joined rows', () => {
  const extras = joinedExtraColumns(['note'], ['Sender IP']);
  const rows: JoinedRow[] = [
    { uuid: U1, run: ODD_RUN, sendSeq: 0, sendTime: 1000, recvTime: 1400.25, localPort: 40000, destPort: 5000, externalPort: 50007, serverPort: 5000, extras: ['x', '10.0.0.1'] },
    { uuid: U2, run: '01', sendSeq: 2, sendTime: 1040, recvTime: 1441, localPort: 40002, destPort: 5001, externalPort: 50014, serverPort: 5001, extras: ['', 'a "b"'] },
  ];

  async function written() {
    const ctx = project();
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
    return ctx;
  }

  it('name colliding extra columns by side and give them back by header order', async () => {
    expect(joinedExtraColumns(['Sender IP', 'note'], ['Sender IP', 'run'])).toEqual(['client.Sender IP', 'note', 'server.Sender IP', 'server.run']);
    const ctx = await written();
    let header: string[] = [];
    const back: JoinedRow[] = [];
    JOINED.forEach(ctx, names, 'C', (r) => back.push(structuredClone(r)), (h) => { header = h; });
    expect(header).toEqual(['note', 'Sender IP']);
    expect(back).toEqual(rows);
    const c = JOINED.columns(ctx, names, 'C');
    expect([c.rows, [...c.run], c.runs, [...c.externalPort], c.extras.map((e) => [e.name, [...e.ids], e.values])]).toEqual([
      2, [0, 1], [ODD_RUN, '01'], [50007, 50014], [['note', [0, 1], ['x', '']], ['Sender IP', [0, 1], ['10.0.0.1', 'a "b"']]],
    ]);
  });

  it('export as the CSV written by hand (the file format before column files)', async () => {
    const ctx = await written();
    let text = '';
    JOINED.writeCsv(ctx, names, 'C', { write: (s: string) => { text += s; }, writeBytes: (b: Uint8Array) => { text += Buffer.from(b).toString('utf8'); } });
    expect(text).toBe([
      'uuid,run,send_seq,send_time,recv_time,local_port,dest_port,external_port,server_port,note,Sender IP',
      `${U1},"a,b/ c",0,1000,1400.25,40000,5000,50007,5000,x,10.0.0.1`,
      `${U2},01,2,1040,1441,40002,5001,50014,5001,,"a ""b"""`,
      '',
    ].join('\n'));
  });

  it('read only the columns asked for, with the values the rows were written with', async () => {
    const ctx = await written();
    const c = JOINED.columns(ctx, names, 'C', ['externalPort', 'sendSeq', 'extras']);
    expect([c.rows, c.runs, [...c.externalPort], [...c.sendSeq], c.extras.map((e) => [e.name, [...e.ids], e.values])]).toEqual([
      2, [ODD_RUN, '01'], [50007, 50014], [0, 2], [['note', [0, 1], ['x', '']], ['Sender IP', [0, 1], ['10.0.0.1', 'a "b"']]],
    ]);
    expect(Object.keys(c).filter((k) => (c as Record<string, unknown>)[k] !== undefined).sort()).toEqual(['externalPort', 'extras', 'rows', 'runs', 'sendSeq']);
    const times = JOINED.columns(ctx, names, 'C', ['recvTime']);
    expect([...times.recvTime]).toEqual([1400.25, 1441]);
  });

  it('refuse a damaged file naming it and join, whichever columns are read', async () => {
    const ctx = await written();
    const file = path.join(ctx.paths.derived, 'camp', 'joined', 'C.cols');
    const whole = fs.readFileSync(file);
    for (const cut of [200, 10, whole.length - 1]) {
      fs.writeFileSync(file, whole.subarray(0, cut));
      expect(() => JOINED.columns(ctx, names, 'C')).toThrow(/^derived\/camp\/joined\/C\.cols: .*rerun `natatlas join`$/);
      expect(() => JOINED.columns(ctx, names, 'C', ['externalPort'])).toThrow(/^derived\/camp\/joined\/C\.cols: .*rerun `natatlas join`$/);
    }
    fs.writeFileSync(file, whole);
    expect(JOINED.columns(ctx, names, 'C', ['externalPort']).rows).toBe(2);
  });
});
