-- DuckDB prelude of partials.sql: the input views from one campaign's raw capture CSVs
-- (raw/<campaign>/<carrier>/client-<run>.csv, server-<run>.csv, timeouts*.csv).
-- ${campaign_dir} is replaced by the campaign's folder (pipeline/sql/duckdb.ts does it;
-- by hand: sed). Files are read without a header and every field as text, so header
-- rows, `Failed, to, launch` lines and malformed rows reach partials.sql, which drops
-- them as ingest does. `line` numbers rows in file order: DuckDB keeps a scan's order
-- for row_number() OVER () (preserve_insertion_order, on by default).
-- From Parquet copies: read_parquet('<dir>/*/client-*.parquet', filename = true,
-- file_row_number = true) with file_row_number as `line`, the same column names.
CREATE OR REPLACE TEMPORARY VIEW client_lines AS
SELECT regexp_extract(filename, '([^/]+)/client-([^/]+)[.]csv$', 1) AS carrier,
       regexp_extract(filename, '([^/]+)/client-([^/]+)[.]csv$', 2) AS run,
       line, column0 AS id, column1 AS time, column2 AS local_port, column3 AS dest_port, column4 AS success
FROM (SELECT *, row_number() OVER () AS line
      FROM read_csv('${campaign_dir}/*/client-*.csv', header = false, all_varchar = true, filename = true, null_padding = true, union_by_name = true, delim = ',', quote = '"'));

CREATE OR REPLACE TEMPORARY VIEW server_lines AS
SELECT regexp_extract(filename, '([^/]+)/server-([^/]+)[.]csv$', 1) AS carrier,
       regexp_extract(filename, '([^/]+)/server-([^/]+)[.]csv$', 2) AS run,
       line, column0 AS id, column1 AS time, column2 AS external_port, column3 AS server_port
FROM (SELECT *, row_number() OVER () AS line
      FROM read_csv('${campaign_dir}/*/server-*.csv', header = false, all_varchar = true, filename = true, null_padding = true, union_by_name = true, delim = ',', quote = '"'));

CREATE OR REPLACE TEMPORARY VIEW timeout_lines AS
SELECT regexp_extract(filename, '([^/]+)/timeouts[^/]*[.]csv$', 1) AS carrier,
       line, column0 AS probe_id, column1 AS kind, column2 AS delay_s, column3 AS replied
FROM (SELECT *, row_number() OVER () AS line
      FROM read_csv('${campaign_dir}/*/timeouts*.csv', header = false, all_varchar = true, filename = true, null_padding = true, union_by_name = true, delim = ',', quote = '"'));
