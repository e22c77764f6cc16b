// The command line runs natatlas's compiled JavaScript (issue 13 item 4): esbuild bundles
// pipeline/cli.ts and the worker modules into dist/ (npm's prepare script after
// `npm ci`/`npm install`, and the bin whenever a source is newer than the build, as
// bias-build.js does for @natatlas/bias). npm packages stay external imports.
//
// Every `import.meta.url` is compiled to the URL of the module's own source file
// (computed relative to dist/, so a moved checkout still works): files found next to a
// module (stylesheet, fonts, schemas, notebooks) resolve as they do from the sources,
// and the freshness stamps keep hashing the TypeScript sources (code-closure.ts).
// The outputs all sit at dist/'s top level, which is what makes that relative URL the
// same for every chunk a module may land in.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Build entries: the command line, every module a worker thread boots (threads.ts:
 * `dist/<basename>.js`), the lab's agent programs (lab/sh.ts, also by base name) and the
 * bench's task process (it measures what the command runs).
 */
export const ENTRIES = {
  cli: 'cli.ts',
  worker: 'evaluate/referee/worker.ts',
  'figure-worker': 'report/figures/figure-worker.ts',
  'fit-worker': 'fit/fit-worker.ts',
  'ingest-worker': 'stages/ingest-worker.ts',
  'join-worker': 'stages/join-worker.ts',
  'bench-child': 'bench/child.ts',
  // The lab's programs inside network namespaces (lab/sh.ts spawnAgent).
  agent: 'lab/agent.ts',
  peer: 'punch/peer.ts',
};

/** The package root holding pipeline/ and dist/. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const mtime = (file) => {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return null;
  }
};

/** Newest mtime among pipeline/'s sources (bias's own build and dist left out), this file and package.json. */
function newestSource(root) {
  let newest = Math.max(mtime(fileURLToPath(import.meta.url)) ?? 0, mtime(path.join(root, 'package.json')) ?? 0);
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name === 'dist') continue;
      const file = path.join(dir, e.name);
      if (e.isDirectory()) walk(file);
      else if (/\.[cm]?[jt]s$/.test(e.name) || e.name.endsWith('.json')) newest = Math.max(newest, mtime(file) ?? 0);
    }
  };
  walk(path.join(root, 'pipeline'));
  return newest;
}

/**
 * The build stamp: written last, so a build that died half-way is never taken for
 * current, and dated as the newest source the build saw (not the clock: a source dated
 * ahead would otherwise make every command rebuild, and one edited during the build
 * would be taken as built).
 */
const stampOf = (root) => path.join(root, 'dist', '.built');

/** True when dist/ exists and no source is newer than its stamp. */
export function buildIsCurrent(root = PACKAGE_ROOT) {
  const built = mtime(stampOf(root));
  return built !== null && newestSource(root) <= built;
}

/**
 * esbuild plugin: each pipeline module's `import.meta.url` becomes its source file's URL,
 * and `import.meta.natatlasDist` (undefined when running from the sources) dist/'s URL,
 * where threads.ts finds the compiled worker modules.
 */
function sourceUrls(root, outdir) {
  const code = path.join(root, 'pipeline');
  return {
    name: 'natatlas-source-urls',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (path.relative(code, args.path).startsWith('..')) return undefined;
        const rel = path.relative(outdir, args.path).split(path.sep).join('/');
        const text = fs.readFileSync(args.path, 'utf8');
        const contents = text.replace(/\bimport\.meta\.(url|natatlasDist)\b/g, (_, prop) => (prop === 'url' ? `new URL(${JSON.stringify(rel)}, import.meta.url).href` : `new URL('./', import.meta.url).href`));
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * Build dist/ from pipeline/ (into a temporary folder, then file by file into place with
 * the stamp last: a concurrent command line sees the old build or the new one). Chunks
 * are named by content, so two builds of the same sources write the same files.
 */
export async function build(root = PACKAGE_ROOT) {
  const esbuild = createRequire(path.join(root, 'package.json'))('esbuild');
  const dist = path.join(root, 'dist');
  fs.mkdirSync(dist, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(dist, '.tmp-'));
  const newest = newestSource(root);
  try {
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, path.join(root, 'pipeline', file)])),
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      outdir: tmp,
      chunkNames: 'chunk-[hash]',
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'silent',
      plugins: [sourceUrls(root, dist)],
    });
    const built = fs.readdirSync(tmp);
    // Chunks first, entries after them: an entry never points at a chunk not yet in place.
    const entryFirst = (f) => (f.startsWith('chunk-') ? 0 : 1);
    for (const f of [...built].sort((x, y) => entryFirst(x) - entryFirst(y) || (x < y ? -1 : 1))) fs.renameSync(path.join(tmp, f), path.join(dist, f));
    for (const f of fs.readdirSync(dist)) {
      if (f.startsWith('chunk-') && !built.includes(f)) fs.rmSync(path.join(dist, f), { force: true });
    }
    fs.writeFileSync(stampOf(root), 'natatlas build: dist/ is current while no file under pipeline/ is newer than this stamp\n');
    const at = new Date(Math.ceil(newest)); // whole milliseconds: a Date holds no finer ones
    fs.utimesSync(stampOf(root), at, at);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Rebuild dist/ when missing or older than a source; returns whether it rebuilt. */
export async function ensureBuild(root = PACKAGE_ROOT) {
  if (buildIsCurrent(root)) return false;
  try {
    await build(root);
  } catch (e) {
    const detail = (e.errors ?? []).map((m) => `${m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ` : ''}${m.text}`).join('\n');
    throw new Error(`dist/ is older than pipeline/ and rebuilding it failed; run \`npm install\` (or \`npm run build\`)\n${detail || e.message}`);
  }
  return true;
}

/** The compiled command line's module URL. */
export const cliUrl = (root = PACKAGE_ROOT) => pathToFileURL(path.join(root, 'dist', 'cli.js')).href;

// `node pipeline/bin/build.js`: npm's build and prepare scripts.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    await build();
  } catch (e) {
    process.stderr.write(`natatlas build: ${e.message}\n`);
    process.exit(1);
  }
}
