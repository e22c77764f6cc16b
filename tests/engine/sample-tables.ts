/** The bias tables the pipeline writes for the embedded sample campaign, in a temp project. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { runPipeline } from '../../pipeline/run.ts';
import { FAST_RUN, recordingLogger, tempProject } from '../helpers/tmp.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface SampleTables {
  root: string;
  derived: string;
  /** derived/sample/bias */
  bias: string;
  /** Table files by carrier, as the bias index lists them. */
  tables: { carrier: string; file: string }[];
}

/** Runs ingest..bias (no Monte Carlo, no report) on a temp copy of raw/sample. */
export async function sampleTables(): Promise<SampleTables> {
  const p = tempProject();
  fs.cpSync(path.join(REPO, 'raw', 'sample'), path.join(p.raw, 'sample'), { recursive: true });
  await runPipeline({ paths: p, campaign: 'sample', ...FAST_RUN }, recordingLogger());
  const bias = path.join(p.derived, 'sample', 'bias');
  const index = JSON.parse(fs.readFileSync(path.join(bias, 'index.json'), 'utf8')) as { tables: { carrier: string; file: string }[] };
  return { root: p.root, derived: p.derived, bias, tables: index.tables.map((t) => ({ carrier: t.carrier, file: path.join(bias, t.file) })) };
}

/**
 * The environment for child npm, node and kotlinc processes: none of a parent `npm test`'s
 * npm_* settings. kotlinc gets the JVM's quick compiler only (C1) unless JAVA_OPTS says
 * otherwise: a compile of the generated tables took a third less CPU that way, and the
 * jar it writes runs the same.
 */
export function childEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  // Debian's kotlinc passes JAVA_OPTS to java (its default heap settings kept).
  env.JAVA_OPTS ??= '-Xmx256M -Xms32M -XX:TieredStopAtLevel=1';
  return env;
}

/** Run a command; throw with its output when it fails. */
export function run(command: string, args: string[], cwd: string, timeout = 120_000): string {
  const r = spawnSync(command, args, { cwd, env: childEnv(), encoding: 'utf8', timeout, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) {
    throw new Error(`${path.basename(command)} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ''}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}
