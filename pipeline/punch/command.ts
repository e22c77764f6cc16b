/** `natatlas punch`: flags to PunchOptions. */
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { NatatlasError } from '../errors.ts';
import type { Logger } from '../context.ts';
import type { BiasTable } from '../bias/types.ts';
import { readBiasTableFile } from '../contracts/bias-table.ts';
import { labCarrier } from '../lab/carriers.ts';
import { punch, type Plan, type Strategy } from './index.ts';

export const PUNCH_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  a: { type: 'string', default: 'masq-narrow' },
  b: { type: 'string', default: 'masq-narrow' },
  'bias-a': { type: 'string' },
  'bias-b': { type: 'string' },
  strategies: { type: 'string', default: 'naive,biased' },
  plan: { type: 'string', default: 'marginal' },
  trials: { type: 'string', default: '20' },
  budget: { type: 'string', default: '10000' },
  rate: { type: 'string', default: '5000' },
  sockets: { type: 'string', default: '256' },
  seed: { type: 'string', default: '1' },
  out: { type: 'string' },
};

export const PUNCH_HELP = `usage: natatlas punch [--a CARRIER] [--b CARRIER] [--bias-a FILE] [--bias-b FILE] [--strategies naive,biased] [--plan marginal|topk:K] [--trials N] [--budget N] [--rate N] [--sockets N] [--seed S] [--out FILE]

Root only. Two peers, each behind its own netfilter lab NAT (lab carrier presets or
NAME:LO-HI for a --random-fully NAT narrowed to LO-HI; default masq-narrow, 20000-20999),
punch with many sockets until the first bidirectional match or the packet budget.
naive aims uniformly over 1024-65535; biased aims with the peer carrier's bias table
(its marginal, or evenly over its top K ports). Appends
carrier_a,carrier_b,strategy,trial,outcome,packets rows to --out (e.g. raw/netfilter-lab/trials-lab.csv).

  --a, --b CARRIER   the two peers' NATs (default masq-narrow)
  --bias-a FILE      bias table of A's carrier (B aims with it); e.g. derived/netfilter-lab/bias/masq-narrow.json
  --bias-b FILE      bias table of B's carrier (default: --bias-a when A and B are the same carrier)
  --strategies LIST  naive, biased or both (default naive,biased)
  --plan PLAN        marginal (default) or topk:K
  --trials N         trials per strategy (default 20)
  --budget N         packets per side per trial (default 10000)
  --rate N           packets per second per side (default 5000)
  --sockets N        sockets per side (default 256)
  --seed S           seed of the target draws (default 1)
  --out FILE         trials CSV to append to`;

function positiveInt(values: Record<string, unknown>, name: string): number {
  const text = values[name] as string;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new NatatlasError(`--${name} must be a positive whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** The peer's bias table, validated like every engine's (contracts/bias-table.ts); a bad one names the file and why. */
function readTable(file: string): BiasTable {
  return readBiasTableFile(file);
}

export function parsePlan(text: string): Plan {
  if (text === 'marginal') return { kind: 'marginal' };
  const m = /^topk:(\d+)$/.exec(text);
  if (m && Number(m[1]) > 0) return { kind: 'topk', k: Number(m[1]) };
  throw new NatatlasError(`--plan must be marginal or topk:K, got ${JSON.stringify(text)}`);
}

export async function punchCommand(values: Record<string, unknown>, log: Logger): Promise<void> {
  const strategies = (values.strategies as string).split(',').map((s) => s.trim()) as Strategy[];
  for (const s of strategies) if (s !== 'naive' && s !== 'biased') throw new NatatlasError(`--strategies: unknown strategy ${JSON.stringify(s)} (naive, biased)`);
  const a = labCarrier(values.a as string);
  const b = values.b === values.a ? a : labCarrier(values.b as string);
  const biasA = typeof values['bias-a'] === 'string' ? readTable(values['bias-a']) : undefined;
  const biasB = typeof values['bias-b'] === 'string' ? readTable(values['bias-b']) : a === b ? biasA : undefined;
  if (strategies.includes('biased') && (!biasA || !biasB)) throw new NatatlasError('punch: the biased strategy needs --bias-a (and --bias-b when the carriers differ)');
  const results = await punch({
    carrierA: a,
    carrierB: b,
    biasA,
    biasB,
    strategies,
    plan: parsePlan(values.plan as string),
    trials: positiveInt(values, 'trials'),
    budget: positiveInt(values, 'budget'),
    rate: positiveInt(values, 'rate'),
    sockets: positiveInt(values, 'sockets'),
    seed: values.seed as string,
    out: typeof values.out === 'string' ? path.resolve(values.out) : undefined,
    log,
  });
  for (const s of strategies) {
    const rows = results.filter((r) => r.strategy === s);
    const ok = rows.filter((r) => r.outcome === 'S');
    const med = ok.length ? ok.map((r) => r.packets).sort((x, y) => x - y)[Math.floor(ok.length / 2)] : null;
    log.info(`punch ${s}: ${ok.length}/${rows.length} succeeded; median packets per side of the successes ${med ?? '-'}`);
  }
}
