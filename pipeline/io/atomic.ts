/**
 * Outputs appear whole or not at all: every writer goes to a temp name beside the
 * target and renames into place, so a crash or a bad row never leaves a half-written
 * file that a later stage or an engine build could pick up. Temp names carry the
 * writer's pid (`<target>.tmp-<pid>-<n>`), so the next run can tell a dead run's
 * leftovers from a live one's (io/lock.ts removes them).
 *
 * Folders swapped in whole are marked with OUTPUT_MARKER, and a folder without it is
 * never replaced: natatlas only ever deletes what it made.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { NatatlasError } from '../errors.ts';
import { asUserError, displayPath, ensureDir, errnoOf } from './fs-errors.ts';

/** The file in every folder natatlas swaps in whole; its content is fixed, so outputs stay byte-identical. */
export const OUTPUT_MARKER = '.natatlas-output';
const MARKER_TEXT = 'natatlas made this folder and replaces it whole on every run: keep no files of your own in it.\n';

const TEMP = /\.tmp-(\d+)-\d+$/;

/** Temp files and folders this process is writing, removed if it is interrupted (see io/lock.ts). */
const active = new Set<string>();
/** Old folders moved aside during a swap, by the target they came from. */
const movedAside = new Map<string, string>();

let counter = 0;
function tempName(target: string): string {
  counter += 1;
  return `${target}.tmp-${process.pid}-${counter}`;
}

/** The pid in a temp name, or null if `name` is not one. */
export function tempOwner(name: string): number | null {
  const m = TEMP.exec(name);
  return m ? Number(m[1]) : null;
}

/** Whether `file` is a temp file or folder this process is writing now. */
export function isActiveTemp(file: string): boolean {
  return active.has(file) || movedAside.has(file);
}

/** Delete this process's unfinished temp files and folders (on SIGINT/SIGTERM; synchronous). */
export function removeActiveTemps(): void {
  for (const t of active) fs.rmSync(t, { recursive: true, force: true });
  active.clear();
  // Interrupted between the two renames of a swap: put the old folder back rather than lose it.
  for (const [old, target] of movedAside) {
    if (fs.existsSync(target)) fs.rmSync(old, { recursive: true, force: true });
    else if (fs.existsSync(old)) fs.renameSync(old, target);
  }
  movedAside.clear();
}

/** Write a whole file atomically (small outputs: JSON, summaries). */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  ensureDir(path.dirname(target));
  const tmp = tempName(target);
  active.add(tmp);
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, target);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw asUserError(e, target);
  } finally {
    active.delete(tmp);
  }
}

/**
 * A buffered, synchronous line writer for large outputs. Chunks are flushed with
 * writeSync once they pass `flushBytes`, which measured faster than stream
 * backpressure for the millions of short rows a capture produces.
 */
export class AtomicWriter {
  readonly target: string;
  private readonly tmp: string;
  private fd: number;
  // One growing string: V8 builds it as a rope, which measured faster than pushing
  // parts to an array and joining them (less garbage for millions of short rows).
  private buf = '';
  private readonly flushBytes: number;

  constructor(target: string, flushBytes = 1 << 20) {
    this.target = target;
    ensureDir(path.dirname(target));
    this.tmp = tempName(target);
    try {
      this.fd = fs.openSync(this.tmp, 'w');
    } catch (e) {
      throw asUserError(e, target);
    }
    active.add(this.tmp);
    this.flushBytes = flushBytes;
  }

  write(text: string): void {
    this.buf += text;
    if (this.buf.length >= this.flushBytes) this.flush();
  }

  /** Bytes, written at once after the text before them (ByteLines hands its 1 MiB pieces here). */
  writeBytes(bytes: Uint8Array): void {
    this.flush();
    try {
      fs.writeSync(this.fd, bytes);
    } catch (e) {
      throw asUserError(e, this.target);
    }
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    try {
      fs.writeSync(this.fd, this.buf);
    } catch (e) {
      throw asUserError(e, this.target);
    }
    this.buf = '';
  }

  /** Flush, close and rename into place. */
  commit(): void {
    this.flush();
    try {
      fs.closeSync(this.fd);
      this.fd = -1;
      fs.renameSync(this.tmp, this.target);
    } catch (e) {
      throw asUserError(e, this.target);
    }
    active.delete(this.tmp);
  }

  /** Close and delete the temp file; the target is left as it was. */
  abort(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    fs.rmSync(this.tmp, { force: true });
    active.delete(this.tmp);
  }
}

/** Whether natatlas made `dir` (it holds the marker). */
export function isOutputFolder(dir: string): boolean {
  try {
    return fs.statSync(path.join(dir, OUTPUT_MARKER)).isFile();
  } catch {
    return false;
  }
}

/** Mark an existing folder as natatlas's (a folder an earlier natatlas wrote before markers existed). */
export function markOutputFolder(dir: string): void {
  try {
    fs.writeFileSync(path.join(dir, OUTPUT_MARKER), MARKER_TEXT);
  } catch (e) {
    throw asUserError(e, path.join(dir, OUTPUT_MARKER));
  }
}

export interface ReplaceOptions {
  /** Whether an existing folder without the marker is one natatlas wrote anyway (then it is replaced). */
  adopt?: (dir: string) => boolean;
  /** Mark the new folder (default true). Off for inputs natatlas writes (simulate's raw folders), which `adopt` vouches for instead. */
  mark?: boolean;
}

/** Refuse `target` unless it is absent or a folder natatlas made. */
function checkReplaceable(target: string, opts: ReplaceOptions): boolean {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(target);
  } catch {
    return false;
  }
  if (st.isSymbolicLink()) throw new NatatlasError(`${displayPath(target)} is a symbolic link, not a folder natatlas made: natatlas will not replace it; remove the link or pass other folders`);
  if (!st.isDirectory()) throw new NatatlasError(`${displayPath(target)} is a file, not a folder natatlas made: natatlas will not replace it; move it away`);
  if (!isOutputFolder(target) && !opts.adopt?.(target)) {
    throw new NatatlasError(`${displayPath(target)} exists but natatlas did not make it (no ${OUTPUT_MARKER} in it): natatlas replaces only folders it made; move it away or pass other folders`);
  }
  return true;
}

/** A failure inside the temp folder `tmp`, named by the path it was for under `target`. */
function namedInTarget(e: unknown, tmp: string, target: string): unknown {
  if (e instanceof NatatlasError) {
    e.message = e.message.split(displayPath(tmp)).join(displayPath(target));
    return e;
  }
  const where = errnoOf(e)?.path;
  return asUserError(e, where?.startsWith(tmp) ? target + where.slice(tmp.length) : target);
}

/**
 * Build a whole output directory beside `target` and swap it in, so a stage's
 * outputs for removed carriers disappear and readers never see a mix of old and new.
 * The target must be absent or a folder natatlas made (or one `opts.adopt` accepts).
 */
export async function replaceDir(target: string, build: (dir: string) => Promise<void>, opts: ReplaceOptions = {}): Promise<void> {
  const hadOld = checkReplaceable(target, opts);
  const tmp = tempName(target);
  active.add(tmp);
  try {
    await fsp.rm(tmp, { recursive: true, force: true });
    ensureDir(tmp);
    if (opts.mark !== false) markOutputFolder(tmp);
    await build(tmp);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    active.delete(tmp);
    throw namedInTarget(e, tmp, target);
  }
  const old = tempName(target);
  movedAside.set(old, target);
  try {
    if (hadOld) await fsp.rename(target, old);
    try {
      await fsp.rename(tmp, target);
    } catch (e) {
      if (hadOld) await fsp.rename(old, target);
      throw e;
    }
    active.delete(tmp);
    if (hadOld) await fsp.rm(old, { recursive: true, force: true });
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw asUserError(e, target);
  } finally {
    active.delete(tmp);
    movedAside.delete(old);
  }
}
