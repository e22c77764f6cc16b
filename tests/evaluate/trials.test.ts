import path from 'node:path';
import fs from 'node:fs';
import { buildMatrix, wilson } from '../../pipeline/evaluate/trials.ts';
import { runPipeline } from '../../pipeline/run.ts';
import type { SuccessMatrix } from '../../pipeline/contracts/matrix.ts';
import { recordingLogger, tempProject, FAST_RUN } from '../helpers/tmp.ts';

/**
 * Wilson 95% intervals from scipy 1.10 (Debian's python3-scipy):
 * scipy.stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method='wilson').
 */
const SCIPY_WILSON: [number, number, number, number][] = [
  [4, 10, 0.16818032970623614, 0.6873262302663417],
  [0, 11, 0, 0.2588329669680317],
  [10, 10, 0.7224672001371109, 1],
  [1, 2, 0.09453120573423074, 0.9054687942657693],
  [1, 1, 0.20654931437723745, 1],
  [1, 3, 0.06149194472039626, 0.7923403991979523],
];

describe('Wilson interval', () => {
  it('matches scipy, with exact 0 and 1 at 0 and n successes', () => {
    for (const [k, n, lo, hi] of SCIPY_WILSON) {
      const [gotLo, gotHi] = wilson(k, n);
      expect([k, n, Math.abs(gotLo - lo) < 1e-12, Math.abs(gotHi - hi) < 1e-12]).toEqual([k, n, true, true]);
    }
    expect(wilson(0, 11)[0]).toBe(0);
    expect(wilson(10, 10)[1]).toBe(1);
    // By hand for 0/11: the upper end is z^2 / (n + z^2) = 3.841459 / 14.841459.
    expect(wilson(0, 11)[1]).toBeCloseTo(3.841459 / 14.841459, 6);
  });
});

describe('success matrix', () => {
  it('groups a pair and its reverse into one cell, outcomes in trial order', () => {
    const m = buildMatrix('c', [
      { a: 'X', b: 'Y', strategy: 'naive', trial: 2, outcome: 'S', packets: 100 },
      { a: 'Y', b: 'X', strategy: 'naive', trial: 1, outcome: 'F', packets: null },
      { a: 'X', b: 'Y', strategy: 'biased', trial: 1, outcome: 'S', packets: 10 },
    ]);
    // Wilson intervals: scipy's values above, to 12 digits.
    const close = (v: number) => expect.closeTo(v, 12);
    expect(m.cells).toEqual([
      { a: 'X', b: 'Y', strategy: 'naive', trials: 2, successes: 1, outcomes: 'FS', rate: 0.5, wilson: [close(0.09453120573423074), close(0.9054687942657693)], meanPackets: 100 },
      { a: 'X', b: 'Y', strategy: 'biased', trials: 1, successes: 1, outcomes: 'S', rate: 1, wilson: [close(0.20654931437723745), 1], meanPackets: 10 },
    ]);
  });

  it("reproduces the paper's Table I from the embedded sample exactly", async () => {
    const p = tempProject();
    fs.cpSync('raw/sample', path.join(p.raw, 'sample'), { recursive: true });
    await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    const m = JSON.parse(fs.readFileSync(path.join(p.derived, 'sample', 'evaluate', 'matrix.json'), 'utf8')) as SuccessMatrix;
    // raw/sample/carriers.csv maps the paper's carrier names to the capture folders.
    const folder: Record<string, string> = { Odido: 'Odido', Lebara: 'LebaraNL', Lyca: 'LycaMobileNL', Vodaphone: 'VodafoneNL' };
    expect(m.aliases).toEqual({ Lebara: 'LebaraNL', Lyca: 'LycaMobileNL', Vodaphone: 'VodafoneNL' });
    const cell = (a: string, b: string) => m.cells.find((c) => c.a === folder[a] && c.b === folder[b] && c.strategy === 'naive')!;
    // Table I of the seed paper, read off its S/F sequences.
    const table: [string, string, string][] = [
      ['Odido', 'Odido', 'FFFFFFFFFFF'],
      ['Lebara', 'Odido', 'FFFFFFFFFFF'],
      ['Lebara', 'Lebara', 'FFFFFFFFFFF'],
      ['Lyca', 'Odido', 'FFFFSFFFFF'],
      ['Lyca', 'Lebara', 'FFFFFFFFFFF'],
      ['Lyca', 'Lyca', 'FFFFFFFFFFF'],
      ['Vodaphone', 'Odido', 'FFFSFSFFFF'],
      ['Vodaphone', 'Lebara', 'FFFFSFFFFF'],
      ['Vodaphone', 'Lyca', 'FFFFFFSFFF'],
      ['Vodaphone', 'Vodaphone', 'FFFSSFFSFS'],
    ];
    expect(m.cells).toHaveLength(table.length);
    for (const [a, b, outcomes] of table) {
      const c = cell(a, b);
      expect({ a, b, outcomes: c?.outcomes }).toEqual({ a, b, outcomes });
      expect(c.successes).toBe([...outcomes].filter((o) => o === 'S').length);
      expect(c.trials).toBe(outcomes.length);
    }
    expect(cell('Vodaphone', 'Vodaphone').successes).toBe(4);
    expect(cell('Odido', 'Odido').trials).toBe(11);
  });
});
