/**
 * `natatlas export`: engine sources from a campaign's bias tables. The tables are read
 * and validated through @natatlas/bias, rendered to text (the same tables give the same
 * bytes), and each output file is written atomically (temp name, then rename), so an
 * engine build never compiles a half-written file.
 */
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic.ts';
import type { Logger } from '../context.ts';
import { readExportInput } from './inputs.ts';
import { renderTypeScript, TS_FILE } from './typescript.ts';
import { KOTLIN_FILE, renderKotlin } from './kotlin.ts';

export interface ExportOptions {
  /** The derived folder holding `<campaign>/bias/`. */
  derived: string;
  campaign: string;
  /** Folder the sources are written into (created if missing; other files in it are left alone). */
  out: string;
  typescript: boolean;
  kotlin: boolean;
  /** Package of the Kotlin file. */
  kotlinPackage: string;
}

/** Render every requested file first, then write them; returns the files written. */
export async function exportCampaign(options: ExportOptions, log: Logger): Promise<string[]> {
  const input = readExportInput(options.derived, options.campaign);
  const files: [string, string][] = [];
  if (options.typescript) files.push([TS_FILE, renderTypeScript(input)]);
  if (options.kotlin) files.push([KOTLIN_FILE, renderKotlin(input, options.kotlinPackage)]);
  const written: string[] = [];
  for (const [name, text] of files) {
    const file = path.join(options.out, name);
    await writeFileAtomic(file, text);
    written.push(file);
  }
  log.info(`export ${options.campaign}: ${input.carriers.length} carrier${input.carriers.length === 1 ? '' : 's'} (${input.carriers.map((c) => c.id).join(', ')}) -> ${files.map(([n]) => n).join(', ')}`);
  return written;
}
