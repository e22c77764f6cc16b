/**
 * Per-unit reuse inside a stale stage (issue 13 item 3). A stage that works unit by unit
 * (ingest per raw file, join and fit per carrier, evaluate per carrier pair) keys each
 * unit by a sha256 over the stage's code and whatever decides the unit's output (its
 * inputs' hashes, the settings it reads). When the stage's previous run recorded the
 * same key for a unit and the unit's files in the old output folders still hash as
 * recorded, they are carried into the folder being built (hard link, else copy) instead
 * of recomputed; the stage stamp (freshness.ts) still covers the stage as a whole.
 *
 * The ledger lives in `derived/<campaign>/.natatlas/units/<stage>.json`. It is written
 * after the stage's folders were swapped in; a run that dies between the swap and the
 * save leaves an older ledger whose file hashes no longer match, which costs a
 * recomputation, never a wrong reuse. `natatlas run --force` reuses nothing.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { derivedPath, fileHash, type StageContext } from './context.ts';
import { codeHash } from './code-closure.ts';
import { writeFileAtomic } from './io/atomic.ts';
import { sha256File, steadyRead, type KnownHash } from './io/hash.ts';
import { stableStringify } from './io/json.ts';
import type { FolderName, OutputFolder } from './contracts/folder.ts';

const LEDGER_SCHEMA = 'natatlas.units/1';

interface UnitRecord {
  key: string;
  /** `<folder>/<rel>` -> sha256, for every file the unit wrote. */
  files: Record<string, string>;
  /** A unit whose result is not a file of its own (evaluate's priced pair): the result, as JSON. */
  value?: unknown;
}

interface LedgerFile {
  schema: string;
  units: Record<string, UnitRecord>;
}

export class UnitLedger {
  /** Files this run hashed, named where they will be once the stage's folders are swapped in. */
  private readonly known: KnownHash[] = [];
  private readonly next: Record<string, UnitRecord> = Object.create(null) as Record<string, UnitRecord>;
  private readonly code: string;
  private reused = 0;
  private built = 0;

  private constructor(
    private readonly ctx: StageContext,
    private readonly file: string,
    private readonly previous: Record<string, UnitRecord>,
    code: URL,
  ) {
    this.code = codeHash(code);
  }

  /** The ledger of stage `stage` (whose module is `code`) for this campaign; empty when forced or never written. */
  static open(ctx: StageContext, stage: string, code: URL): UnitLedger {
    const file = derivedPath(ctx, '.natatlas', 'units', `${stage}.json`);
    let stored: LedgerFile | null = null;
    if (ctx.recompute !== true) {
      try {
        stored = JSON.parse(fs.readFileSync(file, 'utf8')) as LedgerFile;
      } catch {
        stored = null;
      }
      if (stored?.schema !== LEDGER_SCHEMA) stored = null;
    }
    const units = Object.assign(Object.create(null) as Record<string, UnitRecord>, stored?.units ?? {});
    return new UnitLedger(ctx, file, units, code);
  }

  /** sha256 over the stage's code and `parts` (stable JSON: order of object keys does not matter). */
  key(parts: unknown): string {
    return crypto.createHash('sha256').update(this.code).update('\0').update(stableStringify(parts, 0)).digest('hex');
  }

  /**
   * Carry `unit`'s files from the previous run into `outs` when its key is unchanged and
   * every file still hashes as recorded (through the run's hash cache: `save` hands it
   * each linked file's hash, since the link's new ctime alone would make it read the file
   * again); true when reused (and recorded for next time).
   */
  async reuse(unit: string, key: string, outs: readonly OutputFolder[]): Promise<boolean> {
    const rec = this.previous[unit];
    if (!rec || rec.key !== key) return false;
    const byName = new Map<FolderName, OutputFolder>(outs.map((o) => [o.name, o]));
    const moves: [string, string][] = [];
    const known: KnownHash[] = [];
    for (const [name, sha] of Object.entries(rec.files)) {
      const slash = name.indexOf('/');
      const out = byName.get(name.slice(0, slash) as FolderName);
      if (!out) return false;
      const old = derivedPath(this.ctx, ...name.split('/'));
      const read = await steadyRead(old, () => fileHash(this.ctx, old));
      if (read === null || read.value !== sha) return false;
      moves.push([old, out.file(out.name, name.slice(slash + 1))]);
      // The link lands where `old` is now once the folder is swapped in.
      known.push({ file: old, sha256: sha, seen: read.seen, quiet: read.quiet });
    }
    this.known.push(...known);
    for (const [from, to] of moves) {
      fs.mkdirSync(path.dirname(to), { recursive: true });
      try {
        fs.linkSync(from, to);
      } catch {
        fs.copyFileSync(from, to);
      }
    }
    this.next[unit] = rec;
    this.reused += 1;
    return true;
  }

  /** After building `unit` into `outs`: its key and the files it wrote (relative to their folder, `/`-separated). */
  async record(unit: string, key: string, files: readonly { out: OutputFolder; rel: string }[]): Promise<void> {
    const hashes: Record<string, string> = {};
    for (const { out, rel } of files) {
      const built = out.file(out.name, rel);
      const read = await steadyRead(built, () => sha256File(built));
      const sha = read?.value ?? (await sha256File(built));
      hashes[`${out.name}/${rel}`] = sha;
      if (read) this.known.push({ file: derivedPath(this.ctx, out.name, ...rel.split('/')), sha256: sha, seen: read.seen, quiet: read.quiet });
    }
    this.next[unit] = { key, files: hashes };
    this.built += 1;
  }

  /**
   * The value `remember`ed for `unit` by the previous run when its key is unchanged and
   * `decode` accepts it (recorded for next time), else null. `decode` checks the shape:
   * the ledger is a file anyone may edit.
   */
  recall<T>(unit: string, key: string, decode: (value: unknown) => T | null): T | null {
    const rec = this.previous[unit];
    if (!rec || rec.key !== key || rec.value === undefined) return null;
    const value = decode(rec.value);
    if (value === null) return null;
    this.next[unit] = rec;
    this.reused += 1;
    return value;
  }

  /** After computing `unit`: its key and its result (plain JSON: no Infinity, NaN or typed arrays). */
  remember(unit: string, key: string, value: unknown): void {
    this.next[unit] = { key, files: {}, value };
    this.built += 1;
  }

  /** Units reused and built in this run (for the stage's log line). */
  get counts(): { reused: number; built: number } {
    return { reused: this.reused, built: this.built };
  }

  /** Write the ledger for the next run: call once the stage's folders are swapped in. */
  async save(): Promise<void> {
    const body: LedgerFile = { schema: LEDGER_SCHEMA, units: this.next };
    await writeFileAtomic(this.file, stableStringify(body));
    // The run's hash cache learns the files' hashes in their new places, so the stage
    // stamp and the next stages do not read gigabytes again to hash what was just hashed.
    await this.ctx.hashes?.adopt(this.known);
  }
}
