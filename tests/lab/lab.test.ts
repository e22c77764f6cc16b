/**
 * End to end against real netfilter NATs in network namespaces (pipeline/lab): a short
 * lab campaign, ingested by the pipeline, must give back what the rules and sysctls
 * say; nothing may be left behind (namespaces, veths, rules, staging folders), also
 * after SIGTERM and SIGKILL mid-run; and on a narrowed --random-fully pair, punching
 * with the fitted table must beat naive guessing; RFC 5780 discovery must classify each
 * NAT's mapping and filtering as netfilter behaves. Needs root and `ip netns add`;
 * skipped with a message otherwise.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BiasTable } from '../../pipeline/bias/types.ts';
import { silentLogger } from '../../pipeline/context.ts';
import { LAB_CARRIERS, labCarrier } from '../../pipeline/lab/carriers.ts';
import { cleanupStale, labNamespaces, SERVER_IP, SERVER_IP2 } from '../../pipeline/lab/topology.ts';
import { runNatTypeOnly, withTopology } from '../../pipeline/lab/index.ts';
import { classifyNatType, NatServer, NAT_TYPE_METHOD, NAT_TYPE_PORTS, NAT_TYPE_RETRY } from '../../pipeline/lab/nat-type.ts';
import type { NatTypeObservation } from '../../pipeline/lab/agent.ts';
import { agentResult, spawnAgent } from '../../pipeline/lab/sh.ts';
import { punch } from '../../pipeline/punch/index.ts';

// jest runs from the repository root (jest.config.js's rootDir).
const ROOT = process.cwd();
const MAIN = path.join(ROOT, 'pipeline/lab/main.ts');

function labAvailable(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root';
  for (const tool of ['ip', 'iptables', 'conntrack']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).stdout.toString().trim() === '') return `${tool} not installed`;
  }
  const ns = `nl-${process.pid}-probe`;
  const r = spawnSync('ip', ['netns', 'add', ns]);
  if (r.status !== 0) return `ip netns add failed: ${r.stderr.toString().trim()}`;
  spawnSync('ip', ['netns', 'del', ns]);
  return null;
}

const why = labAvailable();
if (why) console.warn(`tests/lab skipped: ${why} (the netfilter lab needs root and network namespaces)`);
const suite = why ? describe.skip : describe;

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

function lab(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, 'lab', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

function waitForOutput(child: ReturnType<typeof lab>, re: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms: ${text}`)), ms);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      if (re.test(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    });
  });
}

function exited(child: ReturnType<typeof lab>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

suite('netfilter lab', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'natatlas-lab-'));
  let before: ReturnType<typeof rootState>;
  beforeAll(() => {
    cleanupStale();
    before = rootState();
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  // Shorter timeouts than the committed campaign so the searches finish in ~50 s.
  const carriers = ['masq-preserve@3/5', 'masq-random@3/5', 'masq-narrow@4/5', 'snat-pool@3/4'];
  const tables: Record<string, BiasTable> = {};

  test('a short campaign through real NATs is recovered by the pipeline', async () => {
    const child = lab(['--out', path.join(tmp, 'raw'), '--campaign', 'lab', '--carriers', carriers.join(','), '--runs', '2', '--packets', '300', '--force']);
    let log = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    const { code } = await exited(child);
    expect({ code, log: code === 0 ? '' : log }).toEqual({ code: 0, log: '' });
    expect(labNamespaces()).toEqual([]);
    expect(rootState()).toEqual(before);

    const derived = path.join(tmp, 'derived');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'pipeline/bin/natatlas.js'), 'run', '--raw', path.join(tmp, 'raw'), '--derived', derived, '--reports', path.join(tmp, 'reports'), '--campaign', 'lab', '--no-montecarlo', '-q'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr.split('\n').filter((l) => /error|rejected/i.test(l))).toEqual([]);
    expect(r.status).toBe(0);
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
  }, 240000);

  test('biased punching needs fewer packets than naive between two narrowed NATs', async () => {
    const table = tables['masq-narrow'];
    if (!table) throw new Error('needs the first test');
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
    expect(labNamespaces()).toEqual([]);
    expect(rootState()).toEqual(before);
  }, 180000);

  test('RFC 5780 discovery classifies the four lab NATs as netfilter behaves', async () => {
    const started = performance.now();
    const out = path.join(tmp, 'nat-type');
    const results = await runNatTypeOnly({ outDir: out, campaign: 'lab', carriers: [...LAB_CARRIERS], log: silentLogger });
    expect(labNamespaces()).toEqual([]);
    expect(rootState()).toEqual(before);
    // DESIGN.md "Real NATs": plain MASQUERADE / SNAT reuse the mapping of an inside ip:port
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
    // Nothing but nat-type.json was written.
    expect(fs.readdirSync(path.join(out, 'lab')).sort()).toEqual(Object.keys(want).sort());
    for (const name of Object.keys(want)) expect(fs.readdirSync(path.join(out, 'lab', name))).toEqual(['nat-type.json']);
    expect((performance.now() - started) / 1000).toBeLessThan(30);
  }, 60000);

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
    expect(labNamespaces()).toEqual([]);
  }, 30000);

  test('SIGTERM mid-run tears everything down', async () => {
    const child = lab(['--out', tmp, '--campaign', 'term', '--carriers', 'masq-narrow', '--runs', '5', '--packets', '2000', '--force']);
    await waitForOutput(child, /capturing/, 30000);
    expect(labNamespaces().some((n) => n.startsWith(`nl-${child.pid}-`))).toBe(true);
    child.kill('SIGTERM');
    const { code } = await exited(child);
    expect(code).toBe(143);
    expect(labNamespaces()).toEqual([]);
    expect(rootState()).toEqual(before);
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('term'))).toEqual([]);
  }, 60000);

  test('after SIGKILL the next start removes the dead lab\'s namespaces', async () => {
    const child = lab(['--out', tmp, '--campaign', 'kill', '--carriers', 'masq-narrow', '--runs', '5', '--packets', '2000', '--force']);
    await waitForOutput(child, /capturing/, 30000);
    child.kill('SIGKILL');
    await exited(child);
    const left = labNamespaces().filter((n) => n.startsWith(`nl-${child.pid}-`));
    expect(left.length).toBeGreaterThan(0);
    expect(cleanupStale().sort()).toEqual(left.sort());
    expect(labNamespaces()).toEqual([]);
    expect(rootState()).toEqual(before);
  }, 60000);
});
