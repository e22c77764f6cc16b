/**
 * JSON contracts: the shipped schemas are the ones the types generate, and a reader or
 * writer refuses a file that breaks its contract, naming the file and the field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSchemas } from '../../pipeline/contracts/generate-schemas.ts';
import { MATRIX, type SuccessMatrix } from '../../pipeline/contracts/matrix.ts';
import { replaceFolder } from '../../pipeline/contracts/folder.ts';
import { silentLogger } from '../../pipeline/context.ts';
import { InputError } from '../../pipeline/errors.ts';
import { tempDir } from '../helpers/tempdir.ts';

const SCHEMAS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'pipeline', 'contracts', 'schemas');

function project() {
  const root = tempDir('json');
  return { campaign: 'camp', paths: { raw: path.join(root, 'raw'), derived: path.join(root, 'derived'), reports: path.join(root, 'reports') }, log: silentLogger };
}

const matrix = (): SuccessMatrix => ({
  schema: 'natatlas.matrix/1', campaign: 'camp', carriers: ['A', 'B'], strategies: ['naive'],
  cells: [{ a: 'A', b: 'B', strategy: 'naive', trials: 2, successes: 1, outcomes: 'SF', rate: 0.5, wilson: [0.1, 0.9], meanPackets: null, predicted: null }],
});

/** The message a read of `text` as matrix.json fails with. */
async function refusal(text: string): Promise<string> {
  const ctx = project();
  fs.mkdirSync(path.join(ctx.paths.derived, 'camp', 'evaluate'), { recursive: true });
  fs.writeFileSync(path.join(ctx.paths.derived, 'camp', 'evaluate', 'matrix.json'), text);
  try {
    MATRIX.read(ctx);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('read did not refuse');
}

describe('JSON contracts', () => {
  it('ship the schemas their types generate (run `npm run schema` after changing a type)', () => {
    const generated = generateSchemas();
    expect(Object.keys(generated).sort()).toEqual(fs.readdirSync(SCHEMAS).sort());
    for (const [file, text] of Object.entries(generated)) expect({ file, text: fs.readFileSync(path.join(SCHEMAS, file), 'utf8') }).toEqual({ file, text });
  });

  it('write sorted keys and read back the same value', async () => {
    const ctx = project();
    await replaceFolder(ctx, 'evaluate', async (out) => {
      await MATRIX.write(out, matrix());
    });
    const text = fs.readFileSync(path.join(ctx.paths.derived, 'camp', 'evaluate', 'matrix.json'), 'utf8');
    expect(text.indexOf('"campaign"')).toBeLessThan(text.indexOf('"carriers"'));
    expect(text.indexOf('"carriers"')).toBeLessThan(text.indexOf('"cells"'));
    expect(text.endsWith('}\n')).toBe(true);
    expect(MATRIX.read(ctx)).toEqual(matrix());
  });

  it('refuse a file of another version, a field of the wrong type and broken JSON, naming file and field', async () => {
    expect(await refusal(JSON.stringify({ ...matrix(), schema: 'natatlas.matrix/2' })))
      .toBe('derived/camp/evaluate/matrix.json: schema "natatlas.matrix/2", this natatlas reads natatlas.matrix/1: rerun `natatlas evaluate`');
    const bad = matrix();
    Object.assign(bad.cells[0]!, { trials: 'two' });
    expect(await refusal(JSON.stringify(bad))).toMatch(/^derived\/camp\/evaluate\/matrix\.json: fails the natatlas\.matrix\/1 contract: \/cells\/0\/trials must be number; rerun `natatlas evaluate`$/);
    expect(await refusal(JSON.stringify({ ...matrix(), extra: 1 }))).toMatch(/must NOT have additional properties/);
    expect(await refusal('{"schema": "natatlas.matrix/1",')).toMatch(/^derived\/camp\/evaluate\/matrix\.json: not valid JSON \(/);
  });

  it('refuse to write a value its type does not allow (a NaN rate would land as null)', async () => {
    const ctx = project();
    const bad = matrix();
    bad.cells[0]!.rate = NaN;
    await expect(replaceFolder(ctx, 'evaluate', async (out) => {
      await MATRIX.write(out, bad);
    })).rejects.toThrow(/evaluate\/matrix\.json: natatlas built a natatlas\.matrix\/1 file that fails its own contract, not written: \/cells\/0\/rate must be number/);
    expect(fs.existsSync(path.join(ctx.paths.derived, 'camp', 'evaluate'))).toBe(false);
  });

  it('refuse a writer in another stage\'s folder', async () => {
    const ctx = project();
    await expect(replaceFolder(ctx, 'fit', async (out) => {
      await MATRIX.write(out, matrix());
    })).rejects.toThrow('a file of evaluate/ cannot be written into the fit/ folder');
  });
});
