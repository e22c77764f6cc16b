/**
 * Per-unit reuse (pipeline/units.ts): a unit whose key is unchanged keeps its files
 * from the previous run; a changed key, a file edited since, or --force recompute it.
 */
import { describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { silentLogger, type StageContext } from '../pipeline/context.ts';
import { replaceFolder } from '../pipeline/contracts/folder.ts';
import { UnitLedger } from '../pipeline/units.ts';
import { tempDir } from './helpers/tempdir.ts';

const CODE = new URL('../pipeline/units.ts', import.meta.url);

function context(recompute = false): StageContext {
  const root = tempDir('units');
  return { campaign: 'c', paths: { raw: path.join(root, 'raw'), derived: path.join(root, 'derived'), reports: path.join(root, 'reports') }, log: silentLogger, recompute };
}

/** One stage run over units `a` and `b` with the given inputs; returns which units were built. */
async function runOnce(ctx: StageContext, inputs: Record<string, string>): Promise<string[]> {
  const ledger = UnitLedger.open({ ...ctx }, 'fit', CODE);
  const built: string[] = [];
  await replaceFolder(ctx, 'fit', async (out) => {
    for (const unit of Object.keys(inputs).sort()) {
      const key = ledger.key({ input: inputs[unit] });
      if (await ledger.reuse(unit, key, [out])) continue;
      fs.writeFileSync(out.file('fit', `${unit}.json`), `output of ${inputs[unit]}`);
      await ledger.record(unit, key, [{ out, rel: `${unit}.json` }]);
      built.push(unit);
    }
  });
  await ledger.save();
  return built;
}

const read = (ctx: StageContext, unit: string) => fs.readFileSync(path.join(ctx.paths.derived, 'c', 'fit', `${unit}.json`), 'utf8');

describe('UnitLedger', () => {
  test('an unchanged unit is carried over; a changed one is rebuilt', async () => {
    const ctx = context();
    expect(await runOnce(ctx, { a: '1', b: '1' })).toEqual(['a', 'b']);
    expect(await runOnce(ctx, { a: '1', b: '2' })).toEqual(['b']);
    expect(read(ctx, 'a')).toBe('output of 1');
    expect(read(ctx, 'b')).toBe('output of 2');
    expect(await runOnce(ctx, { a: '1', b: '2' })).toEqual([]);
    expect(read(ctx, 'a')).toBe('output of 1');
  });

  test('a unit whose file was edited since is rebuilt, not carried over', async () => {
    const ctx = context();
    await runOnce(ctx, { a: '1', b: '1' });
    fs.writeFileSync(path.join(ctx.paths.derived, 'c', 'fit', 'a.json'), 'tampered');
    expect(await runOnce(ctx, { a: '1', b: '1' })).toEqual(['a']);
    expect(read(ctx, 'a')).toBe('output of 1');
  });

  test('a unit no longer present is dropped from the folder', async () => {
    const ctx = context();
    await runOnce(ctx, { a: '1', b: '1' });
    expect(await runOnce(ctx, { a: '1' })).toEqual([]);
    expect(fs.existsSync(path.join(ctx.paths.derived, 'c', 'fit', 'b.json'))).toBe(false);
  });

  test('recompute (--force) rebuilds every unit', async () => {
    const ctx = context();
    await runOnce(ctx, { a: '1', b: '1' });
    expect(await runOnce({ ...ctx, recompute: true }, { a: '1', b: '1' })).toEqual(['a', 'b']);
  });
});
