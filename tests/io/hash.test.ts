import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { HashCache, sha256File, steadyRead, type CacheEntry } from '../../pipeline/io/hash.ts';

/** sha256 straight from node:crypto over bytes the test wrote: the known answer. */
const digest = (bytes: string | Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');

/** A capture's mtime: a whole second (as a copied or archived capture has), so it can be set back exactly. */
const CAPTURED = 1_700_000_000;

/** A clock a second after every file in the test was written: every hash is settled. */
const later = () => BigInt(Date.now() + 1000) * 1_000_000n;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempFile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natatlas-hash-'));
  dirs.push(dir);
  const file = path.join(dir, 'client-1.csv');
  fs.writeFileSync(file, text);
  fs.utimesSync(file, CAPTURED, CAPTURED);
  return file;
}

/** Reads of `file` through streams (how sha256File reads) during `fn`. */
async function readsOf(file: string, fn: () => Promise<unknown>): Promise<number> {
  const spy = jest.spyOn(fs, 'createReadStream');
  try {
    await fn();
    return spy.mock.calls.filter((c) => c[0] === file).length;
  } finally {
    spy.mockRestore();
  }
}

/** Same size, same mtime, different bytes: the edit `touch -r` hides from size and mtime. */
function sameSizeEditKeepingMtime(file: string, from: string, to: string): void {
  const before = fs.statSync(file, { bigint: true });
  const text = fs.readFileSync(file, 'utf8');
  const at = text.lastIndexOf(from);
  fs.writeFileSync(file, text.slice(0, at) + to + text.slice(at + from.length));
  fs.utimesSync(file, CAPTURED, CAPTURED);
  const after = fs.statSync(file, { bigint: true });
  expect([after.size, after.mtimeNs]).toEqual([before.size, before.mtimeNs]);
}

const ROWS = '00000000-0000-4000-8000-000000000001, 1000, 40000, 5000, S\n00000000-0000-4000-8000-000000000002, 1020, 40001, 5000, S\n';

describe('HashCache', () => {
  it('gives the sha256 of the bytes, and null for a missing file', async () => {
    const file = tempFile(ROWS);
    const cache = new HashCache({}, undefined, { now: later });
    expect(await cache.hash(file)).toBe(digest(ROWS));
    expect(await cache.hash(`${file}.gone`)).toBeNull();
  });

  it('reads an unchanged file once', async () => {
    const file = tempFile(ROWS);
    const cache = new HashCache({}, undefined, { now: later });
    expect(await readsOf(file, () => cache.hash(file))).toBe(1);
    // A second cache from the saved entries, as the next `natatlas run` would build it.
    const next = new HashCache(JSON.parse(JSON.stringify(cache.toJSON())) as Record<string, CacheEntry>, undefined, { now: later });
    expect(await readsOf(file, () => next.hash(file))).toBe(0);
    expect(await next.hash(file)).toBe(digest(ROWS));
  });

  it('sees a same-size edit whose mtime was set back (S -> F, touch -r)', async () => {
    const file = tempFile(ROWS);
    const cache = new HashCache({}, undefined, { now: later });
    expect(await cache.hash(file)).toBe(digest(ROWS));
    sameSizeEditKeepingMtime(file, 'S', 'F');
    expect(await cache.hash(file)).toBe(digest(ROWS.slice(0, -2) + 'F\n'));
  });

  it('sees a file replaced by a copy with the same size and mtime', async () => {
    const file = tempFile(ROWS);
    const cache = new HashCache({}, undefined, { now: later });
    await cache.hash(file);
    const edited = ROWS.replace('1020', '1021');
    fs.writeFileSync(`${file}.new`, edited);
    fs.utimesSync(`${file}.new`, CAPTURED, CAPTURED);
    fs.renameSync(`${file}.new`, file);
    expect(await cache.hash(file)).toBe(digest(edited));
  });

  it('does not trust a hash taken in the same clock tick as the file changed', async () => {
    const file = tempFile(ROWS);
    const ctime = fs.statSync(file, { bigint: true }).ctimeNs;
    // Hashed at the very moment of the last change: an edit in that tick could keep ctime.
    const racy = new HashCache({}, undefined, { now: () => ctime });
    await racy.hash(file);
    const next = new HashCache(racy.toJSON(), undefined, { now: later });
    expect(await readsOf(file, () => next.hash(file))).toBe(1);
    // Rehashed once the change has settled: trusted from then on.
    expect(await readsOf(file, () => next.hash(file))).toBe(0);
  });

  it('with verify, reads every file again however convincing the cached entry', async () => {
    const file = tempFile(ROWS);
    const st = fs.statSync(file, { bigint: true });
    // A stale hash under the file's current stat: what a file system without ctime could leave.
    const forged: Record<string, CacheEntry> = {
      [file]: { size: Number(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), ino: String(st.ino), sha256: digest('old bytes') },
    };
    expect(await new HashCache({ ...forged }, undefined, { now: later }).hash(file)).toBe(digest('old bytes'));
    const verify = new HashCache({ ...forged }, undefined, { now: later, verify: true });
    expect(await readsOf(file, () => verify.hash(file))).toBe(1);
    expect(await verify.hash(file)).toBe(digest(ROWS));
    expect(verify.changed).toBe(true);
  });

  it('ignores entries of the old size-and-mtime format', async () => {
    const file = tempFile(ROWS);
    const st = fs.statSync(file);
    const old = { [file]: { size: st.size, mtimeMs: st.mtimeMs, sha256: digest('old bytes') } } as unknown as Record<string, CacheEntry>;
    expect(await new HashCache(old, undefined, { now: later }).hash(file)).toBe(digest(ROWS));
  });

  describe('adopting hashes of files natatlas linked into a new folder', () => {
    /** `file` read as a stage would, then linked to `moved` and unlinked (a folder swap): the cache's next look at `moved`. */
    async function relinked(text: string, quiet = true) {
      const file = tempFile(text);
      const read = (await steadyRead(file, () => sha256File(file), quiet ? later : () => 0n))!;
      const moved = `${file}.swapped`;
      fs.linkSync(file, moved);
      fs.unlinkSync(file);
      return { moved, read };
    }

    it('takes the hash without reading the file, whose ctime the link changed', async () => {
      const { moved, read } = await relinked(ROWS);
      expect(read.value).toBe(digest(ROWS));
      const cache = new HashCache({}, undefined, { now: later });
      await cache.adopt([{ file: moved, sha256: read.value, seen: read.seen, quiet: read.quiet }]);
      const next = new HashCache(JSON.parse(JSON.stringify(cache.toJSON())) as Record<string, CacheEntry>, undefined, { now: later });
      expect(await readsOf(moved, () => next.hash(moved))).toBe(0);
      expect(await next.hash(moved)).toBe(digest(ROWS));
    });

    it('still sees a same-size edit with its mtime set back after the adoption', async () => {
      const { moved, read } = await relinked(ROWS);
      const cache = new HashCache({}, undefined, { now: later });
      await cache.adopt([{ file: moved, sha256: read.value, seen: read.seen, quiet: read.quiet }]);
      sameSizeEditKeepingMtime(moved, 'S', 'F');
      expect(await cache.hash(moved)).toBe(digest(ROWS.slice(0, -2) + 'F\n'));
    });

    it('adopts nothing for a file edited between the read and the adoption', async () => {
      const { moved, read } = await relinked(ROWS);
      fs.appendFileSync(moved, ROWS);
      const cache = new HashCache({}, undefined, { now: later });
      await cache.adopt([{ file: moved, sha256: read.value, seen: read.seen, quiet: read.quiet }]);
      expect(cache.changed).toBe(false);
      expect(await cache.hash(moved)).toBe(digest(ROWS + ROWS));
    });

    it('keeps the entry racy when the bytes were read within a tick of their last change', async () => {
      const { moved, read } = await relinked(ROWS, false);
      expect(read.quiet).toBe(false);
      const cache = new HashCache({}, undefined, { now: later });
      await cache.adopt([{ file: moved, sha256: read.value, seen: read.seen, quiet: read.quiet }]);
      expect(await readsOf(moved, () => cache.hash(moved))).toBe(1);
    });
  });
});
