/**
 * The stages in pipeline order, each declaring what decides its freshness (its
 * version and the files it reads) and what it writes, so `natatlas run` can skip
 * work that is up to date (the idea of vega-lite's dataflow nodes and Observable
 * Framework's loaders).
 */
import { derivedPath, rawPath, type StageContext } from '../context.ts';
import { ALIASES_FILE } from '../evaluate/aliases.ts';
import { listFiles } from '../io/files.ts';
import { readCampaign } from '../raw/layout.ts';
import { ingest } from './ingest.ts';
import { join } from './join.ts';
import { fit } from './fit.ts';
import { bias } from './bias.ts';
import { evaluate, simulatorSettings } from './evaluate.ts';
import { reportInputs, REPORT_VERSION } from '../report/inputs.ts';
import { BIAS_SCHEMA_FILE } from '../bias/validate.ts';

export interface Stage {
  name: string;
  /** Bump when the stage's output for the same input changes. */
  version: number;
  description: string;
  /** Settings that change the stage's output (recorded in its stamp); default none. */
  config?(ctx: StageContext): unknown;
  /** Files whose contents decide whether the stage's outputs are current. */
  inputs(ctx: StageContext): string[];
  /** Do the work; returns the files and folders written. */
  run(ctx: StageContext): Promise<{ outputs: string[] }>;
}

export const STAGES: readonly Stage[] = [
  {
    name: 'ingest',
    version: 1,
    description: 'validate raw captures, write normalized rows, rejects.csv and a manifest of file hashes',
    inputs(ctx) {
      const layout = readCampaign(ctx.paths.raw, ctx.campaign);
      return [
        ...layout.carriers.flatMap((c) => [...c.client, ...c.server, ...c.timeouts, ...(c.natType ? [c.natType] : [])].map((f) => f.abs)),
        ...layout.trials.map((f) => f.abs),
      ];
    },
    run: ingest,
  },
  {
    name: 'join',
    version: 1,
    description: 'inner join client and server rows on the packet UUID; per-carrier joined CSV and summary counts',
    inputs: (ctx) => listFiles(derivedPath(ctx, 'ingest')),
    run: join,
  },
  {
    name: 'fit',
    version: 1,
    description: 'per carrier: mapping behaviour, port preservation, allocation families compared by AIC, conditional model, timeouts',
    inputs: (ctx) => ['ingest', 'joined', 'summary'].flatMap((d) => listFiles(derivedPath(ctx, d))),
    run: fit,
  },
  {
    name: 'evaluate',
    version: 1,
    description: 'packets per side for 50/90/99/99.9% success per carrier pair, naive vs biased; the trials success matrix',
    config: (ctx) => simulatorSettings(ctx),
    inputs: (ctx) => [...listFiles(derivedPath(ctx, 'fit')), ...listFiles(derivedPath(ctx, 'ingest', 'trials.csv')), ...listFiles(derivedPath(ctx, 'ingest', 'manifest.json')), ...listFiles(rawPath(ctx, ALIASES_FILE))],
    run: evaluate,
  },
  {
    name: 'bias',
    version: 1,
    description: 'write the bias tables engines import (derived/<campaign>/bias/<carrier>.json), each validated against the schema',
    inputs: (ctx) => [...listFiles(derivedPath(ctx, 'fit')), ...listFiles(derivedPath(ctx, 'summary')), ...listFiles(derivedPath(ctx, 'evaluate', 'attack.json')), BIAS_SCHEMA_FILE],
    run: bias,
  },
  {
    name: 'report',
    version: REPORT_VERSION,
    description: 'render notebooks/ over the derived data into reports/<campaign>/: HTML pages, figures (SVG, PNG, CSV) and LaTeX tables',
    inputs: (ctx) => reportInputs(ctx, { notebooksDir: ctx.settings?.notebooks }),
    // Loaded only when the report really runs: vega, resvg and pdfkit cost every other command ~2 s.
    run: async (ctx) => (await import('../report/index.ts')).report(ctx, { notebooksDir: ctx.settings?.notebooks }),
  },
];

export function stageByName(name: string): Stage | undefined {
  return STAGES.find((s) => s.name === name);
}
