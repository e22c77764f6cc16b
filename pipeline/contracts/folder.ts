/**
 * Where contracts live and how a stage's folder is swapped in. A stage writes each of
 * its output folders whole (io/atomic.ts `replaceDir`): the contract modules write into
 * the folder being built, an `OutputFolder`, and refuse one of another name, so a writer
 * cannot put its file in a folder another stage owns.
 */
import fs from 'node:fs';
import path from 'node:path';
import { derivedPath, type StageContext } from '../context.ts';
import { OUTPUT_MARKER, replaceDir } from '../io/atomic.ts';
import { listFiles } from '../io/files.ts';

/** The stages that write derived files, in pipeline order. */
export type StageName = 'ingest' | 'join' | 'fit' | 'evaluate' | 'bias' | 'report';

/** Folders under `derived/<campaign>/` that a stage replaces whole. */
export type FolderName = 'ingest' | 'joined' | 'summary' | 'fit' | 'evaluate' | 'bias';

/** A derived file (or family of files, one per carrier) that passes between stages. */
export interface Contract {
  /** Its name in the stage diagram and the design document. */
  readonly name: string;
  /** Its place under `derived/<campaign>/`, `<carrier>` standing for a carrier's file stem. */
  readonly pattern: string;
  readonly writtenBy: StageName;
  /** The files it occupies for a campaign now (what freshness hashes), sorted. */
  files(ctx: StageContext): string[];
}

/** A folder being built by `replaceFolder`; writers put their files inside `dir`. */
export class OutputFolder {
  constructor(readonly name: FolderName, readonly dir: string) {}

  /** `dir/<rel>`, refusing a contract that belongs to another folder. */
  file(owner: FolderName, rel: string): string {
    if (owner !== this.name) throw new Error(`a file of ${owner}/ cannot be written into the ${this.name}/ folder`);
    return path.join(this.dir, ...rel.split('/'));
  }
}

/** `derived/<campaign>/<rel>` (rel uses `/`). */
export function derivedFile(ctx: StageContext, rel: string): string {
  return derivedPath(ctx, ...rel.split('/'));
}

/** Every file under `derived/<campaign>/<rel>` (a file or folder) except the output-folder marker. */
export function filesUnder(ctx: StageContext, rel: string): string[] {
  return listFiles(derivedFile(ctx, rel)).filter((f) => path.basename(f) !== OUTPUT_MARKER);
}

/** The contract fields of a file at a fixed place, `derived/<campaign>/<rel>`. */
export function fixedFile(name: string, rel: string, writtenBy: StageName): Contract {
  return { name, pattern: rel, writtenBy, files: (ctx) => filesUnder(ctx, rel) };
}

/** Whether `derived/<campaign>/<folder>/` exists (its stage has run). */
export function folderExists(ctx: StageContext, folder: FolderName): boolean {
  return fs.existsSync(derivedPath(ctx, folder));
}

/** Build `derived/<campaign>/<name>/` beside the old one and swap it in; returns its path (a stage output). */
export async function replaceFolder(ctx: StageContext, name: FolderName, build: (out: OutputFolder) => Promise<void>): Promise<string> {
  const target = derivedPath(ctx, name);
  await replaceDir(target, (tmp) => build(new OutputFolder(name, tmp)));
  return target;
}
