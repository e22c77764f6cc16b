/**
 * An engine build's view: the published type names the contract, and a table the
 * pipeline wrote type-checks against it (tsc runs over tests in `npm test`).
 */
import fs from 'node:fs';
import type { BiasTable, PortSegment } from 'natatlas';

/** What an engine does with a table: the probability that the peer's next port is `port`. */
function massAt(table: BiasTable, port: number): number {
  const seg: PortSegment | undefined = table.marginal.find(([from, to]) => port >= from && port <= to);
  return seg ? seg[2] / (seg[1] - seg[0] + 1) : 0;
}

describe("import type { BiasTable } from 'natatlas'", () => {
  it('resolves through the package exports and reads a shipped-schema table', () => {
    const schema = JSON.parse(fs.readFileSync(new URL('../../pipeline/bias/bias-table.schema.json', import.meta.url), 'utf8'));
    expect(schema.$ref).toBe('#/definitions/BiasTable');
    const table: BiasTable = {
      schema: 'natatlas.bias/1', carrier: 'X',
      source: { campaign: 'c', files: [], clientRows: 0, sent: 0, serverRows: 0, joined: 0, rejected: 0 },
      mapping: { behavior: 'unknown', portPreservation: 0, observedRange: [1024, 2047], evidence: { pairs: 0, sameExternal: 0, differentExternal: 0 } },
      model: { family: 'uniform', params: { min: 1024, max: 2047 }, fit: { ks: 0, n: 0, alternatives: [], rule: '' } },
      marginal: [[1024, 2047, 1]], conditional: null, timeouts: { wait: null, idle: null },
      attack: {
        naive: { p50: 212, p99: 543 }, biased: { p50: 2, p99: 2, cap: null, strategy: 'learned-mappings' }, headline: 'realistic', idealised: { p50: 2, p99: 2, formula: 'two reported mappings' },
        plan: { strategy: 'learned-mappings', a: { sockets: 'single', report: 'once', aim: { kind: 'peer-port' } }, b: { sockets: 'single', report: 'once', aim: { kind: 'peer-port' } } },
        settings: { ratePps: 100, mappingLimit: 4096, budget: 200000, trials: 1000, timeoutS: 30, perBlockSpread: 2, seed: 's' },
      },
    };
    expect(massAt(table, 1500)).toBeCloseTo(1 / 1024, 12);
  });
});
