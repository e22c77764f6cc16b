/**
 * `npm run bench [-- --sizes 1000000,10000000] [--rounds 1] [--tasks ...]`: natatlas
 * against peers on the same files in the same run (issue 13 item 5).
 *
 * For each size, a simulated campaign of 10 carriers in 100,000-packet capture runs
 * (cached under `.bench/`, git-ignored), and, round by round so that load from outside
 * falls on every contestant alike:
 *
 * - `ingest-join`: natatlas ingest + join of the whole campaign;
 * - `duckdb`: DuckDB reading the same raw CSVs, inner join on the UUID, port histogram;
 * - `python`: the stdlib `csv` module with a dict join (pipeline/bench/python_join.py);
 * - `run`: the full pipeline without Monte Carlo (fresh output folders);
 * - `run-mc`: the full pipeline with the referee's Monte Carlo at its default settings
 *   (the trials do not grow with the campaign: they depend on the fits alone);
 * - `incremental` / `incremental-mc`: after a full run (without / with Monte Carlo), one
 *   new capture run (1% more packets) added to one carrier and the pipeline run again;
 *   the table prints each against its full run.
 *
 * Each task runs in its own child process and reports its own seconds and peak RSS.
 * Prints a table with ratios against DuckDB and writes `bench/results.json`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { stableStringify } from '../io/json.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { preset, presetNames, simulateCampaign } from '../simulate/index.ts';
import type { Task } from './child.ts';
import { ensureBuild } from '../bin/build.js';

// Tasks run compiled, as the natatlas command does (pipeline/bin/build.js).
const CHILD = fileURLToPath(new URL('../../dist/bench-child.js', import.meta.url));
const PYTHON_JOIN = fileURLToPath(new URL('./python_join.py', import.meta.url));
const CAMPAIGN = 'scale';
const CARRIERS = 10;
const PACKETS_PER_RUN = 100_000;
const ALL_TASKS = ['ingest-join', 'duckdb', 'python', 'run', 'run-mc', 'incremental', 'incremental-mc'] as const;
type BenchTask = (typeof ALL_TASKS)[number] | 'arquero-join';

interface Measured {
  /** The task's own work, as the child measured it: wall time, and CPU time (user + system, every thread). */
  seconds: number;
  cpuSeconds: number;
  maxRssMB: number;
  /** The child process from spawn to exit (start-up and module loading included). */
  processSeconds: number;
  result: unknown;
}

function spawnMeasured(command: string, args: string[], what: string): Measured {
  const started = performance.now();
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const processSeconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`bench task ${what} failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
  const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Omit<Measured, 'processSeconds'>;
  return { ...m, processSeconds };
}

function nodeTask(task: Task): Measured {
  return spawnMeasured(process.execPath, [CHILD, JSON.stringify(task)], task.task);
}

/** Carrier i of the bench campaign: the presets in turn, numbered so ten names are distinct. */
function carrierSims() {
  const names = presetNames();
  return Array.from({ length: CARRIERS }, (_, i) => ({ ...preset(names[i % names.length]!), name: `c${String(i + 1).padStart(2, '0')}-${names[i % names.length]}` }));
}

/**
 * The cached campaign of `packets` client packets, and beside it (outside the campaign)
 * one extra capture run of 1% of the packets for the first carrier.
 */
async function campaign(packets: number): Promise<{ root: string; raw: string; extra: string }> {
  const root = path.resolve('.bench', `campaign-${packets}`);
  const raw = path.join(root, 'raw');
  const extra = path.join(root, 'extra');
  const perCarrier = Math.floor(packets / CARRIERS);
  const sims = carrierSims();
  if (!fs.existsSync(path.join(raw, CAMPAIGN, 'simulation.json'))) {
    process.stderr.write(`simulating ${packets.toLocaleString('en-US')} packets into ${path.relative(process.cwd(), raw)} ...\n`);
    fs.rmSync(raw, { recursive: true, force: true });
    await simulateCampaign({ outDir: raw, campaign: CAMPAIGN, carriers: sims, runs: Math.max(1, Math.round(perCarrier / PACKETS_PER_RUN)), packets: perCarrier, seed: 'bench' });
  }
  if (!fs.existsSync(path.join(extra, CAMPAIGN, 'simulation.json'))) {
    fs.rmSync(extra, { recursive: true, force: true });
    await simulateCampaign({ outDir: extra, campaign: CAMPAIGN, carriers: [sims[0]!], runs: 1, packets: Math.max(1, Math.floor(packets / 100)), seed: 'bench-extra' });
  }
  return { root, raw, extra };
}

function linkTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    if (e.isDirectory()) linkTree(src, dst);
    else fs.linkSync(src, dst);
  }
}

/** A work copy of the campaign made of hard links (a 10M campaign is 1.3 GB), with fresh output folders. */
function freshWork(root: string, raw: string, name: string): { raw: string; derived: string; reports: string } {
  const work = path.join(root, name);
  fs.rmSync(work, { recursive: true, force: true });
  linkTree(raw, path.join(work, 'raw'));
  return { raw: path.join(work, 'raw'), derived: path.join(work, 'derived'), reports: path.join(work, 'reports') };
}

/** Add the extra run's files to the first carrier of a work copy, under a run label no other file has. */
function addExtraRun(extra: string, workRaw: string): void {
  const carrier = carrierSims()[0]!.name;
  const from = path.join(extra, CAMPAIGN, carrier);
  for (const side of ['client', 'server']) {
    const src = fs.readdirSync(from).find((f) => f.startsWith(`${side}-`))!;
    fs.linkSync(path.join(from, src), path.join(workRaw, CAMPAIGN, carrier, `${side}-extra.csv`));
  }
}

function measureTask(name: BenchTask, c: { root: string; raw: string; extra: string }): Measured {
  const base = { campaign: CAMPAIGN, carrier: carrierSims()[0]!.name };
  switch (name) {
    case 'python':
      return spawnMeasured('python3', [PYTHON_JOIN, path.join(c.raw, CAMPAIGN)], name);
    case 'duckdb':
      return nodeTask({ ...base, task: 'duckdb', raw: c.raw, derived: '', reports: '' });
    case 'ingest-join':
    case 'arquero-join': {
      const w = freshWork(c.root, c.raw, 'work-ingest-join');
      const m = nodeTask({ ...base, task: 'ingest-join', ...w });
      return name === 'ingest-join' ? m : nodeTask({ ...base, task: 'arquero-join', ...w });
    }
    case 'run':
    case 'run-mc':
      return nodeTask({ ...base, task: 'run', montecarlo: name === 'run-mc', ...freshWork(c.root, c.raw, `work-${name}`) });
    case 'incremental':
    case 'incremental-mc': {
      const montecarlo = name === 'incremental-mc';
      const w = freshWork(c.root, c.raw, `work-${name}`);
      nodeTask({ ...base, task: 'run', montecarlo, ...w });
      addExtraRun(c.extra, w.raw);
      return nodeTask({ ...base, task: 'run', montecarlo, ...w });
    }
  }
}

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000000,10000000' },
    packets: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    tasks: { type: 'string', default: ALL_TASKS.join(',') },
    out: { type: 'string', default: path.join('bench', 'results.json') },
  },
});
const sizes = (values.packets ?? values.sizes).split(',').map((s) => Number(s.trim()));
for (const s of sizes) if (!(Number.isInteger(s) && s >= CARRIERS)) throw new Error(`--sizes: ${JSON.stringify(s)} is not a packet count >= ${CARRIERS}`);
const rounds = Number(values.rounds);
const tasks = values.tasks.split(',').map((t) => t.trim()) as BenchTask[];
for (const t of tasks) if (![...ALL_TASKS, 'arquero-join'].includes(t)) throw new Error(`--tasks: unknown task ${t}; known: ${[...ALL_TASKS, 'arquero-join'].join(', ')}`);

const LABELS: Record<BenchTask, string> = {
  'ingest-join': 'natatlas ingest + join',
  duckdb: 'DuckDB read_csv + join + histogram',
  python: 'Python csv dict join',
  run: 'natatlas full run, no Monte Carlo',
  'run-mc': 'natatlas full run, Monte Carlo (defaults)',
  incremental: 'natatlas rerun after +1 capture run, no Monte Carlo',
  'incremental-mc': 'natatlas rerun after +1 capture run, Monte Carlo',
  'arquero-join': 'arquero join of one carrier',
};

await ensureBuild();
const results: { packets: number; rawBytes: number; task: BenchTask; round: number; measured: Measured }[] = [];
for (const packets of sizes) {
  const c = await campaign(packets);
  const rawBytes = dirBytes(path.join(c.raw, CAMPAIGN));
  for (let round = 1; round <= rounds; round++) {
    for (const task of tasks) {
      process.stderr.write(`${packets.toLocaleString('en-US')} packets, round ${round}: ${LABELS[task]} ...\n`);
      results.push({ packets, rawBytes, task, round, measured: measureTask(task, c) });
    }
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return n;
}

const load = os.loadavg().map((l) => Number(l.toFixed(2)));
const machine = { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)), node: process.version, platform: `${os.platform()} ${os.arch()}`, loadAverageAtEnd: load };

process.stdout.write(`\nnatatlas bench: ${CARRIERS} carriers, ${PACKETS_PER_RUN.toLocaleString('en-US')}-packet runs; ${machine.cores} cores, Node ${machine.node}, load ${load.join(' ')}\n`);
process.stdout.write(`| packets | raw CSV | task | round | wall | CPU (user+sys) | peak RSS | wall vs DuckDB | CPU vs DuckDB |\n|---|---|---|---|---|---|---|---|---|\n`);
for (const r of results) {
  const duck = results.find((d) => d.packets === r.packets && d.round === r.round && d.task === 'duckdb');
  const ratio = (key: 'seconds' | 'cpuSeconds') => (duck && r.task !== 'duckdb' ? `${(r.measured[key] / duck.measured[key]).toFixed(2)}x` : '');
  process.stdout.write(`| ${r.packets.toLocaleString('en-US')} | ${(r.rawBytes / 1e9).toFixed(2)} GB | ${LABELS[r.task]} | ${r.round} | ${r.measured.seconds.toFixed(1)} s | ${r.measured.cpuSeconds.toFixed(1)} s | ${(r.measured.maxRssMB / 1024).toFixed(2)} GB | ${ratio('seconds')} | ${ratio('cpuSeconds')} |\n`);
}
// The target: one added capture run costs at most a tenth of a full run.
const FULL_RUN_OF: Partial<Record<BenchTask, BenchTask>> = { incremental: 'run', 'incremental-mc': 'run-mc' };
const incrementalRatios: { packets: number; round: number; task: BenchTask; fullTask: BenchTask; wall: number; cpu: number }[] = [];
for (const r of results) {
  const fullTask = FULL_RUN_OF[r.task];
  const full = results.find((f) => f.packets === r.packets && f.round === r.round && f.task === fullTask);
  if (!fullTask || !full) continue;
  const ratio = { packets: r.packets, round: r.round, task: r.task, fullTask, wall: r.measured.seconds / full.measured.seconds, cpu: r.measured.cpuSeconds / full.measured.cpuSeconds };
  incrementalRatios.push(ratio);
  process.stdout.write(`${r.packets.toLocaleString('en-US')} packets, round ${r.round}: ${LABELS[r.task]} / ${LABELS[fullTask]} = ${ratio.wall.toFixed(3)} wall, ${ratio.cpu.toFixed(3)} CPU\n`);
}
await writeFileAtomic(values.out, stableStringify({ machine, carriers: CARRIERS, packetsPerRun: PACKETS_PER_RUN, results, incrementalRatios }));
process.stdout.write(`wrote ${values.out}\n`);
