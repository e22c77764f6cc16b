/**
 * One measured task in its own process, so peak RSS belongs to that task alone.
 * Prints `{"seconds": s, "cpuSeconds": c, "maxRssMB": m, "result": ...}` on stdout;
 * `seconds` (wall) and `cpuSeconds` (user + system, all threads) count the task's work,
 * not the process's start-up. On a shared machine CPU time is the steadier of the two.
 */
import * as aq from 'arquero';
import { DuckDBInstance } from '@duckdb/node-api';
import { silentLogger, type StageContext } from '../context.ts';
import { ingest } from '../stages/ingest.ts';
import { join } from '../stages/join.ts';
import { runPipeline } from '../run.ts';
import { CLIENT_ROWS, SERVER_ROWS } from '../contracts/ingest-rows.ts';
import { readManifest } from '../contracts/manifest.ts';
import { duckdbJoinSql } from './duckdb-sql.ts';

export type TaskName = 'ingest-join' | 'run' | 'duckdb' | 'arquero-join';

export interface Task {
  task: TaskName;
  raw: string;
  derived: string;
  reports: string;
  campaign: string;
  /** arquero-join only: the carrier whose normalized rows it joins. */
  carrier?: string;
  /** run only: with the referee's Monte Carlo at its default settings (else without it). */
  montecarlo?: boolean;
  /** ingest-join only: worker threads of each stage (0: the main thread, for a CPU profile); default as the stages choose. */
  workers?: number;
}

async function runTask(t: Task): Promise<unknown> {
  const ctx: StageContext = { campaign: t.campaign, paths: { raw: t.raw, derived: t.derived, reports: t.reports }, log: silentLogger };
  switch (t.task) {
    case 'ingest-join': {
      const started = performance.now();
      const opts = t.workers === undefined ? {} : { workers: t.workers };
      const rows = (await ingest(ctx, opts)).manifest.carriers;
      const ingested = performance.now();
      const joined = (await join(ctx, opts)).summaries.reduce((s, c) => s + c.counts.joined, 0);
      return { joined, clientRows: Object.values(rows).reduce((s, c) => s + c.clientRows, 0), ingestSeconds: (ingested - started) / 1000, joinSeconds: (performance.now() - ingested) / 1000 };
    }
    case 'run': {
      // The whole pipeline, without the referee's Monte Carlo (settings.montecarlo = false) or with its defaults.
      const runs = await runPipeline({ paths: ctx.paths, campaign: t.campaign, settings: t.montecarlo === true ? {} : { montecarlo: false } }, silentLogger);
      return { stagesRan: runs.filter((r) => r.ran).map((r) => r.stage) };
    }
    case 'duckdb': {
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      const rows = (await conn.runAndReadAll(duckdbJoinSql(t.raw, t.campaign))).getRows();
      const threads = (await conn.runAndReadAll(`SELECT current_setting('threads')`)).getRows();
      return { joined: Number(rows[0]![0]), bins: Number(rows[0]![1]), threads: Number(threads[0]![0]) };
    }
    case 'arquero-join': {
      // The data-frame way an analyst would write it, on the same normalized rows (their column files as arquero tables).
      const carrier = t.carrier!;
      const manifest = readManifest(ctx);
      const client = { uuid: [] as string[], status: [] as string[] };
      CLIENT_ROWS.forEach(ctx, manifest, carrier, (r) => {
        client.uuid.push(r.uuid);
        client.status.push(r.status);
      });
      const server = { uuid: [] as string[], external_port: [] as number[], time: [] as number[] };
      SERVER_ROWS.forEach(ctx, manifest, carrier, (r) => {
        if (r.kind !== 'packet') return;
        server.uuid.push(r.uuid);
        server.external_port.push(r.externalPort);
        server.time.push(r.time);
      });
      const sent = aq.table(client).filter((d: { status: string }) => d.status === 'S').dedupe('uuid');
      return { joined: sent.join(aq.table(server).dedupe('uuid'), 'uuid').numRows() };
    }
  }
}

const task = JSON.parse(process.argv[2]!) as Task;
const cpu = () => {
  const u = process.resourceUsage();
  return (u.userCPUTime + u.systemCPUTime) / 1e6;
};
const started = performance.now();
const cpuStarted = cpu();
const result = await runTask(task);
const cpuSeconds = cpu() - cpuStarted;
process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - started) / 1000, cpuSeconds, maxRssMB: process.resourceUsage().maxRSS / 1024, result })}\n`);
