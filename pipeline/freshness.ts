/**
 * Stage stamps: after a stage succeeds, `derived/<campaign>/.natatlas/stamps.json`
 * records its version, the hash of the code it runs (its import closure, code-closure.ts),
 * its settings, the sha256 of every input and of every output. A stage is fresh while
 * all of them still match. Hashes are cached while a file's size, mtime, ctime
 * and inode are unchanged (io/hash.ts), so a no-op rerun reads no data; `verify` ignores
 * that cache and reads every file again.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { HashCache, type CacheEntry } from './io/hash.ts';
import { stableStringify } from './io/json.ts';
import { writeFileAtomic } from './io/atomic.ts';
import { derivedPath, type StageContext } from './context.ts';
import { listFiles } from './io/files.ts';
import { stageInputs, type Stage } from './stages/index.ts';
import { codeHash as moduleCodeHash } from './code-closure.ts';

interface Stamp {
  version: number;
  /** sha256 over the stage's code (its import closure): a change reruns the stage even without a version bump. */
  code: string;
  /** The stage's settings (stable JSON), when it has any. */
  config?: string;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

type Stamps = Record<string, Stamp>;

export type Freshness = { fresh: true } | { fresh: false; reason: string };

/** The repository root: natatlas's own files (notebooks, node_modules) are named relative to it. */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Names files by root (`raw/...`, `derived/...`, `reports/...`, `notebooks/...` for a
 * `--notebooks` folder, `package/...`) so stamps hold no machine paths; a file under none
 * of them is named by a hash of its resolved path (`outside/<hex>`).
 */
export function keyOf(ctx: StageContext, file: string): string {
  const under = (root: string) => {
    const rel = path.relative(root, file);
    return rel.startsWith('..') || path.isAbsolute(rel) ? null : rel.split(path.sep).join('/');
  };
  const roots: [string, string][] = [['derived', ctx.paths.derived], ['raw', ctx.paths.raw], ['reports', ctx.paths.reports]];
  if (ctx.settings?.notebooks !== undefined) roots.push(['notebooks', ctx.settings.notebooks]);
  roots.push(['package', PACKAGE_ROOT]);
  for (const [name, root] of roots) {
    const rel = under(root);
    if (rel !== null) return `${name}/${rel}`;
  }
  return `outside/${crypto.createHash('sha256').update(path.resolve(file)).digest('hex').slice(0, 16)}`;
}

/** Inverse of keyOf for the roots a stage writes to. */
function fileOf(ctx: StageContext, key: string): string {
  const slash = key.indexOf('/');
  const roots: Record<string, string> = { derived: ctx.paths.derived, raw: ctx.paths.raw, reports: ctx.paths.reports, package: PACKAGE_ROOT };
  const root = roots[key.slice(0, slash)];
  return root === undefined ? key : path.join(root, key.slice(slash + 1));
}

export class StampStore {
  private readonly dir: string;
  private stamps: Stamps;
  private readonly cache: HashCache;

  constructor(private readonly ctx: StageContext, opts: { verify?: boolean } = {}) {
    this.dir = derivedPath(ctx, '.natatlas');
    this.stamps = readJson<Stamps>(path.join(this.dir, 'stamps.json')) ?? {};
    const cached = readJson<Record<string, CacheEntry>>(path.join(this.dir, 'hashes.json')) ?? {};
    this.cache = new HashCache(cached, (f) => keyOf(ctx, f), { verify: opts.verify });
  }

  /** The run's hash cache, for stages that hash the same files (StageContext.hashes). */
  get hashes(): HashCache {
    return this.cache;
  }

  private async hashAll(files: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const f of files) out[keyOf(this.ctx, f)] = (await this.cache.hash(f)) ?? 'missing';
    return out;
  }

  async check(stage: Stage): Promise<Freshness> {
    const stamp = this.stamps[stage.name];
    if (!stamp) return { fresh: false, reason: 'never run' };
    if (stamp.version !== stage.version) return { fresh: false, reason: `stage version ${stamp.version} -> ${stage.version}` };
    if (stamp.code !== codeHash(stage)) return { fresh: false, reason: 'natatlas code changed' };
    if (stamp.config !== configOf(stage, this.ctx)) return { fresh: false, reason: 'settings changed' };
    const inputs = await this.hashAll(stageInputs(stage, this.ctx));
    const diff = describeDiff(stamp.inputs, inputs);
    if (diff) return { fresh: false, reason: `input ${diff}` };
    for (const [key, sha] of Object.entries(stamp.outputs)) {
      if ((await this.cache.hash(fileOf(this.ctx, key))) !== sha) return { fresh: false, reason: `output ${key} changed or missing` };
    }
    return { fresh: true };
  }

  async record(stage: Stage, outputs: string[]): Promise<void> {
    const inputs = await this.hashAll(stageInputs(stage, this.ctx));
    const outs = await this.hashAll(outputs.flatMap(listFiles));
    this.stamps[stage.name] = { version: stage.version, code: codeHash(stage), config: configOf(stage, this.ctx), inputs, outputs: outs };
    await writeFileAtomic(path.join(this.dir, 'stamps.json'), stableStringify(this.stamps));
    await this.save();
  }

  async save(): Promise<void> {
    if (this.cache.changed) await writeFileAtomic(path.join(this.dir, 'hashes.json'), stableStringify(this.cache.toJSON()));
  }
}

/** A stage's settings as its stamp records them; none (undefined) when it has no config or it says undefined. */
function configOf(stage: Stage, ctx: StageContext): string | undefined {
  const config = stage.config?.(ctx);
  return config === undefined ? undefined : stableStringify(config, 0);
}

/** sha256 of the code `stage` runs (its module's import closure under pipeline/), computed once per process. */
export function codeHash(stage: Pick<Stage, 'code'>): string {
  return moduleCodeHash(stage.code);
}

function describeDiff(before: Record<string, string>, after: Record<string, string>): string | null {
  for (const k of Object.keys(after)) {
    if (!(k in before)) return `${k} added`;
    if (before[k] !== after[k]) return `${k} changed`;
  }
  for (const k of Object.keys(before)) if (!(k in after)) return `${k} removed`;
  return null;
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}
