/**
 * File-system failures the user can fix (disk full, no permission, read-only disk, a
 * file where a folder should be) as one-line user errors naming the file natatlas was
 * writing, rather than an "internal error": a write on a full disk reports no path of
 * its own, and a temp name would mean nothing to the user anyway.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { NatatlasError } from '../errors.ts';

/** Reasons by errno code (null prototype: a code is looked up by name). */
const REASONS: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EROFS: 'read-only file system',
  EIO: 'input/output error from the device',
  EISDIR: 'is a folder, expected a file',
  ENOTDIR: 'is a file, expected a folder',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files on the system',
  ELOOP: 'too many levels of symbolic links',
});

/** Codes that say the machine, not the data, stopped the run: never turned into a failed report cell or a warning. */
const ENVIRONMENT = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS', 'EIO', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE']);

/** The errno error in `e` or its `cause` chain (wrappers such as stream or worker errors keep the original there). */
export function errnoOf(e: unknown): NodeJS.ErrnoException | null {
  // Not `instanceof Error`: errors from another realm (a VM context, a worker) fail that test.
  for (let x = e, depth = 0; typeof x === 'object' && x !== null && depth < 8; x = (x as { cause?: unknown }).cause, depth++) {
    const code = (x as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code in REASONS) return x as NodeJS.ErrnoException;
  }
  return null;
}

export function reasonOf(code: string): string | undefined {
  return REASONS[code];
}

/** Whether `e` is a disk, permission or resource failure (see ENVIRONMENT). */
export function isEnvironmentError(e: unknown): boolean {
  const errno = errnoOf(e);
  return errno !== null && ENVIRONMENT.has(errno.code!);
}

/** A path as the user knows it: relative to the working folder when inside it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

/** `e` as a NatatlasError naming `target` when the file system is to blame; anything else unchanged. */
export function asUserError(e: unknown, target: string, doing = 'writing'): unknown {
  if (e instanceof NatatlasError) return e;
  const errno = errnoOf(e);
  if (errno === null) return e;
  return new NatatlasError(`${displayPath(target)}: ${REASONS[errno.code!]} (${doing} it)`);
}

/**
 * Write a whole file in place (inside a folder being built by replaceDir); a failure
 * names the file, which a write on a full disk does not do by itself.
 */
export async function writeFileNamed(file: string, data: string | Uint8Array): Promise<void> {
  try {
    await fsp.writeFile(file, data);
  } catch (e) {
    const errno = errnoOf(e);
    if (errno && !errno.path) errno.path = file;
    throw e;
  }
}

/** Create `dir` and its parents; a failure names the folder and says why, not just "no such file". */
export function ensureDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw folderError(e, dir);
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    throw folderError(e, dir);
  }
  if (!st.isDirectory()) throw new NatatlasError(`cannot create folder ${displayPath(dir)}: a file of that name is in the way`);
}

function folderError(e: unknown, dir: string): unknown {
  const errno = errnoOf(e);
  if (errno === null) return e;
  // The deepest part of the path that exists says what went wrong.
  let probe = dir;
  let st: fs.Stats | null = null;
  for (;;) {
    try {
      st = fs.lstatSync(probe);
      break;
    } catch {
      const up = path.dirname(probe);
      if (up === probe) break;
      probe = up;
    }
  }
  let why: string;
  if (st?.isSymbolicLink() && !fs.existsSync(probe)) why = `${displayPath(probe)} is a link to ${fs.readlinkSync(probe)}, which does not exist`;
  else if (st && !st.isDirectory() && probe !== dir) why = `${displayPath(probe)} is a file, not a folder`;
  else if (st && !st.isDirectory()) why = 'a file of that name is in the way';
  else if (errno.code === 'ENOENT') why = `${displayPath(probe)} changed while the folder was being made`;
  else why = `${REASONS[errno.code!]}${probe !== dir ? ` (in ${displayPath(probe)})` : ''}`;
  return new NatatlasError(`cannot create folder ${displayPath(dir)}: ${why}`);
}
