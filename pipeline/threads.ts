/**
 * A pool of worker threads that run natatlas's modules. Compiled (the natatlas bin runs
 * dist/, pipeline/bin/build.js), a worker boots the worker module's own build,
 * `dist/<basename>.js`. From the TypeScript sources, a worker cannot inherit the
 * parent's TypeScript loader (jest's transform does not reach it; tsx's may not be
 * registered), so each one boots from a tiny data: module that registers tsx's ESM API
 * and then imports the worker module, the same under `node --import tsx` and jest.
 * Booting from sources costs about a second, so workers stay up between jobs
 * (unreferenced: an idle pool never keeps the process alive) until `closePools()`.
 *
 * A worker module answers each `{ id, job }` message with `{ id, result }` or
 * `{ id, error }` (`workerError` builds it: a user's error, an InputError or
 * NatatlasError, comes back as the same class, so the CLI still prints one line).
 *
 * Used by evaluate (the referee's trials) and by ingest and join (raw files, carriers).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError, NatatlasError } from './errors.ts';

/** What a worker sends back for a failed job. */
export interface WorkerError {
  error: string;
  input?: { file: string; line: number | undefined; reason: string };
  user?: boolean;
}

/** The message for a job that threw `e` (for worker modules). */
export function workerError(e: unknown): WorkerError {
  if (e instanceof InputError) return { error: e.message, input: { file: e.file, line: e.line, reason: e.reason } };
  if (e instanceof NatatlasError) return { error: e.message, user: true };
  return { error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}

function fromWorker(m: WorkerError): Error {
  if (m.input) return new InputError(m.input.file, m.input.line, m.input.reason);
  if (m.user) return new NatatlasError(m.error);
  return new Error(m.error);
}

/** tsx's ESM API file (the `import` condition of `tsx/esm/api`; require.resolve would give the CJS one). */
function resolveTsxEsmApi(): string {
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const rel = pkg.exports['./esm/api']?.import?.default;
  if (rel === undefined) throw new Error('cannot find tsx/esm/api (needed by worker threads)');
  return path.join(path.dirname(pkgPath), rel);
}

let tsxApi: string | null = null;

declare global {
  interface ImportMeta {
    /** dist/'s URL when this module runs compiled (build.js writes it in); undefined from the sources. */
    natatlasDist?: string;
  }
}

/** Whether this module runs compiled (the natatlas bin), where a worker boots in milliseconds rather than a second. */
export function compiledWorkers(): boolean {
  return import.meta.natatlasDist !== undefined;
}

/** The module a worker for `module` (a worker module's source) starts from. */
function bootOf(module: URL): URL {
  const dist = import.meta.natatlasDist;
  if (dist !== undefined) return new URL(`${path.basename(module.pathname).replace(/\.ts$/, '')}.js`, dist);
  tsxApi ??= pathToFileURL(resolveTsxEsmApi()).href;
  const boot = `const { register } = await import(${JSON.stringify(tsxApi)}); register(); await import(${JSON.stringify(module.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

class Slot {
  readonly worker: Worker;
  busy = false;
  private readonly pending = new Map<number, Pending>();

  constructor(module: URL, onIdle: () => void) {
    this.worker = new Worker(bootOf(module), { execArgv: [] });
    this.worker.on('message', (m: { id: number; result?: unknown } & Partial<WorkerError>) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      this.busy = false;
      this.worker.unref();
      if (m.error !== undefined) p?.reject(fromWorker(m as WorkerError));
      else p?.resolve(m.result);
      onIdle();
    });
    const failAll = (e: unknown) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', failAll);
    this.worker.on('exit', (code) => failAll(new Error(`worker ${path.basename(module.pathname)} exited with code ${code}`)));
    // Unreferenced once its listeners are on (adding a 'message' listener references the
    // worker's port again): an idle worker never keeps the process alive.
    this.worker.unref();
  }

  run(id: number, job: unknown, p: Pending): void {
    this.busy = true;
    this.pending.set(id, p);
    // Referenced while it works: a caller awaiting only this job keeps the process alive.
    this.worker.ref();
    this.worker.postMessage({ id, job });
  }
}

export class Pool {
  private readonly slots: Slot[] = [];
  private readonly queue: { id: number; job: unknown; p: Pending }[] = [];
  private nextId = 0;

  constructor(private readonly module: URL, readonly size: number) {}

  run<T>(job: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, p: { resolve: resolve as (v: unknown) => void, reject } });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.size) {
        slot = new Slot(this.module, () => this.pump());
        this.slots.push(slot);
      }
      if (!slot) return;
      const { id, job, p } = this.queue.shift()!;
      slot.run(id, job, p);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }
}

const pools = new Map<string, Pool>();

/** The shared pool for a worker module (grown to `size` threads on demand). */
export function poolFor(module: URL, size: number): Pool {
  const key = `${module.href}#${size}`;
  let p = pools.get(key);
  if (!p) {
    p = new Pool(module, size);
    pools.set(key, p);
  }
  return p;
}

/** Stop every pooled worker (a stage calls this when it is done with them). */
export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}

/** Threads worth using for `wanted` workers: at most the machine's parallelism. */
export function threadsFor(wanted: number): number {
  return Math.max(1, Math.min(wanted, Math.max(1, os.availableParallelism?.() ?? os.cpus().length)));
}

/** [from, to) ranges splitting `n` items into `parts` contiguous pieces. */
export function splitRange(n: number, parts: number): [number, number][] {
  const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * n) / parts));
  return bounds.slice(0, -1).map((from, i) => [from, bounds[i + 1]!] as [number, number]).filter(([a, b]) => b > a);
}
