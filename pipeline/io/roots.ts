/**
 * Outputs can never touch inputs. natatlas replaces whole folders under `--derived`
 * and `--reports`, so before anything is written the three roots, and each campaign's
 * raw folder, are resolved to real paths (symlinks followed; for a folder not made yet,
 * its nearest existing parent) and any two that are the same folder or nest are refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NatatlasError } from '../errors.ts';
import type { Paths } from '../context.ts';
import { displayPath } from './fs-errors.ts';
import { printable } from './names.ts';

/** The real path of `p`, or of its nearest existing ancestor joined with the rest. */
export function realPathOf(p: string): string {
  const abs = path.resolve(p);
  const rest: string[] = [];
  for (let dir = abs; ; dir = path.dirname(dir)) {
    try {
      return path.join(fs.realpathSync.native(dir), ...rest.reverse());
    } catch {
      if (path.dirname(dir) === dir) return abs;
      rest.push(path.basename(dir));
    }
  }
}

/** `inner` is `outer` or lies inside it (both real, absolute). */
function within(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function clash(a: { label: string; path: string }, b: { label: string; path: string }): string | null {
  const ra = realPathOf(a.path);
  const rb = realPathOf(b.path);
  if (ra === rb) return `${a.label} and ${b.label} are the same folder`;
  if (within(ra, rb)) return `${a.label} is inside ${b.label}`;
  if (within(rb, ra)) return `${b.label} is inside ${a.label}`;
  return null;
}

const WHY = 'natatlas replaces whole folders under --derived and --reports, so the three must be separate folders';

/** Refuse roots that are the same folder or nest (through symlinks too). */
export function checkRoots(paths: Paths): void {
  const roots = (['raw', 'derived', 'reports'] as const).map((k) => ({ label: `--${k} ${displayPath(paths[k])}`, path: paths[k] }));
  for (let i = 0; i < roots.length; i++) {
    for (let j = i + 1; j < roots.length; j++) {
      const c = clash(roots[i]!, roots[j]!);
      if (c) throw new NatatlasError(`${printable(c)}: ${WHY}`);
    }
  }
}

/** Refuse a campaign whose raw folder is (a link to) a place inside --derived or --reports, or holds them. */
export function checkCampaignFolder(paths: Paths, campaign: string): void {
  const raw = { label: `campaign folder ${displayPath(path.join(paths.raw, campaign))}`, path: path.join(paths.raw, campaign) };
  for (const k of ['derived', 'reports'] as const) {
    const c = clash(raw, { label: `--${k} ${displayPath(paths[k])}`, path: paths[k] });
    if (c) throw new NatatlasError(`${printable(c)}: ${WHY}`);
  }
}

/** Refuse a `--campaign` that is not one plain folder name (`../x`, `.`, `a/b`, an absolute path). */
export function checkCampaignName(name: string, flag = '--campaign'): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes(path.sep) || name.includes('\0')) {
    throw new NatatlasError(`${flag} ${JSON.stringify(printable(name))} is not a campaign name: give the name of one folder under --raw (no slashes, not . or ..)`);
  }
}
