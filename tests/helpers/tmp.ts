import fs from 'node:fs';
import path from 'node:path';
import type { Logger, Paths, StageContext } from '../../pipeline/context.ts';
import { STAGES } from '../../pipeline/stages/index.ts';
import { tempDir } from './tempdir.ts';

export { tempDir };

/** A fresh temp folder with raw/, derived/, reports/ inside (removed after the test file). */
export function tempProject(): Paths & { root: string } {
  const root = tempDir('test');
  const paths = { root, raw: path.join(root, 'raw'), derived: path.join(root, 'derived'), reports: path.join(root, 'reports') };
  fs.mkdirSync(paths.raw);
  return paths;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
}

/** A logger that records what a stage said. */
export function recordingLogger(): Logger & { lines: string[]; warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  return { lines, warnings, info: (m) => lines.push(m), warn: (m) => warnings.push(m), progress() {} };
}

export function contextFor(paths: Paths, campaign: string, log: Logger): StageContext {
  return { campaign, paths, log };
}

/** Every file under `dir` with its bytes, for byte-identity checks. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const f = path.join(d, name);
      if (fs.statSync(f).isDirectory()) walk(f);
      else out[path.relative(dir, f)] = fs.readFileSync(f, 'latin1');
    }
  };
  walk(dir);
  return out;
}

/**
 * Run options for tests of the data stages: no report rendering and no Monte Carlo
 * (each has its own tests), so a pipeline run costs seconds.
 */
export const FAST_RUN = {
  stages: STAGES.filter((s) => s.name !== 'report'),
  settings: { montecarlo: false as const },
};

/** Run options for tests that check only what ingest and join write (manifest, rejects, joined rows, summaries). */
export const INGEST_JOIN = {
  stages: STAGES.filter((s) => s.name === 'ingest' || s.name === 'join'),
  settings: { montecarlo: false as const },
};
