/**
 * sha256 of files, streamed, with a cache so that `natatlas run` can tell a fresh stage
 * from a stale one without rereading gigabytes. A cached hash is reused only while the
 * file's size, mtime, ctime and inode all match what they were when it was hashed: an
 * edit can keep the size and have its mtime set back (`touch -r`, utimes), but the
 * kernel stamps every change with a new ctime that no tool can set back, and a file
 * replaced by a copy has a new inode. Like git's "racily clean" index entries, a hash
 * taken within a timestamp tick of the file's last change is not trusted next time,
 * since an edit in that same tick would leave ctime unchanged.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';

export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256Text(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** What a cached hash was taken against; nanosecond times and inode as decimal strings (they exceed 2^53). */
export interface CacheEntry {
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  sha256: string;
  /** The file changed within a timestamp tick of being hashed: rehash on next use. */
  racy?: true;
}

/**
 * Whether a file last changed (ctime) long enough before `nowNs` that any later edit
 * must get a different ctime. Linux stamps files from a coarse clock (one tick, 1-10 ms);
 * file systems that keep whole seconds (FAT: two) need a wider margin.
 */
export function settled(st: fs.BigIntStats, nowNs: bigint): boolean {
  const whole = st.ctimeNs % 1_000_000_000n === 0n && st.mtimeNs % 1_000_000_000n === 0n;
  return st.ctimeNs < nowNs - (whole ? 2_000_000_000n : 50_000_000n);
}

/** Wall-clock nanoseconds, on the same scale as file times. */
export function wallClockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function sameFile(a: fs.BigIntStats, b: fs.BigIntStats): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino;
}

/** What a link leaves unchanged: the file's identity and content stamps, not its ctime. */
export type FileIdentity = Pick<fs.BigIntStats, 'size' | 'mtimeNs' | 'ino'>;

function sameContent(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino;
}

/** A file's hash as natatlas last read it, for `HashCache.adopt`. */
export interface KnownHash {
  file: string;
  sha256: string;
  /** The file's identity when it was read. */
  seen: FileIdentity;
  /** Its last change was at least a tick before the read (else the entry stays racy). */
  quiet: boolean;
}

/** `read` of a file, with the file's identity around it: null when it changed meanwhile (or is missing). */
export async function steadyRead<T>(file: string, read: () => Promise<T>, now: () => bigint = wallClockNs): Promise<{ value: T; seen: FileIdentity; quiet: boolean } | null> {
  const startNs = now();
  const before = await statOf(file);
  if (before === null) return null;
  const value = await read();
  const after = await statOf(file);
  return after !== null && sameContent(before, after) ? { value, seen: after, quiet: settled(before, startNs) } : null;
}

function entryMatches(e: CacheEntry, st: fs.BigIntStats): boolean {
  return e.size === Number(st.size) && e.mtimeNs === String(st.mtimeNs) && e.ctimeNs === String(st.ctimeNs) && e.ino === String(st.ino);
}

async function statOf(file: string): Promise<fs.BigIntStats | null> {
  try {
    return await fsp.stat(file, { bigint: true });
  } catch {
    return null;
  }
}

export interface HashCacheOptions {
  /** Ignore every hash cached before this run and read each file again (`natatlas run --verify`). */
  verify?: boolean;
  /** The wall clock in nanoseconds (tests pin it); default Date.now. */
  now?: () => bigint;
}

export class HashCache {
  private entries: Record<string, CacheEntry>;
  private dirty = false;
  private readonly now: () => bigint;

  /** `keyOf` names a file in the cache, so the cache can hold relative names rather than machine paths. */
  constructor(entries: Record<string, CacheEntry> = {}, private readonly keyOf: (file: string) => string = (f) => f, opts: HashCacheOptions = {}) {
    this.entries = opts.verify ? {} : entries;
    this.dirty = opts.verify === true;
    this.now = opts.now ?? wallClockNs;
  }

  /** Hash of `file`, reusing the cached value while size, mtime, ctime and inode match a settled entry; null if missing. */
  async hash(file: string): Promise<string | null> {
    const seenNs = this.now();
    const st = await statOf(file);
    if (st === null) return null;
    const key = this.keyOf(file);
    const hit = this.entries[key];
    if (hit && !hit.racy && entryMatches(hit, st)) return hit.sha256;
    const sha = await sha256File(file);
    const after = await statOf(file);
    if (after === null || !sameFile(st, after)) {
      // Changed while being read: the hash matches no stable state of the file, so cache nothing.
      delete this.entries[key];
    } else {
      const entry: CacheEntry = { size: Number(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), ino: String(st.ino), sha256: sha };
      if (!settled(st, seenNs)) entry.racy = true;
      this.entries[key] = entry;
    }
    this.dirty = true;
    return sha;
  }

  /**
   * Take each file's hash without reading it: natatlas read the same bytes (`seen`: the
   * file's identity then) and has since only linked the file into a new folder and
   * unlinked the old name, which change its ctime and nothing else. Taken only while
   * size, mtime and inode still match `seen`. The new ctime is that of the unlink just
   * now, so this waits out one timestamp tick (once for all files) before reading it,
   * rather than leave entries racy and every file to be read again; an entry is still
   * racy when the bytes were read within a tick of their last change (`quiet` false).
   */
  async adopt(files: readonly KnownHash[]): Promise<void> {
    const still = async () => (await Promise.all(files.map(async (k) => ({ k, st: await statOf(k.file) })))).filter((x): x is { k: KnownHash; st: fs.BigIntStats } => x.st !== null && sameContent(x.st, x.k.seen));
    const first = await still();
    if (first.length === 0) return;
    for (let waited = 0; first.some((x) => !settled(x.st, this.now())) && waited < 2100; waited += 25) await new Promise((r) => setTimeout(r, 25));
    const now = this.now();
    for (const { k, st } of await still()) {
      const entry: CacheEntry = { size: Number(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), ino: String(st.ino), sha256: k.sha256 };
      if (!k.quiet || !settled(st, now)) entry.racy = true;
      this.entries[this.keyOf(k.file)] = entry;
      this.dirty = true;
    }
  }

  get changed(): boolean {
    return this.dirty;
  }

  toJSON(): Record<string, CacheEntry> {
    return this.entries;
  }
}
