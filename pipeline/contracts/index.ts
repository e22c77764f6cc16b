/**
 * The contracts: one module per file that passes between stages, each owning the
 * file's type, its columns or generated JSON Schema, and the only reader and writer
 * (both validate). Stages declare which of these they read and write
 * (stages/index.ts); freshness hashes exactly those files, and `natatlas run`'s
 * diagram (run.ts, docs/design.md) is drawn from the declarations.
 *
 *   contract        file under derived/<campaign>/                module
 *   client rows     ingest/carriers/<carrier>/client/<run>.cols   ingest-rows.ts
 *   server rows     ingest/carriers/<carrier>/server/<run>.cols   ingest-rows.ts
 *   timeout probes  ingest/carriers/<carrier>/timeouts.csv        ingest-rows.ts
 *   nat type        ingest/carriers/<carrier>/nat-type.json       ingest-rows.ts
 *   trials          ingest/trials.csv                             ingest-rows.ts
 *   manifest        ingest/manifest.json                          manifest.ts
 *   rejects         rejects.csv                                   rejects.ts
 *   joined rows     joined/<carrier>.cols                         joined.ts
 *   summary         summary/<carrier>.json                        summary.ts
 *   fit             fit/<carrier>.json                            fit.ts
 *   attack          evaluate/attack.json                          attack.ts
 *   matrix          evaluate/matrix.json                          matrix.ts
 *   bias table      bias/<carrier>.json                           bias-table.ts (@natatlas/bias)
 *   bias index      bias/index.json                               bias-index.ts
 */
import { ATTACK } from './attack.ts';
import { BIAS_INDEX } from './bias-index.ts';
import { BIAS_TABLES } from './bias-table.ts';
import { FITS } from './fit.ts';
import type { Contract } from './folder.ts';
import { CLIENT_ROWS, NAT_TYPE, SERVER_ROWS, TIMEOUT_ROWS, TRIAL_ROWS } from './ingest-rows.ts';
import { JOINED } from './joined.ts';
import { MANIFEST } from './manifest.ts';
import { MATRIX } from './matrix.ts';
import { REJECTS } from './rejects.ts';
import { SUMMARIES } from './summary.ts';

export type { Contract, StageName } from './folder.ts';

/** Every contract, in the order the stages write them. */
export const CONTRACTS: readonly Contract[] = [
  CLIENT_ROWS, SERVER_ROWS, TIMEOUT_ROWS, NAT_TYPE, TRIAL_ROWS, MANIFEST, REJECTS, JOINED, SUMMARIES, FITS, ATTACK, MATRIX, BIAS_TABLES, BIAS_INDEX,
];
