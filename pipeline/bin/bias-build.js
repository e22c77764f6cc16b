// The pipeline imports @natatlas/bias through its built dist/, as engine builds do, and
// `npm install` builds it (prepare). A checkout updated by git without a new `npm install`
// would run the old build, whose reader refuses the tables the new pipeline writes: so
// the command line rebuilds dist/ first whenever a source is newer than it (~2 s, once).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const mtime = (file) => {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return null;
  }
};

/** Rebuild `root`/dist when missing or older than `root`/src, package.json or tsconfig.json; returns whether it rebuilt. */
export function ensureBiasBuild(root = fileURLToPath(new URL('../bias/', import.meta.url))) {
  const built = mtime(path.join(root, 'dist', 'index.js'));
  const src = path.join(root, 'src');
  const sources = [...fs.readdirSync(src).map((f) => path.join(src, f)), path.join(root, 'package.json'), path.join(root, 'tsconfig.json')];
  if (built !== null && sources.every((f) => (mtime(f) ?? 0) <= built)) return false;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${path.join(root, 'dist')} is older than its sources and rebuilding it failed; run \`npm install\` (or \`npm run build --workspace=@natatlas/bias\`)\n${r.stdout}${r.stderr}`);
  }
  return true;
}
