/**
 * Upgrading from a natatlas that did not mark its output folders: replaceDir refuses a
 * folder without the marker, so before a campaign's stages run, each of its output
 * folders that lacks one is marked when every file in it is one the campaign's stamps
 * (`derived/<campaign>/.natatlas/stamps.json`) record natatlas writing. A folder holding
 * anything else is left alone, and the stage that would replace it stops naming it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { derivedPath, reportsPath, type StageContext } from './context.ts';
import { isOutputFolder, markOutputFolder } from './io/atomic.ts';
import { listFiles } from './io/files.ts';

/** Marks and returns the unmarked output folders of `ctx`'s campaign that hold only recorded outputs. */
export function adoptLegacyOutputs(ctx: StageContext): string[] {
  let stamps: Record<string, { outputs?: Record<string, string> }>;
  try {
    stamps = JSON.parse(fs.readFileSync(derivedPath(ctx, '.natatlas', 'stamps.json'), 'utf8')) as typeof stamps;
  } catch {
    return [];
  }
  const derivedRoot = derivedPath(ctx);
  const recorded = new Set<string>();
  const candidates = new Set<string>([reportsPath(ctx)]);
  for (const stamp of Object.values(stamps)) {
    for (const key of Object.keys(stamp?.outputs ?? {})) {
      const slash = key.indexOf('/');
      const root = key.slice(0, slash) === 'derived' ? ctx.paths.derived : key.slice(0, slash) === 'reports' ? ctx.paths.reports : null;
      if (root === null) continue;
      const file = path.join(root, ...key.slice(slash + 1).split('/'));
      recorded.add(file);
      const rel = path.relative(derivedRoot, file).split(path.sep);
      if (rel.length > 1 && rel[0] !== '..' && rel[0] !== '.natatlas') candidates.add(path.join(derivedRoot, rel[0]!));
    }
  }
  const adopted: string[] = [];
  for (const dir of [...candidates].sort()) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch {
      continue;
    }
    if (!st.isDirectory() || isOutputFolder(dir)) continue;
    const files = listFiles(dir);
    if (files.length > 0 && files.every((f) => recorded.has(f))) {
      markOutputFolder(dir);
      adopted.push(dir);
    }
  }
  return adopted;
}
