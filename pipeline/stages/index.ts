/**
 * The stages in pipeline order, each declaring the contracts (pipeline/contracts/) it
 * reads and writes, the other files that decide its output, and the module that runs
 * it. `natatlas run` works from these declarations alone, as vega-lite's optimiser
 * works from its dataflow nodes' declared fields and Observable Framework from its
 * loaders: a stage's freshness hashes exactly the files it reads and the code it
 * imports (code-closure.ts), and `stageDiagram()` draws the system (run.ts, docs/design.md).
 */
import { rawPath, type StageContext } from '../context.ts';
import { ALIASES_FILE } from '../evaluate/aliases.ts';
import { listFiles } from '../io/files.ts';
import { readCampaign } from '../raw/layout.ts';
import { BIAS_SCHEMA_FILE } from '../bias/validate.ts';
import type { Contract } from '../contracts/index.ts';
import { ATTACK } from '../contracts/attack.ts';
import { BIAS_INDEX } from '../contracts/bias-index.ts';
import { BIAS_TABLES } from '../contracts/bias-table.ts';
import { FITS } from '../contracts/fit.ts';
import { CLIENT_ROWS, NAT_TYPE, SERVER_ROWS, TIMEOUT_ROWS, TRIAL_ROWS } from '../contracts/ingest-rows.ts';
import { JOINED } from '../contracts/joined.ts';
import { MANIFEST } from '../contracts/manifest.ts';
import { MATRIX } from '../contracts/matrix.ts';
import { REJECTS } from '../contracts/rejects.ts';
import { SUMMARIES } from '../contracts/summary.ts';
import { ingest } from './ingest.ts';
import { join } from './join.ts';
import { fit, fitFromPartials } from './fit.ts';
import { allPartialFiles } from '../contracts/partials.ts';
import { bias } from './bias.ts';
import { evaluate, simulatorSettings } from './evaluate.ts';
import { report, reportConfig, reportStageSources, REPORT_VERSION } from './report.ts';

export interface Stage {
  name: string;
  /** Bump when the stage's output for the same input changes. */
  version: number;
  description: string;
  /** The contracts whose files it reads. */
  reads: readonly Contract[];
  /** The contracts whose files it writes (each names this stage as its writer). */
  writes: readonly Contract[];
  /** What else it reads, for the diagram (`raw/<campaign>/`, `notebooks/`). */
  alsoReads?: string;
  /** What it writes outside the contracts, for the diagram. */
  alsoWrites?: string;
  /** Files other than contracts whose contents decide its output (raw captures, notebooks, schemas). */
  sources?(ctx: StageContext): string[];
  /** Settings that change the stage's output (recorded in its stamp); default none. */
  config?(ctx: StageContext): unknown;
  /** The module that runs the stage: its import closure is the code its stamp hashes. */
  code: URL;
  /** Do the work; returns the files and folders written. */
  run(ctx: StageContext): Promise<{ outputs: string[] }>;
}

/** Files whose contents decide whether the stage's outputs are current: its contracts' files, then its sources. */
export function stageInputs(stage: Stage, ctx: StageContext): string[] {
  return [...stage.reads.flatMap((c) => c.files(ctx)), ...(stage.sources?.(ctx) ?? [])];
}

export const STAGES: readonly Stage[] = [
  {
    name: 'ingest',
    version: 1,
    description: 'validate raw captures, write normalized rows, rejects.csv and a manifest of file hashes',
    reads: [],
    alsoReads: 'raw/<campaign>/',
    writes: [CLIENT_ROWS, SERVER_ROWS, TIMEOUT_ROWS, NAT_TYPE, TRIAL_ROWS, MANIFEST, REJECTS],
    sources(ctx) {
      const layout = readCampaign(ctx.paths.raw, ctx.campaign);
      return [
        ...layout.carriers.flatMap((c) => [...c.client, ...c.server, ...c.timeouts, ...(c.natType ? [c.natType] : [])].map((f) => f.abs)),
        ...layout.trials.map((f) => f.abs),
      ];
    },
    code: new URL('./ingest.ts', import.meta.url),
    run: ingest,
  },
  {
    name: 'join',
    version: 1,
    description: 'inner join client and server rows on the packet UUID; per-carrier joined rows and summary counts',
    reads: [MANIFEST, CLIENT_ROWS, SERVER_ROWS],
    writes: [JOINED, SUMMARIES],
    code: new URL('./join.ts', import.meta.url),
    run: join,
  },
  {
    name: 'fit',
    version: 1,
    description: 'per carrier: mapping behaviour, port preservation, allocation families compared on held-out runs, conditional model, timeouts',
    reads: [MANIFEST, SERVER_ROWS, TIMEOUT_ROWS, NAT_TYPE, JOINED, SUMMARIES],
    writes: [FITS],
    code: new URL('./fit.ts', import.meta.url),
    run: fit,
  },
  {
    name: 'evaluate',
    version: 1,
    description: 'packets per side for 50/90/99/99.9% success per carrier pair, naive vs biased; the trials success matrix',
    reads: [MANIFEST, FITS, TRIAL_ROWS],
    alsoReads: `raw/<campaign>/${ALIASES_FILE}`,
    writes: [ATTACK, MATRIX],
    sources: (ctx) => listFiles(rawPath(ctx, ALIASES_FILE)),
    config: (ctx) => simulatorSettings(ctx),
    code: new URL('./evaluate.ts', import.meta.url),
    run: evaluate,
  },
  {
    name: 'bias',
    version: 1,
    description: 'write the bias tables engines import (derived/<campaign>/bias/<carrier>.json), each validated against the schema',
    reads: [MANIFEST, FITS, SUMMARIES, ATTACK],
    writes: [BIAS_TABLES, BIAS_INDEX],
    sources: () => [BIAS_SCHEMA_FILE],
    code: new URL('./bias.ts', import.meta.url),
    run: bias,
  },
  {
    name: 'report',
    version: REPORT_VERSION,
    description: 'render notebooks/ over the derived data into reports/<campaign>/: HTML pages, figures (SVG, PNG, CSV) and LaTeX tables',
    reads: [MANIFEST, REJECTS, SUMMARIES, JOINED, FITS, ATTACK, MATRIX, BIAS_TABLES, BIAS_INDEX],
    alsoReads: 'notebooks/',
    writes: [],
    alsoWrites: 'reports/<campaign>/',
    sources: reportStageSources,
    code: new URL('./report.ts', import.meta.url),
    config: reportConfig,
    run: report,
  },
];

export function stageByName(name: string): Stage | undefined {
  return STAGES.find((s) => s.name === name);
}

/**
 * `natatlas fit --partials DIR`: the fit stage with partials computed elsewhere
 * (contracts/partials.ts) as its inputs in place of the joined rows, server rows, probes
 * and summaries. Its stamp records those files and a setting that says where the fit came
 * from, so a later `natatlas run` sees fit as stale (settings changed) and refits from
 * the campaign's own joined rows, which are the source of truth when it has them.
 */
export function partialsFitStage(dir: string): Stage {
  const fitStage = stageByName('fit')!;
  return {
    ...fitStage,
    reads: [MANIFEST, NAT_TYPE],
    alsoReads: 'fit partials',
    sources: () => allPartialFiles(dir),
    config: () => ({ from: 'partials' }),
    run: (ctx) => fitFromPartials(ctx, dir),
  };
}

/**
 * The system as the stages declare it: per stage, what it reads and writes (contract
 * names; see contracts/index.ts for their files). run.ts's header and docs/design.md
 * hold this text, and a test keeps them equal to it.
 */
export function stageDiagram(stages: readonly Stage[] = STAGES): string[] {
  const names = (cs: readonly Contract[], also?: string) => [...(also ? [also] : []), ...cs.map((c) => c.name)].join(', ');
  const width = Math.max(...stages.map((s) => s.name.length));
  return stages.flatMap((s) => [
    `${s.name.padEnd(width)}  reads  ${names(s.reads, s.alsoReads)}`,
    `${' '.repeat(width)}  writes ${names(s.writes, s.alsoWrites)}`,
  ]);
}
