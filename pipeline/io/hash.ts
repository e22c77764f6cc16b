/**
 * sha256 of files, streamed, with a cache keyed by path, size and mtime so that
 * `natatlas run` can tell a fresh stage from a stale one without rereading gigabytes.
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

interface CacheEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

export class HashCache {
  private entries: Record<string, CacheEntry>;
  private dirty = false;

  /** `keyOf` names a file in the cache, so the cache can hold relative names rather than machine paths. */
  constructor(entries: Record<string, CacheEntry> = {}, private readonly keyOf: (file: string) => string = (f) => f) {
    this.entries = entries;
  }

  /** Hash of `file`, reusing the cached value while size and mtime are unchanged; null if missing. */
  async hash(file: string): Promise<string | null> {
    let st: fs.Stats;
    try {
      st = await fsp.stat(file);
    } catch {
      return null;
    }
    const key = this.keyOf(file);
    const hit = this.entries[key];
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.sha256;
    const sha = await sha256File(file);
    this.entries[key] = { size: st.size, mtimeMs: st.mtimeMs, sha256: sha };
    this.dirty = true;
    return sha;
  }

  get changed(): boolean {
    return this.dirty;
  }

  toJSON(): Record<string, CacheEntry> {
    return this.entries;
  }
}
