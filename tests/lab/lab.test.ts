/**
 * End to end against real netfilter NATs in network namespaces (pipeline/lab): a short
 * lab campaign, ingested by the pipeline, must give back what the rules and sysctls
 * say; nothing may be left behind (namespaces, veths, rules, staging folders), also
 * after SIGTERM and SIGKILL mid-run; and on a narrowed --random-fully pair, punching
 * with the fitted table must beat naive guessing; RFC 5780 discovery must classify each
 * NAT's mapping and filtering as netfilter behaves. Needs root and `ip netns add`;
 * skipped with a message otherwise (a failure in CI).
 *
 * Shares the machine: every namespace this run makes is in its own family
 * (NATATLAS_LAB_NETNS=nlt<jest pid>x<random>, so `<family>-<lab pid>-*`), and each test
 * checks only the namespaces of the process it ran. The campaign (about a minute of
 * capture and timeout probing, mostly waiting) runs in the background from beforeAll
 * while the independent tests run; the lab processes are killed (process group) and the
 * family's namespaces deleted after the file, whatever happened.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BiasTable } from '../../pipeline/bias/types.ts';
import { silentLogger } from '../../pipeline/context.ts';
import { pidAlive } from '../../pipeline/io/lock.ts';
import { LAB_CARRIERS, labCarrier } from '../../pipeline/lab/carriers.ts';
import { cleanupStale, labNamespaces, NS_FAMILY_ENV, removeNamespace, SERVER_IP, SERVER_IP2, Topology } from '../../pipeline/lab/topology.ts';
import { runNatTypeOnly, withTopology } from '../../pipeline/lab/index.ts';
import { classifyNatType, NatServer, NAT_TYPE_METHOD, NAT_TYPE_PORTS, NAT_TYPE_RETRY } from '../../pipeline/lab/nat-type.ts';
import type { NatTypeObservation } from '../../pipeline/lab/agent.ts';
import { agentResult, spawnAgent } from '../../pipeline/lab/sh.ts';
import { punch } from '../../pipeline/punch/index.ts';
import { needs } from '../helpers/requirements.ts';

// jest runs from the repository root (jest.config.js's rootDir).
const ROOT = process.cwd();
const MAIN = path.join(ROOT, 'pipeline/lab/main.ts');

/** This run's namespace family; a dead run's family is recognised by its jest pid. */
const FAMILY = `nlt${process.pid}x${crypto.randomBytes(3).toString('hex')}`;
const TEST_FAMILY_RE = /^nlt(\d+)x[0-9a-f]+-/;
// The in-process labs (runNatTypeOnly, withTopology, punch) read it from here; the
// spawned ones get it in their environment.
process.env[NS_FAMILY_ENV] = FAMILY;
const CHILD_ENV = { ...process.env, [NS_FAMILY_ENV]: FAMILY };

/**
 * How long a spawned lab may take to reach its capture: node + tsx start, ~40 `ip`
 * commands, a server agent and a rule-check agent (each a node + tsx start). About 5 s
 * on a quiet 2-core machine, ~15 s at load average 8; the deadline only bounds a hang.
 */
const READY_DEADLINE_MS = 150_000;

function labAvailable(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root';
  for (const tool of ['ip', 'iptables', 'iptables-save', 'conntrack', 'sysctl']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).stdout.toString().trim() === '') return `${tool} not installed`;
  }
  const ns = `${FAMILY}-${process.pid}-probe`;
  const r = spawnSync('ip', ['netns', 'add', ns]);
  if (r.status !== 0) return `ip netns add failed: ${r.stderr.toString().trim()}`;
  spawnSync('ip', ['netns', 'del', ns]);
  return null;
}

const suite = needs('the netfilter lab (root, ip, iptables, conntrack, network namespaces)', labAvailable()).describe;

/** What the lab must not change in the root namespace. */
function rootState(): { links: string; rules: string; routes: string } {
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(':')[1]?.trim() ?? '')
    .filter(Boolean)
    .sort()
    .join(',');
  const rules = execFileSync('iptables-save', [], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/, ''))
    .join('\n');
  const routes = execFileSync('ip', ['route', 'show'], { encoding: 'utf8' });
  return { links, rules, routes };
}

/** This run's namespaces made by process `pid`. */
function namespacesOf(pid: number): string[] {
  return labNamespaces(FAMILY).filter((n) => n.startsWith(`${FAMILY}-${pid}-`));
}


/** Namespaces of earlier test runs whose jest process is gone (killed before its afterAll). */
function removeDeadRunsNamespaces(): void {
  const all = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '');
  for (const ns of all) {
    const m = TEST_FAMILY_RE.exec(ns);
    if (m && !pidAlive(Number(m[1]))) removeNamespace(ns);
  }
}

interface Lab {
  child: ChildProcess;
  pid: number;
  /** Resolves when the process has exited and its output is read. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log(): string;
  /** Resolves once stderr has matched `re`; rejects if the lab ends first or by the deadline. */
  waitFor(re: RegExp): Promise<void>;
}

const running = new Set<ChildProcess>();

/** `natatlas lab` in its own process group (so cleanup can kill it with its agents). */
function lab(args: string[]): Lab {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'lab', ...args], { cwd: ROOT, env: CHILD_ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(child);
  let log = '';
  const listeners: (() => void)[] = [];
  child.stdout!.resume();
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    log += d;
    for (const l of [...listeners]) l();
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      running.delete(child);
      for (const l of [...listeners]) l();
      resolve({ code, signal });
    }),
  );
  const waitFor = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`lab ${child.pid}: no ${re} within ${READY_DEADLINE_MS} ms:\n${log}`)), READY_DEADLINE_MS);
      const check = () => {
        if (re.test(log)) finish(null);
        else if (!running.has(child)) finish(new Error(`lab ${child.pid} ended (${child.exitCode ?? child.signalCode}) before ${re}:\n${log}`));
      };
      let done = false;
      function finish(err: Error | null) {
        if (done) return;
        done = true;
        clearTimeout(timer);
        listeners.splice(listeners.indexOf(check), 1);
        if (err) reject(err);
        else resolve();
      }
      listeners.push(check);
      check();
    });
  return { child, pid: child.pid!, closed, log: () => log, waitFor };
}

/** SIGKILL labs still running, with their agents (their process group); resolves once they are gone. */
async function kill(labs: ChildProcess[]): Promise<void> {
  const left = labs.filter((c) => running.has(c));
  for (const c of left) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await Promise.all(left.map((c) => new Promise((r) => (running.has(c) ? c.once('close', r) : r(null)))));
}

/** Run `body` with a lab; if the test fails midway, the lab and its namespaces go with it. */
async function withLab(args: string[], body: (l: Lab) => Promise<void>): Promise<void> {
  const l = lab(args);
  try {
    await body(l);
  } finally {
    if (running.has(l.child)) {
      await kill([l.child]);
      for (const ns of namespacesOf(l.pid)) removeNamespace(ns);
    }
  }
}

/** Kill every lab this file started, with its agents, and delete this run's namespaces. */
async function killEverything(): Promise<void> {
  await kill([...running]);
  for (const ns of labNamespaces(FAMILY)) removeNamespace(ns);
}

/** A command run without blocking the event loop (the background campaign keeps reading its lab). */
function runAsync(cmd: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

suite('netfilter lab', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'natatlas-lab-'));
  let before: ReturnType<typeof rootState>;

  // Shorter timeouts than the committed campaign so the searches finish in ~60 s.
  const carriers = ['masq-preserve@3/5', 'masq-random@3/5', 'masq-narrow@4/5', 'snat-pool@3/4'];
  interface CampaignRun {
    code: number | null;
    log: string;
    /** The lab's namespaces still there after it exited, and the root namespace then. */
    leftNamespaces: string[];
    rootAfter: ReturnType<typeof rootState>;
    pipeline: { status: number | null; stderr: string } | null;
  }
  let campaign: Promise<CampaignRun>;
  const tables: Record<string, BiasTable> = {};

  async function runCampaign(): Promise<CampaignRun> {
    const l = lab(['--out', path.join(tmp, 'raw'), '--campaign', 'lab', '--carriers', carriers.join(','), '--runs', '2', '--packets', '300', '--force']);
    const { code } = await l.closed;
    const run: CampaignRun = { code, log: l.log(), leftNamespaces: namespacesOf(l.pid), rootAfter: rootState(), pipeline: null };
    if (code === 0) {
      run.pipeline = await runAsync(process.execPath, [path.join(ROOT, 'pipeline/bin/natatlas.js'), 'run', '--raw', path.join(tmp, 'raw'), '--derived', path.join(tmp, 'derived'), '--reports', path.join(tmp, 'reports'), '--campaign', 'lab', '--no-montecarlo', '-q']);
    }
    return run;
  }

  beforeAll(() => {
    removeDeadRunsNamespaces();
    cleanupStale(FAMILY);
    before = rootState();
    campaign = runCampaign();
    // Awaited by its test; a rejection before then must not count as unhandled.
    campaign.catch(() => {});
  });

  afterAll(async () => {
    await killEverything();
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  test('in-process labs name their namespaces in this run\'s family', () => {
    expect(new Topology().prefix).toBe(`${FAMILY}-${process.pid}-`);
  });

  test('RFC 5780 discovery classifies the four lab NATs as netfilter behaves', async () => {
    const out = path.join(tmp, 'nat-type');
    const results = await runNatTypeOnly({ outDir: out, campaign: 'lab', carriers: [...LAB_CARRIERS], log: silentLogger });
    expect(namespacesOf(process.pid)).toEqual([]);
    expect(rootState()).toEqual(before);
    // docs/design.md "Real NATs": plain MASQUERADE / SNAT reuse the mapping of an inside ip:port
    // (endpoint-independent), --random-fully gives every flow its own port; conntrack lets
    // in only the exact reply tuple, so filtering is address-and-port-dependent everywhere.
    const want: Record<string, [string, boolean]> = {
      'masq-preserve': ['endpoint-independent', true],
      'masq-random': ['address-and-port-dependent', false],
      'masq-narrow': ['address-and-port-dependent', false],
      'snat-pool': ['endpoint-independent', false],
    };
    for (const [name, [mapping, preserved]] of Object.entries(want)) {
      const file = path.join(out, 'lab', name, 'nat-type.json');
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      expect(json).toEqual(JSON.parse(JSON.stringify(results.get(name))));
      expect(Object.keys(json)).toEqual(Object.keys(json).sort());
      expect([name, json.method, json.mapping, json.filtering, json.portPreservation, json.hairpinning]).toEqual([name, NAT_TYPE_METHOD, mapping, 'address-and-port-dependent', preserved, false]);
      const obs = json.observed as NatTypeObservation;
      const pub = LAB_CARRIERS.findIndex((c) => c.name === name) + 11;
      for (const m of obs.mapping) expect(m.mapped?.startsWith(`203.0.113.${pub}:`)).toBe(true);
      if (name === 'masq-narrow') for (const m of obs.mapping) expect(Number(m.mapped!.split(':')[1])).toBeGreaterThanOrEqual(20000);
      if (name === 'snat-pool') for (const m of obs.mapping) expect(Number(m.mapped!.split(':')[1])).toBeGreaterThanOrEqual(30000);
    }
    // Nothing but nat-type.json was written: no capture, no timeouts, no lab.json.
    expect(fs.readdirSync(path.join(out, 'lab')).sort()).toEqual(Object.keys(want).sort());
    for (const name of Object.keys(want)) expect(fs.readdirSync(path.join(out, 'lab', name))).toEqual(['nat-type.json']);
  }, 180_000);

  test('without a NAT in the path the same discovery sees replies arrive (positive control)', async () => {
    // The client agent in the server namespace itself: no NAT, no filter, so tests II and
    // III must get their replies and the mapped address is the local one.
    const obs = await withTopology(
      silentLogger,
      (topo) => topo.buildCore(),
      async (topo) => {
        const server = NatServer.start(topo);
        try {
          await server.ready();
          return await agentResult<NatTypeObservation>(spawnAgent(topo.srvNs, { mode: 'nat-type', addresses: [SERVER_IP, SERVER_IP2], ports: NAT_TYPE_PORTS, ...NAT_TYPE_RETRY }), 'control');
        } finally {
          server.stop();
        }
      },
    );
    const r = classifyNatType(obs);
    expect([r.mapping, r.filtering, r.portPreservation, r.hairpinning]).toEqual(['endpoint-independent', 'endpoint-independent', true, true]);
    expect(obs.filtering.tests.map((t) => t.arrived)).toEqual([true, true]);
    expect(namespacesOf(process.pid)).toEqual([]);
  }, 120_000);

  test('SIGTERM mid-run tears everything down', () =>
    withLab(['--out', tmp, '--campaign', 'term', '--carriers', 'masq-narrow', '--runs', '5', '--packets', '2000', '--no-nat-type', '--force'], async (l) => {
      await l.waitFor(/capturing/);
      expect(namespacesOf(l.pid).length).toBeGreaterThan(0);
      expect(fs.readdirSync(tmp).filter((n) => n.startsWith('term.tmp-lab-'))).toHaveLength(1);
      l.child.kill('SIGTERM');
      const { code } = await l.closed;
      expect(code).toBe(143);
      expect(namespacesOf(l.pid)).toEqual([]);
      expect(rootState()).toEqual(before);
      expect(fs.readdirSync(tmp).filter((n) => n.startsWith('term'))).toEqual([]);
    }), READY_DEADLINE_MS + 60_000);

  test('after SIGKILL the next start removes the dead lab\'s namespaces', () =>
    withLab(['--out', tmp, '--campaign', 'kill', '--carriers', 'masq-narrow', '--runs', '5', '--packets', '2000', '--no-nat-type', '--force'], async (l) => {
      await l.waitFor(/capturing/);
      l.child.kill('SIGKILL');
      await l.closed;
      const left = namespacesOf(l.pid);
      expect(left.length).toBeGreaterThan(0);
      // The family's other labs (the background campaign, this process) are alive: only the dead one's go.
      expect(cleanupStale(FAMILY).sort()).toEqual(left.sort());
      expect(namespacesOf(l.pid)).toEqual([]);
      expect(rootState()).toEqual(before);
    }), READY_DEADLINE_MS + 60_000);

  test('a short campaign through real NATs is recovered by the pipeline', async () => {
    const run = await campaign;
    expect({ code: run.code, log: run.code === 0 ? '' : run.log }).toEqual({ code: 0, log: '' });
    expect(run.leftNamespaces).toEqual([]);
    expect(run.rootAfter).toEqual(before);
    const r = run.pipeline!;
    expect(r.stderr.split('\n').filter((l) => /error|rejected/i.test(l))).toEqual([]);
    expect(r.status).toBe(0);

    const derived = path.join(tmp, 'derived');
    expect(fs.readFileSync(path.join(derived, 'lab', 'rejects.csv'), 'utf8').trim().split('\n')).toHaveLength(1);
    for (const spec of carriers) {
      const def = labCarrier(spec);
      const t = JSON.parse(fs.readFileSync(path.join(derived, 'lab', 'bias', `${def.name}.json`), 'utf8')) as BiasTable;
      tables[def.name] = t;
      // The lab's RFC 5780 nat-type.json reaches the fit stage as measured.
      const fit = JSON.parse(fs.readFileSync(path.join(derived, 'lab', 'fit', `${def.name}.json`), 'utf8')) as { natType: { source: string; value?: Record<string, unknown> } };
      expect([def.name, fit.natType.source, fit.natType.value?.filtering]).toEqual([def.name, 'nat-type.json', 'address-and-port-dependent']);
      expect([def.name, t.mapping.behavior]).toEqual([def.name, def.expect.behavior]);
      if (def.expect.preservation === 1) expect(t.mapping.portPreservation).toBeGreaterThan(0.99);
      else expect(t.mapping.portPreservation).toBeLessThan(0.05);
      if (def.range) {
        expect(t.mapping.observedRange[0]).toBeGreaterThanOrEqual(def.range[0]);
        expect(t.mapping.observedRange[1]).toBeLessThanOrEqual(def.range[1]);
        // ~580 draws cover the range's ends to within a few ports per thousand.
        expect(t.mapping.observedRange[1] - t.mapping.observedRange[0]).toBeGreaterThan(0.95 * (def.range[1] - def.range[0]));
      }
      // Timeouts: the probes' resolution is 0.1 s; the truth lies in (low, high].
      for (const [kind, truth] of [['wait', def.waitS], ['idle', def.idleS]] as const) {
        const got = t.timeouts[kind]!;
        const low = got.low ?? -Infinity;
        const high = got.high ?? Infinity;
        expect([def.name, kind, low <= truth + 1e-9 && truth <= high + 0.1 + 1e-9]).toEqual([def.name, kind, true]);
        expect(Math.abs((got.seconds ?? NaN) - truth)).toBeLessThanOrEqual(0.2);
      }
    }
  }, 400_000);

  test('biased punching needs fewer packets than naive between two narrowed NATs', async () => {
    const table = tables['masq-narrow'];
    if (!table) throw new Error('needs the campaign test');
    const narrow = LAB_CARRIERS.find((c) => c.name === 'masq-narrow')!;
    const results = await punch({ carrierA: narrow, carrierB: narrow, biasA: table, biasB: table, strategies: ['naive', 'biased'], plan: { kind: 'marginal' }, trials: 20, budget: 4000, rate: 5000, sockets: 256, seed: 'lab-test', log: silentLogger });
    const of = (s: string) => results.filter((r) => r.strategy === s);
    const wins = (s: string) => of(s).filter((r) => r.outcome === 'S').length;
    const mean = (s: string) => of(s).reduce((a, r) => a + r.packets, 0) / of(s).length;
    expect(of('naive')).toHaveLength(20);
    expect(of('biased')).toHaveLength(20);
    // 1000x1000 cells: ~830 packets a side for 50%, 4000 gives ~1 - e^-16. Naive aims
    // 1.55% of its packets into the range: ~0.4% success at 4000.
    expect(wins('biased')).toBeGreaterThanOrEqual(18);
    expect(wins('naive')).toBeLessThanOrEqual(3);
    expect(mean('biased')).toBeLessThan(0.5 * mean('naive'));
    expect(namespacesOf(process.pid)).toEqual([]);
    expect(rootState()).toEqual(before);
  }, 300_000);

  test('leaves no namespace of this run behind', async () => {
    await campaign.catch(() => {});
    expect(labNamespaces(FAMILY)).toEqual([]);
  });
});
