/**
 * The command line rebuilds @natatlas/bias's dist/ when a checkout moved on without
 * `npm install` (the pipeline reads tables through that build): on a copy of the
 * package, a missing build is made, a current one is left alone, and an edited source
 * reaches dist/ before anything runs.
 */
import fs from 'node:fs';
import path from 'node:path';
// @ts-expect-error plain JavaScript module of the command line, without types
import { ensureBiasBuild } from '../../pipeline/bin/bias-build.js';
import { tempDir } from '../helpers/tempdir.ts';

describe('the bias package build behind the command line', () => {
  it('builds when missing, skips when current, rebuilds after a source edit', () => {
    const root = path.join(tempDir('bias-build'), 'bias');
    fs.cpSync('pipeline/bias', root, { recursive: true, filter: (f) => !f.includes(`${path.sep}dist`) });
    // tsc finds @types/node the way the real package does: in a node_modules above it.
    fs.symlinkSync(path.resolve('node_modules'), path.join(root, '..', 'node_modules'));
    expect(ensureBiasBuild(root)).toBe(true);
    expect(fs.readFileSync(path.join(root, 'dist', 'read.js'), 'utf8')).toMatch(/BIAS_SCHEMA = 'natatlas\.bias\/\d+'/);
    expect(ensureBiasBuild(root)).toBe(false);
    const src = path.join(root, 'src', 'index.ts');
    const edit = (text: string, seconds: number) => {
      fs.writeFileSync(src, text);
      const later = new Date(Date.now() + seconds * 1000);
      fs.utimesSync(src, later, later);
    };
    const original = fs.readFileSync(src, 'utf8');
    edit(`${original}export const BUILD_PROBE = 42;\n`, 5);
    expect(ensureBiasBuild(root)).toBe(true);
    expect(fs.readFileSync(path.join(root, 'dist', 'index.js'), 'utf8')).toContain('BUILD_PROBE = 42');
    // A source that does not compile: refused with tsc's own message, naming the file.
    edit(`${original}export const BUILD_PROBE: number = 'x';\n`, 10);
    expect(() => ensureBiasBuild(root)).toThrow(/dist is older than its sources and rebuilding it failed; run `npm install`[\s\S]*src\/index\.ts\(\d+,\d+\): error TS2322/);
  });
});
