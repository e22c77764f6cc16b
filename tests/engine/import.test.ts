/**
 * An engine build's view of a bias table: the published type names the contract (tsc
 * checks this file's `import type { BiasTable } from 'natatlas'` in `npm test`), the
 * shipped JSON schema, compiled here by its own Ajv, agrees with the type, and a table
 * the pipeline wrote from a hand-made carrier passes it and reads back as the
 * distribution its captures imply.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import type { BiasTable, PortSegment } from 'natatlas';
import { runPipeline } from '../../pipeline/run.ts';
import { FAST_RUN, recordingLogger, tempProject, writeFiles } from '../helpers/tmp.ts';

const schema = JSON.parse(fs.readFileSync(new URL('../../pipeline/bias/bias-table.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

/** What an engine does with a table: the probability that the peer's next port is `port`. */
function massAt(table: BiasTable, port: number): number {
  const seg: PortSegment | undefined = table.marginal.find(([from, to]) => port >= from && port <= to);
  return seg ? seg[2] / (seg[1] - seg[0] + 1) : 0;
}

/** A table an engine author writes by hand against the type. */
const HAND: BiasTable = {
  schema: 'natatlas.bias/2', carrier: 'X',
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

const U = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
/** 60 sends from distinct local ports; the NAT maps send i to 20000 + (7 i mod 60): ports 20000-20059 once each. */
const SENDS = 60;
const external = (i: number) => 20000 + ((7 * i) % SENDS);

describe("import type { BiasTable } from 'natatlas'", () => {
  it('the shipped schema accepts a table written against the type, and refuses what the type forbids', () => {
    expect(schema).toMatchObject({ $ref: '#/definitions/BiasTable' });
    expect(validate(HAND)).toBe(true);
    expect(validate({ ...HAND, mapping: { ...HAND.mapping, behavior: 'symmetric' } })).toBe(false);
    const { marginal: _, ...noMarginal } = HAND;
    expect(validate(noMarginal)).toBe(false);
  });

  it('reads a table the pipeline wrote: schema-valid, mass 1 over all ports, the captured range', async () => {
    const p = tempProject();
    const client = ['Message id, Time, Sender Port, Receiver Port, Success'];
    const server = ['Message id, Time, Sender Port, Receiver Port'];
    for (let i = 0; i < SENDS; i++) {
      client.push(`${U(i + 1)}, ${1000 + 20 * i}, ${40000 + i}, 5000, S`);
      server.push(`${U(i + 1)}, ${1400 + 20 * i}, ${external(i)}, 5000`);
    }
    writeFiles(p.raw, { 'c/K/client-1.csv': `${client.join('\n')}\n`, 'c/K/server-1.csv': `${server.join('\n')}\n` });
    await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    const table = JSON.parse(fs.readFileSync(path.join(p.derived, 'c', 'bias', 'K.json'), 'utf8')) as BiasTable;
    expect(validate(table)).toBe(true);
    expect(table.carrier).toBe('K');
    expect(table.source).toMatchObject({ clientRows: SENDS, sent: SENDS, serverRows: SENDS, joined: SENDS, rejected: 0 });
    expect(table.mapping.observedRange).toEqual([20000, 20059]);
    // Every port an engine can ask about, summed: one.
    let total = 0;
    for (let port = 0; port <= 65535; port++) total += massAt(table, port);
    expect(Math.abs(total - 1)).toBeLessThan(1e-9);
    // The ports the NAT was seen to hand out are possible.
    for (let i = 0; i < SENDS; i++) expect(massAt(table, external(i))).toBeGreaterThan(0);
  });
});
