/**
 * Strict readers for simulated campaigns: they parse the written files independently of
 * the simulator so tests can recount every truth field from the bytes on disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tempDir as ownedTempDir } from '../helpers/tempdir.ts';

export const CLIENT_ROW = /^([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}), (\d+), (\d+), (\d+), ([SF])$/;
export const SERVER_ROW = /^([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|END OF MESSAGE), (\d+), (\d+), (\d+)(?:, (\d+\.\d+\.\d+\.\d+))?$/;
export const JUNK_ROW = /^Failed, to, launch, (\d+)$/;

export interface ClientRow {
  uuid: string;
  time: number;
  local: number;
  dest: number;
  ok: boolean;
  /** Index among the file's data rows (send order). */
  index: number;
}

export interface ServerRow {
  uuid: string;
  time: number;
  ext: number;
  port: number;
  ip: string | undefined;
}

export interface RunFiles {
  run: string;
  clientHeader: string;
  serverHeader: string;
  client: ClientRow[];
  /** Data and END OF MESSAGE rows in file order. */
  server: ServerRow[];
  junk: number[];
  /** Lines matching none of the row shapes. */
  badClient: string[];
  badServer: string[];
  /** Whether junk rows all came right after the header. */
  junkOnTop: boolean;
  rawClient: string;
  rawServer: string;
}

/** A temp folder removed after the test file (helpers/tempdir.ts). */
export const tempDir = (prefix: string): string => ownedTempDir(prefix);

export function readRun(dir: string, run: string): RunFiles {
  const rawClient = fs.readFileSync(path.join(dir, `client-${run}.csv`), 'utf8');
  const rawServer = fs.readFileSync(path.join(dir, `server-${run}.csv`), 'utf8');
  const cl = rawClient.split('\n');
  const sl = rawServer.split('\n');
  if (cl.pop() !== '' || sl.pop() !== '') throw new Error(`run ${run}: files must end with a newline`);
  const out: RunFiles = {
    run, clientHeader: cl[0]!, serverHeader: sl[0]!, client: [], server: [], junk: [], badClient: [], badServer: [], junkOnTop: true, rawClient, rawServer,
  };
  for (const line of cl.slice(1)) {
    const m = CLIENT_ROW.exec(line);
    if (!m || Number(m[3]) > 65535 || Number(m[4]) > 65535) {
      out.badClient.push(line);
      continue;
    }
    out.client.push({ uuid: m[1]!, time: Number(m[2]), local: Number(m[3]), dest: Number(m[4]), ok: m[5] === 'S', index: out.client.length });
  }
  let sawData = false;
  for (const line of sl.slice(1)) {
    const j = JUNK_ROW.exec(line);
    if (j) {
      out.junk.push(Number(j[1]));
      if (sawData) out.junkOnTop = false;
      continue;
    }
    const m = SERVER_ROW.exec(line);
    if (!m || Number(m[3]) > 65535 || Number(m[4]) > 65535) {
      out.badServer.push(line);
      continue;
    }
    sawData = true;
    out.server.push({ uuid: m[1]!, time: Number(m[2]), ext: Number(m[3]), port: Number(m[4]), ip: m[5] });
  }
  return out;
}

/** Every run of a carrier folder, in run order. */
export function readCarrier(dir: string): RunFiles[] {
  const runs = fs.readdirSync(dir).map((f) => /^client-(\d+)\.csv$/.exec(f)?.[1]).filter((r): r is string => r !== undefined).sort((a, b) => Number(a) - Number(b));
  return runs.map((r) => readRun(dir, r));
}

export interface Recount {
  clientRows: number;
  failed: number;
  sent: number;
  portZero: number;
  failedPrivileged: number;
  failedOther: number;
  serverRows: number;
  joined: number;
  lost: number;
  serverDuplicates: number;
  strangers: number;
  control: number;
  junk: number;
  reordered: number;
  reusedPorts: number;
  reusedObserved: number;
  reusedObservedSameExternal: number;
  malformedClient: number;
  malformedServer: number;
}

/** Recount what the join will count, from the files alone. */
export function recount(runs: RunFiles[]): Recount {
  const r: Recount = {
    clientRows: 0, failed: 0, sent: 0, portZero: 0, failedPrivileged: 0, failedOther: 0, serverRows: 0, joined: 0, lost: 0,
    serverDuplicates: 0, strangers: 0, control: 0, junk: 0, reordered: 0, reusedPorts: 0, reusedObserved: 0, reusedObservedSameExternal: 0,
    malformedClient: 0, malformedServer: 0,
  };
  const clientIds = new Map<string, { run: string; row: ClientRow }>();
  for (const run of runs) {
    for (const row of run.client) {
      if (clientIds.has(row.uuid)) throw new Error(`duplicate client uuid ${row.uuid}`);
      clientIds.set(row.uuid, { run: run.run, row });
    }
  }
  const firstExt = new Map<string, number>();
  for (const run of runs) {
    r.malformedClient += run.badClient.length;
    r.malformedServer += run.badServer.length;
    r.junk += run.junk.length;
    for (const row of run.client) {
      r.clientRows += 1;
      if (row.ok) {
        r.sent += 1;
        if (row.local === 0) r.portZero += 1;
      } else {
        r.failed += 1;
        if (row.local >= 1 && row.local <= 1023) r.failedPrivileged += 1;
        else r.failedOther += 1;
      }
    }
    let maxSeq = -1;
    for (const row of run.server) {
      if (row.uuid === 'END OF MESSAGE') {
        r.control += 1;
        continue;
      }
      r.serverRows += 1;
      const c = clientIds.get(row.uuid);
      if (!c) r.strangers += 1;
      else if (firstExt.has(row.uuid)) r.serverDuplicates += 1;
      else {
        if (c.run !== run.run) throw new Error(`packet ${row.uuid} of run ${c.run} received in run ${run.run}`);
        firstExt.set(row.uuid, row.ext);
        r.joined += 1;
        if (c.row.index < maxSeq) r.reordered += 1;
        else maxSeq = c.row.index;
      }
    }
    // Reuse: consecutive S rows with the same non-zero local port and a different server port.
    for (let i = 1; i < run.client.length; i++) {
      const a = run.client[i - 1]!;
      const b = run.client[i]!;
      if (a.ok && b.ok && b.local !== 0 && a.local === b.local && a.dest !== b.dest) {
        r.reusedPorts += 1;
        const ea = firstExt.get(a.uuid);
        const eb = firstExt.get(b.uuid);
        if (ea !== undefined && eb !== undefined) {
          r.reusedObserved += 1;
          if (ea === eb) r.reusedObservedSameExternal += 1;
        }
      }
    }
  }
  r.lost = r.sent - r.joined;
  return r;
}

/** Joined packets of one run in send order: local port, server port and external port. */
export function joinedInSendOrder(run: RunFiles): { local: number; dest: number; ext: number; time: number; recv: number }[] {
  const first = new Map<string, ServerRow>();
  for (const s of run.server) if (!first.has(s.uuid)) first.set(s.uuid, s);
  const out: { local: number; dest: number; ext: number; time: number; recv: number }[] = [];
  for (const c of run.client) {
    const s = first.get(c.uuid);
    if (s) out.push({ local: c.local, dest: c.dest, ext: s.ext, time: c.time, recv: s.time });
  }
  return out;
}
