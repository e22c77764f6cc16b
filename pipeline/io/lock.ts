/**
 * One natatlas run at a time per output root (`derived/`, `reports/`): two runs
 * swapping the same folders would race and lose outputs. The lock is a file,
 * `<root>/.natatlas.lock`, naming its holder's pid; it is created whole and atomically
 * (written beside, then hard-linked into place, which fails if it exists), removed when
 * the run ends, on SIGINT and SIGTERM too. A lock whose holder is gone (kill -9, a
 * crash, a reboot) is stale and taken over. On Linux the lock also records the boot
 * and the process start time, so a pid reused by another process (common in
 * containers) does not keep a stale lock alive.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NatatlasError } from '../errors.ts';
import { asUserError, displayPath, ensureDir } from './fs-errors.ts';
import { isActiveTemp, removeActiveTemps, tempOwner } from './atomic.ts';

export const LOCK_FILE = '.natatlas.lock';

interface Holder {
  pid: number;
  boot?: string;
  start?: string;
  command?: string;
}

export interface Lock {
  file: string;
  /** The pid of a dead run whose lock was taken over, if any. */
  tookOverFrom: number | null;
  release(): void;
}

function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

const BOOT = readOr(() => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), undefined);

/** A process's start time in clock ticks since boot (Linux), to tell a reused pid from the original. */
function startOf(pid: number): string | undefined {
  return readOr(() => {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  }, undefined);
}

/** Whether `pid` is a running process (one we may not signal counts as running). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderAlive(h: Holder): boolean {
  if (h.boot !== undefined && BOOT !== undefined && h.boot !== BOOT) return false;
  if (!pidAlive(h.pid)) return false;
  const start = startOf(h.pid);
  return h.start === undefined || start === undefined || start === h.start;
}

/** The lock's holder; null if the file is unreadable or not a natatlas lock; undefined if it is gone. */
function readHolder(file: string): Holder | null | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw asUserError(e, file, 'reading');
  }
  const h = readOr(() => JSON.parse(text) as Holder, null);
  return h !== null && typeof h === 'object' && Number.isInteger(h.pid) ? h : null;
}

const held = new Set<string>();
let counter = 0;

/** Create `file` holding `text` only if it does not exist; false if it does. */
function createExclusive(file: string, text: string): boolean {
  const tmp = `${file}.tmp-${process.pid}-${++counter}`;
  try {
    fs.writeFileSync(tmp, text);
    try {
      fs.linkSync(tmp, file);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
    }
    // No hard links on this file system: an exclusive create, written at once.
    let fd: number;
    try {
      fd = fs.openSync(file, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    try {
      fs.writeSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
    return true;
  } catch (e) {
    throw asUserError(e, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function busy(root: string, file: string, h: Holder, what: string): NatatlasError {
  const by = h.pid === process.pid ? 'this natatlas process' : `another natatlas run (pid ${h.pid}${h.command ? `: ${h.command}` : ''})`;
  return new NatatlasError(`${what} ${displayPath(root)} is in use by ${by}: wait for it to finish (if no natatlas is running, delete ${displayPath(file)})`);
}

/**
 * Lock the output root `root` (created if missing) for this process; `what` names it
 * in messages (`derived folder`). Throws a NatatlasError naming the holder's pid when a
 * live run holds it.
 */
export function acquireLock(root: string, what: string): Lock {
  ensureDir(root);
  const file = path.join(root, LOCK_FILE);
  const me: Holder = { pid: process.pid, boot: BOOT, start: startOf(process.pid), command: `natatlas ${process.argv.slice(2).join(' ')}`.trim().slice(0, 200) };
  if (held.has(file)) throw busy(root, file, me, what);
  // Handlers first: a signal with none kills the process at once, lock file and all.
  installHandlers();
  try {
    return takeLock(root, file, me, what);
  } catch (e) {
    if (held.size === 0) removeHandlers();
    throw e;
  }
}

function takeLock(root: string, file: string, me: Holder, what: string): Lock {
  let tookOverFrom: number | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(file, `${JSON.stringify(me)}\n`)) {
      held.add(file);
      return { file, tookOverFrom, release: () => release(file) };
    }
    const holder = readHolder(file);
    if (holder === undefined) continue;
    // Our own pid in a lock we do not hold is a dead run's whose pid we reused.
    if (holder !== null && holder.pid !== process.pid && holderAlive(holder)) throw busy(root, file, holder, what);
    // Stale: move it aside, and make sure what moved is the lock judged stale, not a new one taken meanwhile.
    const aside = `${file}.tmp-${process.pid}-${++counter}`;
    try {
      fs.renameSync(file, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw asUserError(e, file, 'replacing a stale lock in');
    }
    const moved = readHolder(aside);
    if (moved !== undefined && JSON.stringify(moved) !== JSON.stringify(holder)) {
      readOr(() => fs.linkSync(aside, file), undefined);
      fs.rmSync(aside, { force: true });
      if (moved !== null) throw busy(root, file, moved, what);
      continue;
    }
    fs.rmSync(aside, { force: true });
    tookOverFrom = holder?.pid ?? null;
  }
  throw new NatatlasError(`${what} ${displayPath(root)}: could not take the lock ${displayPath(file)} (other runs keep taking it)`);
}

function release(file: string): void {
  if (!held.delete(file)) return;
  // Remove the lock only while it is still ours.
  if (readHolder(file)?.pid === process.pid) fs.rmSync(file, { force: true });
  if (held.size === 0) removeHandlers();
}

const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
const onSignal = (signal: NodeJS.Signals) => {
  removeActiveTemps();
  for (const f of [...held]) release(f);
  process.exit(SIGNALS[signal as keyof typeof SIGNALS] ?? 1);
};
const onExit = () => {
  for (const f of [...held]) release(f);
};
let installed = false;

function installHandlers(): void {
  if (installed) return;
  installed = true;
  for (const s of Object.keys(SIGNALS)) process.on(s, onSignal);
  process.on('exit', onExit);
}

function removeHandlers(): void {
  if (!installed) return;
  installed = false;
  for (const s of Object.keys(SIGNALS)) process.off(s, onSignal);
  process.off('exit', onExit);
}

/**
 * Remove temp files and folders (`*.tmp-<pid>-<n>`) of runs that are gone, under an
 * output root this process has locked: directly in `root` only those named after one
 * of `folders` or the lock, and anything inside those folders. Returns how many.
 */
export function removeDeadTemps(root: string, folders: Iterable<string>): number {
  const known = new Set([...folders, LOCK_FILE]);
  let removed = 0;
  const dead = (name: string, full: string) => {
    const pid = tempOwner(name);
    if (pid === null) return false;
    return pid === process.pid ? !isActiveTemp(full) : !pidAlive(pid);
  };
  const walk = (dir: string, depth: number) => {
    for (const entry of readOr(() => fs.readdirSync(dir, { withFileTypes: true }), [])) {
      const full = path.join(dir, entry.name);
      if (dead(entry.name, full)) {
        fs.rmSync(full, { recursive: true, force: true });
        removed++;
      } else if (entry.isDirectory() && depth < 8) {
        walk(full, depth + 1);
      }
    }
  };
  for (const entry of readOr(() => fs.readdirSync(root, { withFileTypes: true }), [])) {
    const full = path.join(root, entry.name);
    const base = entry.name.replace(/\.tmp-\d+-\d+$/, '');
    if (!known.has(base)) continue;
    if (dead(entry.name, full)) {
      fs.rmSync(full, { recursive: true, force: true });
      removed++;
    } else if (entry.isDirectory()) {
      walk(full, 1);
    }
  }
  return removed;
}
