-- natatlas fit partials (pipeline/contracts/partials.ts) from raw capture rows, in SQL that
-- DuckDB and Spark SQL both run: standard window functions, CASE, TRY_CAST, lower/trim/
-- upper/length and regexp_extract (the same signature in both), no engine macros.
--
-- Input: four views an engine-specific prelude defines (README "Beyond one machine";
-- pipeline/sql/sources-duckdb.sql reads a campaign's raw CSVs or Parquet copies):
--
--   client_lines(carrier, run, line, id, time, local_port, dest_port, success)
--   server_lines(carrier, run, line, id, time, external_port, server_port)
--   timeout_lines(carrier, line, probe_id, kind, delay_s, replied)
--   windows(carrier, window_s)      mapping window per carrier, seconds (absent: 10)
--
-- Every field as the capture wrote it (text, spaces allowed); `line` orders a file's
-- rows as written (any increasing number), and runs order by number when they are named
-- by one (the capture app's 01, 02, ...), else by name. The window of a carrier is half
-- its wait timeout's lower end, at most 10 s: `natatlas fit --partials` says which
-- window the probes give and refuses partials made with another one.
--
-- Output: five views, one per partials table: partial_allocations, partial_tallies,
-- partial_markers, partial_probes, partial_counts.
--
-- Validation follows natatlas ingest for what the capture app writes: message ids shaped
-- as UUIDs (or END OF MESSAGE), times in epoch milliseconds 2000..2100, ports as whole
-- numbers (local 0..65535, 0 meaning any; others 1..65535), success S or F. Rows that
-- fail are left out, as ingest rejects them. Times in epoch seconds or relative to the
-- capture start, and files whose columns are not in the capture app's order, need
-- natatlas ingest (its rejects.csv explains each row it drops).

-- A client row as ingest keeps it: valid fields, UUID in lower case.
CREATE OR REPLACE TEMPORARY VIEW pc_client AS
SELECT carrier, run, line,
       lower(trim(id)) AS uuid,
       TRY_CAST(trim(time) AS DOUBLE) AS send_time,
       TRY_CAST(trim(local_port) AS INTEGER) AS local_port,
       TRY_CAST(trim(dest_port) AS INTEGER) AS dest_port,
       upper(trim(success)) AS status,
       CASE WHEN regexp_extract(trim(run), '^[0-9]+$', 0) <> '' THEN TRY_CAST(trim(run) AS DECIMAL(38, 0)) END AS run_number
FROM client_lines
WHERE regexp_extract(trim(id), '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', 0) <> ''
  AND regexp_extract(trim(time), '^-?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?$', 0) <> ''
  AND TRY_CAST(trim(time) AS DOUBLE) >= 946684800000 AND TRY_CAST(trim(time) AS DOUBLE) < 4102444800000
  AND regexp_extract(trim(local_port), '^[0-9]+$', 0) <> '' AND TRY_CAST(trim(local_port) AS INTEGER) BETWEEN 0 AND 65535
  AND regexp_extract(trim(dest_port), '^[0-9]+$', 0) <> '' AND TRY_CAST(trim(dest_port) AS INTEGER) BETWEEN 1 AND 65535
  AND upper(trim(success)) IN ('S', 'F');

-- The first client row of a UUID wins (across the carrier's runs); later ones are duplicates.
CREATE OR REPLACE TEMPORARY VIEW pc_client_first AS
SELECT carrier, run, line, uuid, send_time, local_port, dest_port, status FROM (
  SELECT c.*, ROW_NUMBER() OVER (PARTITION BY carrier, uuid ORDER BY CASE WHEN run_number IS NULL THEN 1 ELSE 0 END, run_number, run, line) AS k
  FROM pc_client c
) t WHERE k = 1;

-- send_seq numbers a run's sent (S) packets in send order, lost ones included.
CREATE OR REPLACE TEMPORARY VIEW pc_sent AS
SELECT carrier, run, line, uuid, send_time, local_port, dest_port,
       ROW_NUMBER() OVER (PARTITION BY carrier, run ORDER BY line) - 1 AS send_seq
FROM pc_client_first WHERE status = 'S';

-- Server rows with valid fields: packets and end markers.
CREATE OR REPLACE TEMPORARY VIEW pc_server AS
SELECT carrier, run, line,
       CASE WHEN trim(id) = 'END OF MESSAGE' THEN '' ELSE lower(trim(id)) END AS uuid,
       trim(id) = 'END OF MESSAGE' AS marker,
       TRY_CAST(trim(external_port) AS INTEGER) AS external_port,
       CASE WHEN regexp_extract(trim(run), '^[0-9]+$', 0) <> '' THEN TRY_CAST(trim(run) AS DECIMAL(38, 0)) END AS run_number
FROM server_lines
WHERE (trim(id) = 'END OF MESSAGE'
       OR regexp_extract(trim(id), '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', 0) <> '')
  AND regexp_extract(trim(time), '^-?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?$', 0) <> ''
  AND TRY_CAST(trim(time) AS DOUBLE) >= 946684800000 AND TRY_CAST(trim(time) AS DOUBLE) < 4102444800000
  AND regexp_extract(trim(external_port), '^[0-9]+$', 0) <> '' AND TRY_CAST(trim(external_port) AS INTEGER) BETWEEN 1 AND 65535
  AND regexp_extract(trim(server_port), '^[0-9]+$', 0) <> '' AND TRY_CAST(trim(server_port) AS INTEGER) BETWEEN 1 AND 65535;

-- The first server copy of a UUID joins (later copies are duplicates); UUIDs no client sent are strangers.
CREATE OR REPLACE TEMPORARY VIEW pc_server_first AS
SELECT carrier, uuid, external_port FROM (
  SELECT s.*, ROW_NUMBER() OVER (PARTITION BY carrier, uuid ORDER BY CASE WHEN run_number IS NULL THEN 1 ELSE 0 END, run_number, run, line) AS k
  FROM pc_server s WHERE NOT marker
) t WHERE k = 1;

CREATE OR REPLACE TEMPORARY VIEW pc_joined AS
SELECT c.carrier, c.run, c.line, c.send_seq, c.send_time, c.local_port, c.dest_port, s.external_port,
       CAST(COALESCE(w.window_s, 10) AS DOUBLE) AS window_s
FROM pc_sent c
JOIN pc_server_first s ON s.carrier = c.carrier AND s.uuid = c.uuid
LEFT JOIN windows w ON w.carrier = c.carrier;

-- Each packet against the run's previous packet from the same known local port: inside
-- the window, the same external port means it rode that mapping (not a fresh allocation),
-- and a different server port makes it mapping evidence.
CREATE OR REPLACE TEMPORARY VIEW pc_mapped AS
SELECT j.*,
       CASE WHEN j.local_port <> 0 AND prev_time IS NOT NULL AND j.send_time - prev_time <= j.window_s * 1000 THEN 1 ELSE 0 END AS within,
       prev_external, prev_dest
FROM (
  SELECT p.*,
         CASE WHEN local_port <> 0 THEN LAG(send_time) OVER (PARTITION BY carrier, run, local_port ORDER BY line) END AS prev_time,
         CASE WHEN local_port <> 0 THEN LAG(external_port) OVER (PARTITION BY carrier, run, local_port ORDER BY line) END AS prev_external,
         CASE WHEN local_port <> 0 THEN LAG(dest_port) OVER (PARTITION BY carrier, run, local_port ORDER BY line) END AS prev_dest
  FROM pc_joined p
) j;

CREATE OR REPLACE TEMPORARY VIEW partial_allocations AS
SELECT carrier, run, send_seq, external_port AS port, send_time, local_port
FROM pc_mapped
WHERE NOT (within = 1 AND prev_external = external_port);

CREATE OR REPLACE TEMPORARY VIEW partial_tallies AS
SELECT carrier, run, max(window_s) AS window_s, count(*) AS joined,
       sum(CASE WHEN within = 1 AND prev_dest <> dest_port THEN 1 ELSE 0 END) AS pairs,
       sum(CASE WHEN within = 1 AND prev_dest <> dest_port AND prev_external = external_port THEN 1 ELSE 0 END) AS same_external,
       sum(CASE WHEN local_port <> 0 THEN 1 ELSE 0 END) AS known_local,
       sum(CASE WHEN local_port <> 0 AND external_port = local_port THEN 1 ELSE 0 END) AS kept_local,
       min(external_port) AS min_port, max(external_port) AS max_port
FROM pc_mapped
GROUP BY carrier, run;

CREATE OR REPLACE TEMPORARY VIEW partial_markers AS
SELECT carrier, external_port AS port, count(*) AS count
FROM pc_server WHERE marker
GROUP BY carrier, external_port;

CREATE OR REPLACE TEMPORARY VIEW partial_probes AS
SELECT carrier, lower(trim(kind)) AS kind, TRY_CAST(trim(delay_s) AS DOUBLE) AS delay_s,
       lower(trim(replied)) IN ('true', '1', 'yes', 'y', 's', 'replied') AS replied, count(*) AS count
FROM timeout_lines
WHERE length(trim(probe_id)) > 0
  AND lower(trim(kind)) IN ('wait', 'idle')
  AND regexp_extract(trim(delay_s), '^-?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?$', 0) <> ''
  AND TRY_CAST(trim(delay_s) AS DOUBLE) BETWEEN 0 AND 86400
  AND lower(trim(replied)) IN ('true', '1', 'yes', 'y', 's', 'replied', 'false', '0', 'no', 'n', 'f', 'timeout')
GROUP BY carrier, lower(trim(kind)), TRY_CAST(trim(delay_s) AS DOUBLE), lower(trim(replied)) IN ('true', '1', 'yes', 'y', 's', 'replied');

CREATE OR REPLACE TEMPORARY VIEW partial_counts AS
SELECT c.carrier, count(*) AS sent, count(*) - count(s.uuid) AS lost
FROM pc_sent c
LEFT JOIN pc_server_first s ON s.carrier = c.carrier AND s.uuid = c.uuid
GROUP BY c.carrier;
