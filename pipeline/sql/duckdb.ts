/**
 * partials.sql on DuckDB (`@duckdb/node-api`, a devDependency): a campaign's raw capture
 * CSVs in, a partials folder out (contracts/partials.ts), one `<table>.csv` per table.
 * The same SQL runs on Spark with its own prelude (README "Beyond one machine"); this
 * runner is what the acceptance test and a one-big-machine run use.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { PARTIAL_COLUMNS, type PartialTable } from '../contracts/partials.ts';

const SQL_DIR = new URL('./', import.meta.url);

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The `windows` view: mapping window per carrier, seconds (carriers left out get 10). */
function windowsView(windows: Record<string, number>): string {
  const rows = Object.entries(windows).map(([c, w]) => `SELECT ${sqlString(c)} AS carrier, CAST(${sqlString(String(w))} AS DOUBLE) AS window_s`);
  return `CREATE OR REPLACE TEMPORARY VIEW windows AS ${rows.length > 0 ? rows.join(' UNION ALL ') : 'SELECT CAST(NULL AS VARCHAR) AS carrier, CAST(NULL AS DOUBLE) AS window_s WHERE 1 = 0'}`;
}

export interface DuckdbPartialsOptions {
  /** raw/<campaign>/ */
  campaignDir: string;
  /** The partials folder to write. */
  out: string;
  /** Mapping window per carrier, seconds (what `natatlas fit --partials` asks for); default 10 s. */
  windows?: Record<string, number>;
}

/** Compute a campaign's partials with partials.sql in DuckDB and write them to `out`. */
export async function duckdbPartials(opts: DuckdbPartialsOptions): Promise<void> {
  const sources = fs.readFileSync(new URL('sources-duckdb.sql', SQL_DIR), 'utf8').replaceAll('${campaign_dir}', opts.campaignDir.replace(/'/g, "''"));
  const partials = fs.readFileSync(new URL('partials.sql', SQL_DIR), 'utf8');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    await conn.run(sources);
    await conn.run(windowsView(opts.windows ?? {}));
    await conn.run(partials);
    fs.mkdirSync(opts.out, { recursive: true });
    for (const table of Object.keys(PARTIAL_COLUMNS) as PartialTable[]) {
      const target = path.join(opts.out, `${table}.csv`);
      // Written beside, renamed into place: a failed run leaves no half table.
      const tmp = `${target}.tmp-${process.pid}`;
      // Sorted: the same campaign gives the same bytes (the reader takes rows in any order).
      const columns = PARTIAL_COLUMNS[table].join(', ');
      await conn.run(`COPY (SELECT ${columns} FROM partial_${table} ORDER BY ${columns}) TO ${sqlString(tmp)} (FORMAT csv, HEADER true)`);
      fs.renameSync(tmp, target);
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
