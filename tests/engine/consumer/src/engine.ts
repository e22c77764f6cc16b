/**
 * What an engine build does with natatlas's output: read a bias table through the
 * contract package (validated, typed without a cast), import one as JSON and validate
 * it, use the sources `natatlas export` generated, and get a clear refusal for a table
 * it cannot read. Prints one JSON line for tests/engine/consumer.test.ts.
 */
import { BIAS_SCHEMA, BiasTableError, marginalSampler, parseBiasTable, readBiasTable, type BiasTable, type PortSegment } from '@natatlas/bias';
import imported from '../tables/table.json' with { type: 'json' };
import { carrierByName, CARRIERS, type CarrierTable } from './generated/bias-tables.js';

// A JSON import is not a BiasTable by itself (`schema` is a string there, tuples are arrays):
// @ts-expect-error it has to go through parseBiasTable first.
const unchecked: BiasTable = imported;
void unchecked;

const table: BiasTable = readBiasTable('tables/table.json');
const fromImport: BiasTable = parseBiasTable(imported, 'tables/table.json (import)');

function refusal(file: string): string {
  try {
    readBiasTable(file);
    return 'accepted';
  } catch (e) {
    return e instanceof BiasTableError ? e.message : `not a BiasTableError: ${String(e)}`;
  }
}

/** A fixed-seed uniform (an LCG is enough to show the caller owns the randomness). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const inside = (port: number, segs: readonly PortSegment[]) => segs.some(([from, to]) => port >= from && port <= to);
const draw = marginalSampler(table);
const random = lcg(7);
const draws = Array.from({ length: 1000 }, () => draw(random));

function sameAttack(g: CarrierTable['attack'], t: BiasTable['attack']): boolean {
  return g.naive.p50 === t.naive.p50 && g.naive.p99 === t.naive.p99 && g.biased.p50 === t.biased.p50 && g.biased.p99 === t.biased.p99 && g.biased.strategy === t.biased.strategy;
}

const generated: CarrierTable | undefined = carrierByName(table.carrier);

console.log(
  JSON.stringify({
    contract: BIAS_SCHEMA,
    carrier: table.carrier,
    schema: table.schema,
    family: table.model.family,
    segments: table.marginal.length,
    importMatches: JSON.stringify(fromImport) === JSON.stringify(table),
    drawsInside: draws.every((p) => inside(p, table.marginal)),
    generatedCarriers: CARRIERS.map((c) => c.carrier),
    generatedMarginalMatches: generated !== undefined && JSON.stringify(generated.marginal) === JSON.stringify(table.marginal),
    generatedAttackMatches: generated !== undefined && sameAttack(generated.attack, table.attack),
    v2: refusal('tables/v2.json'),
    broken: refusal('tables/broken.json'),
  }),
);
