/**
 * `npm run bench [-- --packets N]`: scale benchmarks, each reported as a ratio against a
 * peer measured in the same run on the same files. Today: ingest + join of one carrier
 * of N simulated packets (default 1,000,000) against arquero doing the same join.
 * Inputs are cached under `.bench/` (git-ignored) by packet count.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { preset, simulateCampaign } from '../simulate/index.ts';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

interface Measured {
  seconds: number;
  maxRssMB: number;
  result: unknown;
}

function measure(task: object): Measured {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(task)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`bench task ${JSON.stringify(task)} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Measured;
}

const { values } = parseArgs({ options: { packets: { type: 'string', default: '1000000' }, 'skip-peer': { type: 'boolean' } } });
const packets = Number(values.packets);
const root = path.resolve('.bench', `join-${packets}`);
const raw = path.join(root, 'raw');
const derived = path.join(root, 'derived');
const carrier = 'LycaMobileNL';
if (!fs.existsSync(path.join(raw, 'scale', 'simulation.json'))) {
  process.stderr.write(`simulating ${packets.toLocaleString('en-US')} packets into ${path.relative(process.cwd(), raw)} ...\n`);
  await simulateCampaign({ outDir: raw, campaign: 'scale', carriers: [preset(carrier)], runs: 20, packets, seed: 'bench' });
}
const task = { raw, derived, campaign: 'scale', carrier };
const rows: [string, Measured][] = [];
rows.push(['natatlas ingest', measure({ ...task, task: 'ingest' })]);
rows.push(['natatlas join', measure({ ...task, task: 'join' })]);
if (!values['skip-peer']) rows.push(['arquero join (peer)', measure({ ...task, task: 'arquero-join' })]);

const fmt = (m: Measured) => `${m.seconds.toFixed(2).padStart(7)} s  ${m.maxRssMB.toFixed(0).padStart(6)} MB peak RSS`;
process.stdout.write(`\njoin scale benchmark: ${packets.toLocaleString('en-US')} packets, one carrier (Node ${process.version})\n`);
for (const [name, m] of rows) process.stdout.write(`  ${name.padEnd(22)} ${fmt(m)}  (${String(m.result)} rows)\n`);
const ours = rows[1]![1];
const peer = rows[2]?.[1];
if (peer) {
  process.stdout.write(`  join vs arquero: ${(peer.seconds / ours.seconds).toFixed(1)}x faster, ${(peer.maxRssMB / ours.maxRssMB).toFixed(1)}x less memory\n`);
  if (peer.result !== ours.result) process.stdout.write(`  WARNING: joined rows differ (natatlas ${String(ours.result)}, arquero ${String(peer.result)})\n`);
}
