/** The lab's pure pieces (no root needed): async replay of the seed's search, target draws, trial numbering. */
import fs from 'node:fs';
import { tempDir } from '../helpers/tempdir.ts';
import path from 'node:path';
import { searchTimeout } from '../../pipeline/simulate/timeouts.ts';
import { searchAsync } from '../../pipeline/lab/search.ts';
import { labCarrier, LAB_CARRIERS } from '../../pipeline/lab/carriers.ts';
import { appendTrials, samplePorts, targetDistribution } from '../../pipeline/punch/index.ts';
import { Rng } from '../../pipeline/random.ts';
import type { BiasTable } from '../../pipeline/bias/types.ts';
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

test('targets: naive is uniform over 1024-65535, biased follows the table', () => {
  const rng = new Rng(1);
  const naive = samplePorts(targetDistribution('naive', undefined, { kind: 'marginal' }), 20000, rng);
  expect(Math.min(...naive)).toBeGreaterThanOrEqual(1024);
  expect(Math.max(...naive)).toBeLessThanOrEqual(65535);
  const table = { marginal: [[20000, 20499, 0.9], [20500, 20999, 0.1]] } as unknown as BiasTable;
  const biased = samplePorts(targetDistribution('biased', table, { kind: 'marginal' }), 20000, rng);
  const low = biased.filter((p) => p <= 20499).length / biased.length;
  expect(low).toBeGreaterThan(0.88);
  expect(low).toBeLessThan(0.92);
  const top = samplePorts(targetDistribution('biased', table, { kind: 'topk', k: 100 }), 5000, rng);
  expect(new Set(top).size).toBeLessThanOrEqual(100);
  expect(Math.min(...top)).toBe(20000);
  expect(() => targetDistribution('biased', undefined, { kind: 'marginal' })).toThrow(/bias table/);
});

test('appendTrials writes the header once and numbers trials on', () => {
  const file = path.join(tempDir('trials'), 'trials-lab.csv');
  const row = (strategy: 'naive' | 'biased', outcome: 'S' | 'F', packets: number) => ({ carrierA: 'a', carrierB: 'b', strategy, trial: 0, outcome, packets, seconds: 0 });
  appendTrials(file, [row('naive', 'F', 10), row('biased', 'S', 5)]);
  appendTrials(file, [row('biased', 'S', 7)]);
  expect(fs.readFileSync(file, 'utf8')).toBe('carrier_a,carrier_b,strategy,trial,outcome,packets\na,b,naive,1,F,10\na,b,biased,1,S,5\na,b,biased,2,S,7\n');
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
