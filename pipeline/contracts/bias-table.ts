/**
 * Contract `bias/<carrier>.json` (written by bias): the table engines import. Its type,
 * generated JSON Schema, invariants and validating reader live in the workspace package
 * `@natatlas/bias` (pipeline/bias/), which engines install alone; this module is the
 * pipeline's door to those files: the writer refuses a table that fails the contract,
 * the reader is the package's `readBiasTable`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BiasTableError, parseBiasTable, readBiasTable, validateBiasTable, type BiasTable } from '@natatlas/bias';
import type { StageContext } from '../context.ts';
import { InputError, NatatlasError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { errnoOf } from '../io/fs-errors.ts';
import { sha256Text } from '../io/hash.ts';
import { stableStringify } from '../io/json.ts';
import { derivedFile, filesUnder, type Contract, type OutputFolder } from './folder.ts';
import { shownRel, type Read } from './json.ts';

const MAX_PROBLEMS = 5;

/** A bias table file anywhere (e.g. `natatlas punch --bias-a FILE`), validated; errors as InputError naming the file. */
export function readBiasTableFile(file: string, label = file): BiasTable {
  try {
    return readBiasTable(file);
  } catch (e) {
    if (e instanceof BiasTableError) throw new InputError(label, e.line, e.reason);
    throw e;
  }
}

function readBiasTableText(file: string, label: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoOf(e)?.code === 'ENOENT') throw new InputError(label, undefined, 'missing: run `natatlas bias` first');
    throw e;
  }
}

export const BIAS_TABLES = {
  name: 'bias table',
  pattern: 'bias/<carrier>.json',
  writtenBy: 'bias',
  files: (ctx: StageContext): string[] => filesUnder(ctx, 'bias').filter((f) => f.endsWith('.json') && path.basename(f) !== 'index.json'),

  /** Validate and write one carrier's table into the folder being built; returns the text and its sha256. */
  async write(out: OutputFolder, stem: string, table: BiasTable, label: string): Promise<{ text: string; sha256: string }> {
    const problems = validateBiasTable(table);
    if (problems.length > 0) {
      throw new NatatlasError(`bias table for ${label} fails the contract, not written: ${problems.slice(0, MAX_PROBLEMS).join('; ')}${problems.length > MAX_PROBLEMS ? ` (+${problems.length - MAX_PROBLEMS} more)` : ''}`);
    }
    const text = stableStringify(table);
    await writeFileAtomic(out.file('bias', `${stem}.json`), text);
    return { text, sha256: sha256Text(text) };
  },

  exists: (ctx: StageContext, stem: string): boolean => fs.existsSync(derivedFile(ctx, `bias/${stem}.json`)),

  /** `bias/<stem>.json` of the campaign, validated, with the sha256 of its bytes. */
  readHashed(ctx: StageContext, stem: string): Read<BiasTable> {
    const rel = `bias/${stem}.json`;
    const label = shownRel(ctx, rel);
    const text = readBiasTableText(derivedFile(ctx, rel), label);
    try {
      return { value: parseBiasTable(text, label), sha256: sha256Text(text) };
    } catch (e) {
      if (e instanceof BiasTableError) throw new InputError(label, e.line, e.reason);
      throw e;
    }
  },
} satisfies Contract & Record<string, unknown>;
