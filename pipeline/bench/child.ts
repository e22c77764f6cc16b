/**
 * One measured task in its own process, so peak RSS belongs to that task alone.
 * Prints `{"seconds": s, "maxRssMB": m, "result": ...}` on stdout.
 */
import * as aq from 'arquero';
import { silentLogger } from '../context.ts';
import { ingest } from '../stages/ingest.ts';
import { join } from '../stages/join.ts';
import { CLIENT_ROWS, SERVER_ROWS } from '../contracts/ingest-rows.ts';
import { carrierNames, readManifest } from '../contracts/manifest.ts';

interface Task {
  task: 'ingest' | 'join' | 'arquero-join';
  raw: string;
  derived: string;
  campaign: string;
  carrier: string;
}

async function runTask(t: Task): Promise<unknown> {
  const ctx = { campaign: t.campaign, paths: { raw: t.raw, derived: t.derived, reports: t.derived }, log: silentLogger };
  switch (t.task) {
    case 'ingest':
      return (await ingest(ctx)).manifest.carriers[t.carrier]?.clientRows;
    case 'join':
      return (await join(ctx)).summaries.find((s) => s.carrier === t.carrier)?.counts.joined;
    case 'arquero-join': {
      // The data-frame way an analyst would write it, on the same normalized rows.
      const names = carrierNames(readManifest(ctx));
      const client = await aq.loadCSV(CLIENT_ROWS.file(ctx, names, t.carrier), { parse: { uuid: String, run: String } });
      const server = (await aq.loadCSV(SERVER_ROWS.file(ctx, names, t.carrier), { parse: { uuid: String, run: String } })).filter((d: { kind: string }) => d.kind === 'packet');
      const sent = client.filter((d: { status: string }) => d.status === 'S').dedupe('uuid');
      return sent.join(server.dedupe('uuid').select('uuid', 'external_port', 'time'), 'uuid').numRows();
    }
  }
}

const task = JSON.parse(process.argv[2]!) as Task;
const started = performance.now();
const result = await runTask(task);
process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - started) / 1000, maxRssMB: process.resourceUsage().maxRSS / 1024, result })}\n`);
