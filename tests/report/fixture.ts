/**
 * A small campaign for the report tests: two simulated carriers (one named like an
 * XSS payload) run through ingest, join, fit and bias, with hand-made evaluate files in
 * the exact formats the evaluate stage writes (matrix.json, attack.json), so the tests
 * know every number the pages should show.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ingest } from '../../pipeline/stages/ingest.ts';
import { join } from '../../pipeline/stages/join.ts';
import { fit } from '../../pipeline/stages/fit.ts';
import { bias } from '../../pipeline/stages/bias.ts';
import { preset, simulateCampaign } from '../../pipeline/simulate/index.ts';
import type { AttackReport } from '../../pipeline/contracts/attack.ts';
import type { SuccessMatrix } from '../../pipeline/contracts/matrix.ts';
import type { Paths } from '../../pipeline/context.ts';
import { recordingLogger, tempProject } from '../helpers/tmp.ts';

export const HOSTILE = '<img src=x onerror=alert(1)>';
export const CAMPAIGN = 'rt';

/** Table I of the seed paper (naive), plus a biased row, in the trials file's pair order. */
export function handMatrix(): SuccessMatrix {
  const cell = (a: string, b: string, strategy: 'naive' | 'biased', outcomes: string, wilson: [number, number], meanPackets: number | null = null) => {
    const successes = [...outcomes].filter((c) => c === 'S').length;
    return { a, b, strategy, trials: outcomes.length, successes, outcomes, rate: successes / outcomes.length, wilson, meanPackets };
  };
  return {
    schema: 'natatlas.matrix/1',
    campaign: CAMPAIGN,
    carriers: ['Lebara', 'Lyca', 'Odido', 'Vodaphone'],
    strategies: ['naive', 'biased'],
    cells: [
      cell('Odido', 'Odido', 'naive', 'FFFFFFFFFFF', [0, 0.2588329669680317]),
      cell('Lebara', 'Odido', 'naive', 'FFFFFFFFFFF', [0, 0.2588329669680317]),
      cell('Lebara', 'Lebara', 'naive', 'FFFFFFFFFFF', [0, 0.2588329669680317]),
      cell('Lyca', 'Odido', 'naive', 'FFFFSFFFFF', [0.017875749515449, 0.4041500317354781]),
      cell('Lyca', 'Lebara', 'naive', 'FFFFFFFFFFF', [0, 0.2588329669680317]),
      cell('Lyca', 'Lyca', 'naive', 'FFFFFFFFFFF', [0, 0.2588329669680317]),
      cell('Vodaphone', 'Odido', 'naive', 'FFFSFSFFFF', [0.05668215145437, 0.5098375284633583]),
      cell('Vodaphone', 'Lebara', 'naive', 'FFFFSFFFFF', [0.017875749515449, 0.4041500317354781]),
      cell('Vodaphone', 'Lyca', 'naive', 'FFFFFFSFFF', [0.017875749515449, 0.4041500317354781]),
      cell('Vodaphone', 'Vodaphone', 'naive', 'FFFSSFFSFS', [0.1681803880812, 0.6873262612163]),
      cell('Vodaphone', 'Vodaphone', 'biased', 'SSSSSSSSSF', [0.5958499682645219, 0.9821242504845510], 812.5),
    ],
  };
}

export function handAttack(carriers: string[]): AttackReport {
  const packets = [0, 10, 100, 1000, 10000, 100000];
  const costs = (k: number) => ({ p50: 1000 * k, p90: 2000 * k, p99: 3000 * k, p999: 4000 * k });
  const pairs = [] as AttackReport['pairs'];
  for (let i = 0; i < carriers.length; i++) {
    for (let j = i; j < carriers.length; j++) {
      pairs.push({
        a: carriers[i]!, b: carriers[j]!, naiveKind: 'hard-hard', candidates: [], realistic: { naive: null, biased: null, trials: null, seed: null },
        plan: { strategy: 'marginal', a: { sockets: 'fresh', report: 'never', aim: { kind: 'segments', segments: [[1024, 65535, 1]] } }, b: { sockets: 'fresh', report: 'never', aim: { kind: 'segments', segments: [[1024, 65535, 1]] } } },
        idealised: null, headline: 'realistic',
        naive: costs(54), bound: costs(1),
        biased: { strategy: 'marginal', params: { k: 16 }, ...costs(2), p999: null, cap: 0.995 },
        gain: { p50: 27, p90: 27, p99: 27, p999: null },
        curve: {
          packets,
          naive: [0, 0, 0.0001, 0.0002, 0.02, 0.9],
          biased: [0, 0.001, 0.05, 0.4, 0.99, 0.995],
          mcNaive: i === j ? [0, 0, 0, 0, 0.03, 0.85] : null,
          mcBiased: i === j ? [0, 0, 0.04, 0.42, 0.98, 1] : null,
          realisticNaive: null,
          realisticBiased: null,
        },
      });
    }
  }
  return {
    schema: 'natatlas.attack/1', campaign: CAMPAIGN, levels: [0.5, 0.9, 0.99, 0.999],
    naive: { N: 64511, hardHard: { p50: 53709, p90: 97890, p99: 138437, p999: 169549 }, easyHard: { p50: 212, p90: 385, p99: 543, p999: 665 } },
    simulator: { trials: 200, screenTrials: 100, ratePps: 100, mappingLimit: 4096, perBlockSpread: 2, workers: 1, budget: 200000, seed: 'report-test', timeouts: 'fixture', pairs: 'every pair' },
    pairs,
  };
}

export interface Fixture extends Paths {
  root: string;
  carriers: string[];
}

/** Simulate, run the stages before report, and put the hand-made evaluate files in (or none). */
export async function buildFixture(options: { evaluate?: boolean; packets?: number } = {}): Promise<Fixture> {
  const p = tempProject();
  await simulateCampaign({
    outDir: p.raw, campaign: CAMPAIGN, runs: 2, packets: options.packets ?? 1200, seed: 'report-fixture',
    carriers: [{ ...preset('KPN') }, { ...preset('Odido'), name: 'Hostile' }],
  });
  // The simulator only writes plain folder names; an analyst's folder can be called anything.
  fs.renameSync(path.join(p.raw, CAMPAIGN, 'Hostile'), path.join(p.raw, CAMPAIGN, HOSTILE));
  // The stages before the report, called directly; the (slow, Monte Carlo) evaluate stage
  // is replaced by hand-made files, written before bias because bias reads attack.json.
  const carriers = ['KPN', HOSTILE].sort();
  const ctx = { campaign: CAMPAIGN, paths: p, log: recordingLogger() };
  await ingest(ctx);
  await join(ctx);
  await fit(ctx);
  writeEvaluate(p, carriers);
  await bias(ctx);
  if (options.evaluate === false) fs.rmSync(path.join(p.derived, CAMPAIGN, 'evaluate'), { recursive: true, force: true });
  return { ...p, carriers };
}

export function writeEvaluate(p: Paths, carriers: string[]): void {
  const dir = path.join(p.derived, CAMPAIGN, 'evaluate');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'matrix.json'), JSON.stringify(handMatrix(), null, 2));
  fs.writeFileSync(path.join(dir, 'attack.json'), JSON.stringify(handAttack(carriers), null, 2));
}

/** Every file under `dir` (relative names), sorted. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const f = path.join(d, name);
      if (fs.statSync(f).isDirectory()) walk(f);
      else out.push(path.relative(dir, f));
    }
  };
  walk(dir);
  return out;
}
