import type { BiasTable } from '../../pipeline/bias/types.ts';

/** A small valid bias table (uniform on 1024-2047, naive plan), with fields replaced by `over`. */
export function uniformTable(over: Partial<BiasTable> = {}): BiasTable {
  return {
    schema: 'natatlas.bias/2', carrier: 'X',
    source: { campaign: 'c', files: [], clientRows: 0, sent: 0, serverRows: 0, joined: 0, rejected: 0 },
    mapping: { behavior: 'unknown', portPreservation: 0, observedRange: [1024, 2047], evidence: { pairs: 0, sameExternal: 0, differentExternal: 0 } },
    model: { family: 'uniform', params: { min: 1024, max: 2047 }, fit: { ks: 0, n: 0, alternatives: [], rule: '' } },
    marginal: [[1024, 2047, 1]], conditional: null, timeouts: { wait: null, idle: null },
    attack: {
      naive: { p50: 212, p99: 543 }, biased: { p50: 212, p99: 543, cap: null, strategy: 'naive' }, headline: 'not simulated', idealised: null, settings: null,
      plan: { strategy: 'naive', a: { sockets: 'fresh', report: 'never', aim: { kind: 'segments', segments: [[1024, 2047, 1]] } }, b: { sockets: 'fresh', report: 'never', aim: { kind: 'segments', segments: [[1024, 2047, 1]] } } },
    },
    ...over,
  };
}
