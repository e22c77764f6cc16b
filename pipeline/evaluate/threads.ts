/**
 * Worker threads that run natatlas's TypeScript modules. A worker cannot inherit the
 * parent's TypeScript loader (jest's transform does not reach it; tsx's may not be
 * registered), so each one boots from a tiny data: module that registers tsx's ESM API
 * and then imports the worker module, the same under `node --import tsx`, the natatlas
 * bin and jest.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** tsx's ESM API file (the `import` condition of `tsx/esm/api`; require.resolve would give the CJS one). */
function resolveTsxEsmApi(): string {
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const rel = pkg.exports['./esm/api']?.import?.default;
  if (rel === undefined) throw new Error('cannot find tsx/esm/api (needed by worker threads)');
  return path.join(path.dirname(pkgPath), rel);
}

let tsxApi: string | null = null;

/**
 * Run `module` (a worker module that reads `workerData` and posts one message) in a new
 * thread; resolves with that message.
 */
export function runInWorker<T>(module: URL, workerData: unknown): Promise<T> {
  tsxApi ??= pathToFileURL(resolveTsxEsmApi()).href;
  const boot = `const { register } = await import(${JSON.stringify(tsxApi)}); register(); await import(${JSON.stringify(module.href)});`;
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData, execArgv: [] });
    let done = false;
    w.once('message', (m: T) => {
      done = true;
      resolve(m);
      void w.terminate();
    });
    w.once('error', (e) => {
      done = true;
      reject(e);
    });
    w.once('exit', (code) => {
      if (!done) reject(new Error(`worker ${path.basename(module.pathname)} exited with code ${code} before reporting`));
    });
  });
}

/** Threads worth starting for `jobs` independent jobs when `wanted` are asked for. */
export function threadsFor(wanted: number, jobs: number): number {
  return Math.max(1, Math.min(wanted, jobs, Math.max(1, os.availableParallelism?.() ?? os.cpus().length) * 4));
}

/** [from, to) ranges splitting `n` items into `parts` contiguous pieces. */
export function splitRange(n: number, parts: number): [number, number][] {
  const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * n) / parts));
  return bounds.slice(0, -1).map((from, i) => [from, bounds[i + 1]!]);
}
