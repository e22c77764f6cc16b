/**
 * @natatlas/bias as the pipeline uses it (its built dist/, through the workspace link):
 * the readers' refusals, each naming the source and the reason, and the samplers against
 * known distributions (chi-square with the test's own p-value; closed-form stay rates).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BIAS_SCHEMA, BiasTableError, conditionalSampler, marginalSampler, parseBiasTable, readBiasTable, segmentSampler, type PortSegment,
} from '@natatlas/bias';
import { Rng } from '../../pipeline/random.ts';
import { segmentFit } from './chi-square.ts';
import { uniformTable } from './table.ts';

/** A valid table (checked by the first test) to vary. */
const table = uniformTable;

const refusal = (json: unknown, source?: string): string => {
  try {
    parseBiasTable(json, source);
    return 'accepted';
  } catch (e) {
    expect(e).toBeInstanceOf(BiasTableError);
    return (e as Error).message;
  }
};

describe('@natatlas/bias readers', () => {
  it('return a valid table, from a value or from JSON text', () => {
    expect(BIAS_SCHEMA).toBe('natatlas.bias/2');
    expect(parseBiasTable(table())).toEqual(table());
    expect(parseBiasTable(JSON.stringify(table()))).toEqual(table());
  });

  it('refuse other contract versions before judging the shape', () => {
    expect(refusal({ ...table(), schema: 'natatlas.bias/3' }, 'KPN.json')).toBe('KPN.json: contract version "natatlas.bias/3" (major 3) is not supported: this reader reads "natatlas.bias/2" only; install a @natatlas/bias release that reads major version 3');
    // A table written before the attack plans (major 1) is told to be written again.
    expect(refusal({ ...table(), schema: 'natatlas.bias/1' }, 'KPN.json')).toBe('KPN.json: contract version "natatlas.bias/1" (major 1) is older than this reader\'s "natatlas.bias/2": written by an earlier natatlas; rerun `natatlas run` on its campaign to write it again');
    expect(refusal({ schema: 'natatlas.bias/10', whatever: true })).toMatch(/^bias table: contract version "natatlas\.bias\/10" \(major 10\) is not supported/);
    expect(refusal({ ...table(), schema: 'natatlas.fit/1' })).toBe('bias table: unknown contract version "natatlas.fit/1": this reader reads "natatlas.bias/2" only');
    expect(refusal({ carrier: 'X' })).toBe('bias table: not a bias table: no "schema" field naming the contract version (this reader reads "natatlas.bias/2")');
    expect(refusal([1, 2])).toBe('bias table: not a bias table: expected a JSON object, got an array');
  });

  it('name the field for a schema or invariant failure', () => {
    expect(refusal({ ...table(), carrier: 7 })).toBe('bias table: fails the natatlas.bias/2 contract: /carrier: must be string');
    const overlapping: PortSegment[] = [[1024, 1500, 0.5], [1400, 2047, 0.5]];
    expect(refusal(table({ marginal: overlapping }))).toBe("bias table: fails the natatlas.bias/2 contract: marginal[1]: starts at 1400, not after the previous segment's end 1500");
  });

  it('give the file and line of a JSON syntax error, and say when the file is missing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natatlas-bias-'));
    try {
      const file = path.join(dir, 'KPN.json');
      fs.writeFileSync(file, '{\n  "schema": "natatlas.bias/2",\n  "carrier": "KPN"\n  "x": 1\n}\n');
      expect(() => readBiasTable(file)).toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: not valid JSON`));
      expect(() => readBiasTable(path.join(dir, 'nope.json'))).toThrow(/nope\.json: no such file$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('@natatlas/bias samplers', () => {
  const N = 100_000;

  it('draw the marginal: segment masses, uniform within each segment', () => {
    const marginal: PortSegment[] = [[1024, 1031, 0.05], [2000, 2999, 0.6], [3000, 3000, 0.1], [40000, 65535, 0.25]];
    const rng = new Rng('marginal');
    const draw = marginalSampler({ marginal });
    const ports = Array.from({ length: N }, () => draw(() => rng.next()));
    const fit = segmentFit(ports, marginal);
    expect(fit.outside).toBe(0);
    expect(fit.p).toBeGreaterThan(1e-3);
    // The same draws judged against masses that are slightly off are rejected.
    expect(segmentFit(ports, [[1024, 1031, 0.05], [2000, 2999, 0.58], [3000, 3000, 0.1], [40000, 65535, 0.27]]).p).toBeLessThan(1e-6);
  });

  it('reach both ends of every segment and nothing outside', () => {
    const draw = segmentSampler([[-3, -1, 0.5], [5, 5, 0.25], [7, 8, 0.25]]);
    const rng = new Rng('ends');
    const seen = new Set(Array.from({ length: 2000 }, () => draw(() => rng.next())));
    expect([...seen].sort((a, b) => a - b)).toEqual([-3, -2, -1, 5, 7, 8]);
    expect(draw(() => 0)).toBe(-3);
    expect(draw(() => 1 - 2 ** -53)).toBe(8);
  });

  it('block: the next port stays in the last port\'s block at the closed-form rate', () => {
    const t = table({ marginal: [[0, 65535, 1]], conditional: { kind: 'block', blockSize: 256, pSameBlock: 0.9, perBlock: 50 } });
    const next = conditionalSampler(t);
    const rng = new Rng('block');
    let same = 0;
    for (let i = 0; i < N; i++) {
      const last = rng.int(0, 65535);
      if (next(last, () => rng.next()) >> 8 === last >> 8) same++;
    }
    // Stay with 0.9; otherwise a uniform port lands in the same one of 256 blocks with 1/256.
    const expected = 0.9 + 0.1 / 256;
    expect(Math.abs(same / N - expected)).toBeLessThan(4 * Math.sqrt((expected * (1 - expected)) / N));
  });

  it('delta: the next port is the last plus a gap from the histogram, a marginal draw past 65535', () => {
    const t = table({ marginal: [[1024, 2047, 1]], conditional: { kind: 'delta', segments: [[1, 1, 0.5], [2, 9, 0.5]] } });
    const next = conditionalSampler(t);
    const rng = new Rng('delta');
    const gaps = Array.from({ length: N }, () => next(30000, () => rng.next()) - 30000);
    const fit = segmentFit(gaps, [[1, 1, 0.5], [2, 9, 0.5]]);
    expect(fit.outside).toBe(0);
    expect(fit.p).toBeGreaterThan(1e-3);
    for (let i = 0; i < 100; i++) {
      const wrapped = next(65535, () => rng.next());
      expect(wrapped >= 1024 && wrapped <= 2047).toBe(true);
    }
  });
});
