/**
 * The bench's DuckDB peer: the work of natatlas's ingest + join written as one query
 * over the raw capture CSVs. Every carrier's client and server files are read with
 * `read_csv` (all columns as text, so the server files' `Failed, to, launch` rows and
 * end markers do not stop the read), sent rows are inner-joined to server rows on the
 * message id, and the joined rows' external ports make a per-carrier histogram.
 *
 * Not quite natatlas's counts: a server row seen twice joins twice here, where natatlas
 * counts the second one as a duplicate (a handful of rows in a simulated campaign).
 */
import path from 'node:path';

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function readCsv(glob: string, names: string[]): string {
  return `read_csv(${sqlString(glob)}, header = true, all_varchar = true, null_padding = true, ignore_errors = true, filename = true, names = [${names.map(sqlString).join(', ')}])`;
}

export function duckdbJoinSql(rawRoot: string, campaign: string): string {
  const dir = path.join(rawRoot, campaign);
  return `
WITH client AS (
  SELECT lower(trim(id)) AS uuid, TRY_CAST(trim(time) AS BIGINT) AS send_time, TRY_CAST(trim(local_port) AS INTEGER) AS local_port
  FROM ${readCsv(path.join(dir, '*', 'client-*.csv'), ['id', 'time', 'local_port', 'dest_port', 'success'])}
  WHERE trim(success) = 'S' AND length(trim(id)) = 36
), server AS (
  SELECT lower(trim(id)) AS uuid, parse_dirname(filename) AS carrier, TRY_CAST(trim(external_port) AS INTEGER) AS external_port
  FROM ${readCsv(path.join(dir, '*', 'server-*.csv'), ['id', 'time', 'external_port', 'server_port'])}
  WHERE length(trim(id)) = 36
), histogram AS (
  SELECT carrier, external_port, count(*) AS n FROM client JOIN server USING (uuid) GROUP BY ALL
)
SELECT sum(n)::BIGINT AS joined, count(*)::BIGINT AS bins FROM histogram`;
}
