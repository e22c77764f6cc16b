/**
 * ingest's byte path (stages/ingest-bytes.ts, io/byte-fields.ts) against its string
 * path: on every capture file in raw/, a simulated campaign of every preset, hand-made
 * edge lines and fuzzed messy campaigns, ingest + join run once with the byte path and
 * once with every line through the string path, and every output (normalized rows'
 * column files, rejects, manifest, joined rows, summaries) must agree byte for byte
 * (CSV files field by field first, for a readable message).
 * The string path is the reference: it is the reader the rest of the suite checks
 * against hand-worked answers. Each campaign also checks that the byte path really
 * read rows, so the comparison cannot pass by the byte path declining everything.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { silentLogger, type StageContext } from '../../pipeline/context.ts';
import { ingest } from '../../pipeline/stages/ingest.ts';
import { join } from '../../pipeline/stages/join.ts';
import { findCampaigns } from '../../pipeline/raw/layout.ts';
import { preset, presetNames, simulateCampaign } from '../../pipeline/simulate/index.ts';
import { snapshot, tempDir, writeFiles } from '../helpers/tmp.ts';
import { campaignArb, renderCampaign } from '../property/captures.ts';
import { budget, TEST_TIMEOUT_MS } from '../property/budget.ts';

const REPO_RAW = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'raw');

interface Both {
  /** Rows the byte path read in the byte run. */
  byteRows: number;
  /** Data and control rows of all files (either run: the manifests are compared). */
  rows: number;
}

/** The first field where two runs' outputs differ, named by file, line and field; null when they agree. */
function firstDifference(a: Record<string, string>, b: Record<string, string>): string | null {
  const files = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const file of files) {
    const x = a[file];
    const y = b[file];
    if (x === undefined || y === undefined) return `${file}: only in the ${x === undefined ? 'string' : 'byte'} run`;
    if (x === y) continue;
    if (file.endsWith('.cols')) {
      let at = 0;
      while (at < Math.min(x.length, y.length) && x[at] === y[at]) at++;
      return `${file}: column files differ from byte ${at} (lengths ${x.length}, ${y.length}); read both with the contract's forEach to see the rows`;
    }
    if (!file.endsWith('.csv')) return `${file}: differs\nbyte:   ${x.slice(0, 2000)}\nstring: ${y.slice(0, 2000)}`;
    const rx = parse(x, { relax_column_count: true }) as string[][];
    const ry = parse(y, { relax_column_count: true }) as string[][];
    for (let i = 0; i < Math.max(rx.length, ry.length); i++) {
      const fx = rx[i] ?? [];
      const fy = ry[i] ?? [];
      for (let j = 0; j < Math.max(fx.length, fy.length); j++) {
        if (fx[j] !== fy[j]) return `${file} record ${i + 1} field ${j + 1}: byte path ${JSON.stringify(fx[j])}, string path ${JSON.stringify(fy[j])}`;
      }
    }
    return `${file}: same fields, different bytes`;
  }
  return null;
}

/** Ingest + join of `campaign` both ways into fresh folders; expects identical outputs. */
async function bothPaths(raw: string, campaign: string): Promise<Both> {
  const root = tempDir('bytes');
  const run = async (bytePath: boolean) => {
    const derived = path.join(root, bytePath ? 'bytes' : 'strings');
    const ctx: StageContext = { campaign, paths: { raw, derived, reports: path.join(root, 'reports') }, log: silentLogger };
    const result = await ingest(ctx, { bytePath });
    await join(ctx);
    const m = result.manifest;
    return { snap: snapshot(derived), byteRows: result.byteRows, rows: m.files.reduce((s, f) => s + f.rows + f.control, 0) };
  };
  const bytes = await run(true);
  const strings = await run(false);
  expect(strings.byteRows).toBe(0);
  expect(firstDifference(bytes.snap, strings.snap)).toBeNull();
  fs.rmSync(root, { recursive: true, force: true });
  return { byteRows: bytes.byteRows, rows: bytes.rows };
}

describe('byte path = string path', () => {
  it('on every campaign in raw/', async () => {
    const campaigns = findCampaigns(REPO_RAW);
    expect(campaigns).toEqual(expect.arrayContaining(['sample', 'netfilter-lab']));
    for (const c of campaigns) {
      const r = await bothPaths(REPO_RAW, c);
      // Capture rows dominate every campaign; the header-and-junk rest takes the string path.
      expect(r.byteRows).toBeGreaterThan(0.5 * r.rows);
    }
  });

  it('on a simulated campaign of every preset (Sender IP extras, end markers, failed sends, junk server lines)', async () => {
    const raw = tempDir('bytes-sim');
    await simulateCampaign({ outDir: raw, campaign: 'sim', carriers: presetNames().map((n) => preset(n)), runs: 3, packets: 1500, seed: 'bytes' });
    const r = await bothPaths(raw, 'sim');
    expect(r.byteRows).toBeGreaterThan(0.95 * r.rows);
  });

  it('on hand-made edge lines: CRLF, BOM, quotes, trailing commas, overlong lines, end markers, bad ids, odd extras', async () => {
    const raw = tempDir('bytes-edge');
    const U = (n: number) => `0000000${n % 10}-00ab-4cDE-8f00-${String(n).padStart(12, '0')}`;
    const CLIENT = 'Message id, Time, Sender Port, Receiver Port, Success';
    const crlf = (lines: string[]) => lines.join('\r\n');
    writeFiles(raw, {
      'edge/K/client-1.csv': `\uFEFF${crlf([
        CLIENT,
        `${U(1)}, 1700000000000, 40000, 5000, S`,
        `${U(2).toUpperCase()}, 1700000000020, 0, 5001, s`,
        `${U(3)},1700000000040,040001,05002,f`,
        `${U(4)}, 1700000000060, 40002, 5003, S,`,
        `"${U(5)}", 1700000000080, 40003, 5004, S`,
        `${U(6)}, 1700000000100, 40004, 5005, "S"`,
        `${U(7)}x, 1700000000110, 40004, 5005, S`,
        `${U(8).replace('a', 'g')}, 1700000000115, 40004, 5005, S`,
        'not-a-uuid, 1, 2, 3, S',
        `${U(9)}, 1700000000120, 65536, 5000, S`,
        `${U(10)}, 1700000000140, -1, 5000, S`,
        `${U(11)}, 1700000000160.5, 40005, 5006, S`,
        `${U(12)}, 1.7e12, 40006, 5007, S`,
        `${U(13)},\t1700000000180, 40006, 5007, S`,
        `${U(14)},   1700000000200  , 40007 ,5008,   S   `,
        '     ',
        '',
        `${U(15)}, 1700000000220, 40008, 5009, \u015a`,
        `${U(16)}, ${'9'.repeat(70_000)}, 40009, 5010, S`,
        `${U(17)}, 1700000000240, 40009, 5010, S`,
        `${U(18)}, 1700000000, 40010, 5011, S`,
        `${U(19)}, 5000, 40011, 5012, S`,
        `${U(1)}, 1700000000250, 40000, 5000, S`,
        `${U(20)}, 1700000000260, 40012, 5013, S, extra`,
        `${U(21)}, 1700000000270, 40013, 0, S`,
        `${U(22)}, 17000000002700000, 40013, 5014, S`,
        `${U(23)}, 1700000000280, 40014, 5015, S\\`,
        'END OF MESSAGE, 1700000001000, 40010, 5000, S',
        'END OF MESSAGE',
        `${U(24)}, 1700000000290, 40015, 5016, S`,
      ])}\r\n`,
      // Headerless, milliseconds since the capture started; a later epoch time does not fit.
      'edge/K/client-2.csv': [`${U(30)}, 1000, 40000, 5000, S`, `${U(31)}, 1020, 40001, 5001, F`, `${U(32)}, 1700000000000, 40002, 5002, S`, `${U(33)}, 1040, 40003, 5003, S`].join('\n'),
      'edge/K/server-1.csv': [
        'Message id, Time, Sender Port, Receiver Port, Sender IP, Note',
        `${U(1)}, 1700000000500, 50000, 5000, 198.51.100.1, a note`,
        `${U(2)}, 1700000000520, 50001, 5001, 198.51.100.1, `,
        `${U(3)}, 1700000000540, 50002, 5002, 198.51.100.2, back\\slash`,
        `${U(4)}, 1700000000560, 50003, 5003, "198.51.100.1", "a ""quoted"" note"`,
        `${U(6)}, 1700000000580, 50004, 5004, 198.51.100.1, caf\u00e9`,
        `${U(14)}, 1700000000600, 50005, 5005, 198.51.100.1, x`,
        `${U(14)}, 1700000000610, 50006, 5006, 198.51.100.1, duplicate`,
        `${U(17)}, 1700000000620, 0, 5007, 198.51.100.1, port 0`,
        `${U(24)}, 1700000000630, 50008, 5008, 198.51.100.1, last`,
        `${U(99)}, 1700000000640, 50009, 5009, 198.51.100.1, stranger`,
        'Failed, to, launch, 10092',
        'END OF MESSAGE, 1700000001500, 50010, 5000, 198.51.100.1, end',
        'END OF MESSAGE, 1700000001500, 99999, 5000, 198.51.100.1, unreadable port',
        'end of message, 1700000001500, 50010, 5000, 198.51.100.1, lower case',
        'END OF MESSAGE',
      ].join('\n'),
      // Extras whose JSON is not in column order (a numeric name) or holds one value for two columns.
      'edge/N/client-1.csv': [CLIENT, `${U(40)}, 1700000000000, 40000, 5000, S`, `${U(41)}, 1700000000020, 40001, 5001, S`].join('\n'),
      'edge/N/server-1.csv': ['Message id, Time, Sender Port, Receiver Port, zeta, 7', `${U(40)}, 1700000000500, 50000, 5000, z, seven`].join('\n'),
      'edge/N/server-2.csv': ['Message id, Time, Sender Port, Receiver Port, ip, ip', `${U(41)}, 1700000000520, 50001, 5001, a, b`].join('\n'),
      // Runs whose names need quoting in the normalized files, one with a line break.
      'edge/Q/client-a,b.csv': [CLIENT, `${U(50)}, 1700000000000, 40000, 5000, S`, `${U(51)}, 1700000000020, 40001, 5001, S`].join('\n'),
      'edge/Q/server-a,b.csv': ['Message id, Time, Sender Port, Receiver Port', `${U(50)}, 1700000000500, 50000, 5000`, `${U(51)}, 1700000000520, 50001, 5001`].join('\n'),
      'edge/Q/client-x\ny "z".csv': [CLIENT, `${U(52)}, 1700000000040, 40002, 5002, S`].join('\n'),
      'edge/Q/server-x\ny "z".csv': ['Message id, Time, Sender Port, Receiver Port', `${U(52)}, 1700000000540, 50002, 5002`].join('\n'),
    });
    const r = await bothPaths(raw, 'edge');
    expect(r.byteRows).toBeGreaterThan(10);
  });

  it('on fuzzed messy campaigns (every kind of bad row and surface variation)', async () => {
    const arb = campaignArb({ clientEnds: true, maxCarriers: 2, maxRuns: 2, maxPackets: 30 });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const raw = tempDir('bytes-fuzz');
        writeFiles(raw, renderCampaign(c));
        await bothPaths(raw, 'camp');
        fs.rmSync(raw, { recursive: true, force: true });
      }),
      budget(40),
    );
  }, TEST_TIMEOUT_MS);
});
