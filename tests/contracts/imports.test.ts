/**
 * Stages, the report, compare, export and verify touch derived files only through
 * pipeline/contracts/ (the rules are listed in lint.ts). The scan is shown to fail on
 * a copy of pipeline/ with one violation of each rule planted in it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tempdir.ts';
import { scanPipeline } from './lint.ts';

const PIPELINE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'pipeline');

describe('derived files only through pipeline/contracts/', () => {
  it('holds for pipeline/', () => {
    expect(scanPipeline(PIPELINE)).toEqual([]);
  });

  it('catches each kind of violation planted in a copy', () => {
    const copy = path.join(tempDir('lint'), 'pipeline');
    fs.cpSync(PIPELINE, copy, { recursive: true, filter: (src) => !src.includes(`${path.sep}dist`) });
    const plant = (rel: string, text: string) => fs.appendFileSync(path.join(copy, rel), `\n${text}\n`);
    plant('report/charts/port-histogram.ts', "import { readManifest } from '../../derived/ingested.ts';");
    plant('stages/fit.ts', "const sneaky = derivedPath(ctx, 'fit');");
    plant('compare/carrier.ts', "const raw = JSON.parse(fs.readFileSync(path.join(dir, 'evaluate', 'attack.json'), 'utf8'));");
    plant('report/data/joined.ts', "import { readRecords } from '../../io/csv.ts';");
    plant('export/kotlin.ts', 'const where = path.join(opts.derived, campaign);');
    plant('stages/join.ts', "import { ByteFields } from '../io/byte-fields.ts';");
    // Comments may name anything.
    plant('fit/families.ts', '// reads derived/<c>/joined/<carrier>.csv through derivedPath(ctx) and attack.json');
    const found = scanPipeline(copy).map((v) => `${v.file} ${v.rule}`);
    expect(found.sort()).toEqual([
      'compare/carrier.ts file-name',
      'export/kotlin.ts derived-path',
      'report/charts/port-histogram.ts old-reader',
      'report/data/joined.ts row-io',
      'stages/fit.ts derived-path',
      'stages/join.ts row-io',
    ]);
  });
});
