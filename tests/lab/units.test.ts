/** The lab's pure pieces (no root needed): async replay of the seed's search, target draws, trial numbering. */
import fs from 'node:fs';
import { tempDir } from '../helpers/tempdir.ts';
import path from 'node:path';
import { searchTimeout } from '../../pipeline/simulate/timeouts.ts';
import { searchAsync } from '../../pipeline/lab/search.ts';
import { labCarrier, LAB_CARRIERS } from '../../pipeline/lab/carriers.ts';
import { appendTrials, FRESH_SOCKETS, sidePlans, socketsFor } from '../../pipeline/punch/index.ts';
import { aimingEngine } from '../../pipeline/punch/aim.ts';
import { pairPlan } from '../../pipeline/punch/plan.ts';
import { Rng } from '../../pipeline/random.ts';
import type { BiasTable, PunchPlan, SidePlan } from '../../pipeline/bias/types.ts';
import { classifyNatType } from '../../pipeline/lab/nat-type.ts';
import type { NatTypeObservation } from '../../pipeline/lab/agent.ts';

test('searchAsync asks the same delays as searchTimeout and ends in the same place', async () => {
  for (const T of [0.5, 7, 20, 33.3, 59.99, 120]) {
    const sync = searchTimeout((d) => d < T);
    const asked: number[] = [];
    const res = await searchAsync(searchTimeout, async (d) => {
      asked.push(d);
      return d < T;
    });
    expect(asked).toEqual(sync.probes.map((p) => p.delayS));
    expect([res.l, res.r, res.censored]).toEqual([sync.l, sync.r, sync.censored]);
  }
});

test('carrier specs', () => {
  expect(labCarrier('masq-narrow')).toBe(LAB_CARRIERS.find((c) => c.name === 'masq-narrow'));
  expect(labCarrier('masq-preserve@3/5')).toMatchObject({ name: 'masq-preserve', waitS: 3, idleS: 5 });
  const c = labCarrier('peer:40000-40099:4/6');
  expect(c).toMatchObject({ range: [40000, 40099], waitS: 4, idleS: 6 });
  expect(c.rules('203.0.113.11')[0]).toEqual(['-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-p', 'udp', '-j', 'MASQUERADE', '--random-fully', '--to-ports', '40000-40099']);
  expect(() => labCarrier('nope')).toThrow(/unknown carrier/);
  expect(() => labCarrier('x:80-90')).toThrow(/1024-65535/);
});

/** n aims of a side plan, drawn as the lab's peer draws them. */
function aims(plan: SidePlan, n: number, rng: Rng): number[] {
  const e = aimingEngine(plan);
  return Array.from({ length: n }, (_, k) => e.target(k, rng));
}

test('targets: naive is uniform over 1024-65535, biased follows the table', () => {
  const rng = new Rng(1);
  const table = { marginal: [[20000, 20499, 0.9], [20500, 20999, 0.1]] } as unknown as BiasTable;
  const [naive] = sidePlans('naive', { plan: { kind: 'marginal' } });
  expect(naive).toMatchObject({ sockets: 'fresh', report: 'never' });
  const nv = aims(naive, 20000, rng);
  expect(Math.min(...nv)).toBeGreaterThanOrEqual(1024);
  expect(Math.max(...nv)).toBeLessThanOrEqual(65535);
  // A aims at B's NAT with B's table.
  const [towardB, towardA] = sidePlans('biased', { plan: { kind: 'marginal' }, biasA: { marginal: [[40000, 40009, 1]] } as unknown as BiasTable, biasB: table });
  const biased = aims(towardB, 20000, rng);
  const low = biased.filter((p) => p <= 20499).length / biased.length;
  // 0.9 +- 4.5 standard errors (sqrt(0.09 / 20000) = 0.0021).
  expect(Math.abs(low - 0.9)).toBeLessThan(0.0095);
  expect(new Set(aims(towardA, 1000, rng))).toEqual(new Set(Array.from({ length: 10 }, (_, i) => 40000 + i)));
  const top = aims(sidePlans('biased', { plan: { kind: 'topk', k: 100 }, biasA: table, biasB: table })[0], 5000, rng);
  expect(new Set(top).size).toBeLessThanOrEqual(100);
  expect(Math.min(...top)).toBe(20000);
  expect(() => sidePlans('biased', { plan: { kind: 'marginal' } })).toThrow(/bias table/);
});

test('plan table: the published plan, its sides swapped for a pair listed the other way round', () => {
  const easy: SidePlan = { sockets: 'single', report: 'once', aim: { kind: 'sweep', segments: [[20000, 20999, 1]] } };
  const hard: SidePlan = { sockets: 'fresh', report: 'never', aim: { kind: 'peer-port' } };
  const pairs = [{ a: 'masq-narrow', b: 'masq-preserve', plan: { strategy: 'easy-hard', a: hard, b: easy } }];
  expect(pairPlan(pairs, 'masq-preserve', 'masq-narrow', 'attack.json')).toEqual({ strategy: 'easy-hard', a: easy, b: hard });
  expect(pairPlan(pairs, 'masq-narrow', 'masq-preserve', 'attack.json')).toBe(pairs[0]!.plan);
  expect(() => pairPlan(pairs, 'masq-narrow', 'snat-pool', 'attack.json')).toThrow(/attack.json has no pair masq-narrow x snat-pool/);
  const table: PunchPlan = { strategy: 'easy-hard', a: easy, b: hard };
  expect(sidePlans('biased', { plan: { kind: 'table', plan: table } })).toEqual([easy, hard]);
  // One socket for a single-socket side; fresh ones: one per packet slot, capped.
  expect([socketsFor(easy, 500, undefined), socketsFor(hard, 500, undefined), socketsFor(hard, 10 ** 6, undefined), socketsFor(hard, 500, 64)]).toEqual([1, 500, FRESH_SOCKETS, 64]);
});

test('the aiming engine: a single socket reports at slot 0 and aims only once the peer\'s port is known', () => {
  const rng = new Rng(2);
  const e = aimingEngine({ sockets: 'fresh', report: 'never', aim: { kind: 'peer-port' } });
  expect([e.isReport(0), e.target(0, rng)]).toEqual([false, -1]);
  e.peer = { port: 30123, step: 0 };
  expect(e.target(1, rng)).toBe(30123);
  const easy = aimingEngine({ sockets: 'single', report: 'once', aim: { kind: 'sweep', segments: [[20000, 20099, 1]] } });
  expect([easy.isReport(0), easy.isReport(1)]).toEqual([true, false]);
  // A sweep visits every port of its range once before repeating.
  expect(new Set(Array.from({ length: 100 }, (_, k) => easy.target(k + 1, rng))).size).toBe(100);
});

test('appendTrials writes the header once and numbers trials on', () => {
  const file = path.join(tempDir('trials'), 'trials-lab.csv');
  const row = (strategy: 'naive' | 'biased', outcome: 'S' | 'F', packets: number) => ({ carrierA: 'a', carrierB: 'b', strategy, trial: 0, outcome, packets, seconds: 0 });
  appendTrials(file, [row('naive', 'F', 10), row('biased', 'S', 5)], 5000);
  appendTrials(file, [row('biased', 'S', 7)], 100);
  expect(fs.readFileSync(file, 'utf8')).toBe('carrier_a,carrier_b,strategy,trial,outcome,packets,rate_pps\na,b,naive,1,F,10,5000\na,b,biased,1,S,5,5000\na,b,biased,2,S,7,100\n');
});

test('appendTrials refuses a trials file without rate_pps, naming it and a way out, and leaves it as it was', () => {
  const file = path.join(tempDir('trials'), 'trials-old.csv');
  const old = 'carrier_a,carrier_b,strategy,trial,outcome,packets\na,b,naive,1,F,10\n';
  fs.writeFileSync(file, old);
  expect(() => appendTrials(file, [{ carrierA: 'a', carrierB: 'b', strategy: 'naive', trial: 0, outcome: 'S', packets: 3, seconds: 0 }], 5000))
    .toThrow(/^punch: will not append to .*trials-old\.csv: it has no rate_pps column .*Give --out a new file next to it, e\.g\. .*trials-<name>\.csv/);
  expect(fs.readFileSync(file, 'utf8')).toBe(old);
});

test('RFC 5780 decision rules (classifyNatType)', () => {
  const obs = (mapped: (string | null)[], ii: boolean | null, iii: boolean | null, localPort = 40000): NatTypeObservation => ({
    localPort,
    mapping: mapped.map((m, i) => ({ server: ['203.0.113.1:3478', '203.0.113.2:3478', '203.0.113.2:3479'][i]!, mapped: m })),
    filtering: {
      localPort: 40001,
      mapped: ii === null ? null : '198.51.100.1:50001',
      tests: ii === null ? [] : [{ test: 'II', replyFrom: '203.0.113.2:3479', arrived: ii }, { test: 'III', replyFrom: '203.0.113.1:3479', arrived: iii! }],
    },
    hairpin: null,
  });
  const A = '198.51.100.1:40000';
  const B = '198.51.100.1:40002';
  const C = '198.51.100.1:40003';
  const pick = (o: NatTypeObservation) => {
    const r = classifyNatType(o);
    return [r.mapping, r.filtering, r.portPreservation, r.hairpinning];
  };
  expect(pick(obs([A, A, A], true, true))).toEqual(['endpoint-independent', 'endpoint-independent', true, null]);
  expect(pick(obs([A, B, B], false, true))).toEqual(['address-dependent', 'address-dependent', true, null]);
  expect(pick(obs([A, B, C], false, false))).toEqual(['address-and-port-dependent', 'address-and-port-dependent', true, null]);
  expect(pick(obs([B, B, B], false, false))).toEqual(['endpoint-independent', 'address-and-port-dependent', false, null]);
  // No answer: unknown, never a guess.
  expect(pick(obs([A, null, null], null, null))).toEqual(['unknown', 'unknown', true, null]);
  expect(pick(obs([A, B, null], false, false))).toEqual(['unknown', 'address-and-port-dependent', true, null]);
  expect(classifyNatType({ ...obs([A, A, A], false, false), hairpin: { target: A, arrived: true } }).hairpinning).toBe(true);
});
