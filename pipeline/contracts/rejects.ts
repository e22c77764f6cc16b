/**
 * Contract `rejects.csv` (written by ingest): every raw row that could not be read,
 * with its file, line, the reason and the row itself (cut at MAX_RAW characters).
 */
import fs from 'node:fs';
import type { StageContext } from '../context.ts';
import { csvRow } from '../io/csv.ts';
import { sha256File } from '../io/hash.ts';
import { derivedFile, fixedFile, type Contract } from './folder.ts';
import { shownRel } from './json.ts';
import { FormattedRowWriter, intField, readTable, type RowWriter } from './rows.ts';

export const REJECT_COLUMNS = ['file', 'line', 'reason', 'raw'] as const;
/** Characters of a rejected row kept in the file. */
export const MAX_RAW = 1000;

export interface RejectRow {
  /** The raw file, relative to the raw root (`sample/KPN/server-01.csv`). */
  file: string;
  line: number;
  reason: string;
  raw: string;
}

const REL = 'rejects.csv';

export const REJECTS = {
  ...fixedFile('rejects', REL, 'ingest'),

  /** The campaign's rejects file, written in place atomically (it sits beside the stage folders, not in one). */
  open(ctx: StageContext): { writer: RowWriter<RejectRow>; file: string } {
    const file = derivedFile(ctx, REL);
    const writer = new FormattedRowWriter<RejectRow>(file, REJECT_COLUMNS, (r) => `${csvRow([r.file, r.line, r.reason, r.raw.length > MAX_RAW ? `${r.raw.slice(0, MAX_RAW)}...` : r.raw])}\n`);
    return { writer, file };
  },

  /** sha256 of the file as stored, or null when there is none (for provenance lists). */
  async sha256(ctx: StageContext): Promise<string | null> {
    const file = derivedFile(ctx, REL);
    return fs.existsSync(file) ? sha256File(file) : null;
  },

  /** Stream every reject row (none when ingest found none to write); `row` is reused. */
  async forEach(ctx: StageContext, onRow: (row: Readonly<RejectRow>) => void): Promise<number> {
    const file = derivedFile(ctx, REL);
    if (!fs.existsSync(file)) return 0;
    const row: RejectRow = { file: '', line: 0, reason: '', raw: '' };
    return readTable(file, { label: shownRel(ctx, REL), writtenBy: 'ingest' }, REJECT_COLUMNS, (f, at) => {
      row.file = f[0]!;
      row.line = intField(f, 1, 'line', at);
      row.reason = f[2] ?? '';
      row.raw = f[3] ?? '';
      onRow(row);
    });
  },
} satisfies Contract & Record<string, unknown>;
