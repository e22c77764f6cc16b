/**
 * The CLI as a user runs it, in temp projects outside the checkout: spawn, wait on
 * readiness (a file appearing, a process exiting), never on fixed sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../pipeline/bin/natatlas.js', import.meta.url));

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  pid: number;
  done: Promise<Finished>;
}

/** Start `natatlas <args>` in `cwd`; `command` replaces the node binary (e.g. to drop privileges). */
export function start(args: string[], cwd: string, command: string[] = [process.execPath]): Running {
  const child = spawn(command[0]!, [...command.slice(1), BIN, ...args], { cwd, env: { ...process.env, HOME: cwd }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<Finished>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, pid: child.pid!, done };
}

export function natatlas(args: string[], cwd: string, command?: string[]): Promise<Finished> {
  return start(args, cwd, command).done;
}

/** Poll `ready` every `everyMs` until it holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(ready: () => boolean, what: string, timeoutMs = 120_000, everyMs = 5): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every path under `dir` (files and folders), relative, sorted; symlinks not followed. */
export function walk(dir: string): string[] {
  const out: string[] = [];
  const go = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(d, e.name);
      out.push(path.relative(dir, full));
      if (e.isDirectory()) go(full);
    }
  };
  go(dir);
  return out.sort();
}

/** Files under `dir` with their bytes (hex), for byte-identity checks. */
export function filesOf(dir: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  for (const rel of walk(dir)) {
    const full = path.join(dir, rel);
    if (skip(rel) || !fs.lstatSync(full).isFile()) continue;
    out.set(rel, fs.readFileSync(full).toString('hex'));
  }
  return out;
}

/** Temp folders made by a test file, removed by `cleanup()` (afterAll), whatever happened. */
export class Temps {
  private readonly dirs: string[] = [];
  make(prefix = 'natatlas-safety-'): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }
  cleanup(): void {
    for (const d of this.dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

/** A project folder (raw/ copied from `rawFrom`) inside `temps`. */
export function project(temps: Temps, rawFrom: string): string {
  const root = temps.make();
  fs.cpSync(rawFrom, path.join(root, 'raw'), { recursive: true });
  return root;
}
