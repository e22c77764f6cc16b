/** `natatlas punch`: flags to PunchOptions. */
import fs from 'node:fs';
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { NatatlasError } from '../errors.ts';
import type { Logger } from '../context.ts';
import type { BiasTable } from '../bias/types.ts';
import { readBiasTableFile } from '../contracts/bias-table.ts';
import { labCarrier } from '../lab/carriers.ts';
import { ATTACK } from '../contracts/attack.ts';
import { punch, type Plan, type Strategy } from './index.ts';
import { pairPlan } from './plan.ts';

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
  sockets: { type: 'string' },
  attack: { type: 'string' },
  seed: { type: 'string', default: '1' },
  out: { type: 'string' },
};

export const PUNCH_HELP = `usage: natatlas punch [--a CARRIER] [--b CARRIER] [--bias-a FILE] [--bias-b FILE] [--strategies naive,biased] [--plan marginal|topk:K|table] [--attack FILE] [--trials N] [--budget N] [--rate N] [--sockets N] [--seed S] [--out FILE]

Root only. Two peers, each behind its own netfilter lab NAT (lab carrier presets or
NAME:LO-HI for a --random-fully NAT narrowed to LO-HI; default masq-narrow, 20000-20999),
punch with many sockets until the first bidirectional match or the packet budget.
naive aims uniformly over 1024-65535; biased aims with the peer carrier's bias table
(its marginal, or evenly over its top K ports), or executes the plan evaluate published
for the pair (--plan table: reports to the lab's rendezvous server, learned mappings,
sweeps, block rounds, prediction; the same-carrier plan is in the bias table, a cross
pair's in evaluate/attack.json). Appends
carrier_a,carrier_b,strategy,trial,outcome,packets,rate_pps rows to --out (e.g. raw/netfilter-lab/trials-<name>.csv).

  --a, --b CARRIER   the two peers' NATs (default masq-narrow)
  --bias-a FILE      bias table of A's carrier (B aims with it); e.g. derived/netfilter-lab/bias/masq-narrow.json
  --bias-b FILE      bias table of B's carrier (default: --bias-a when A and B are the same carrier)
  --strategies LIST  naive, biased or both (default naive,biased)
  --plan PLAN        marginal (default), topk:K, or table (the pair's published plan)
  --attack FILE      evaluate/attack.json with the pair's plan (--plan table; default: the
                     bias table's attack.plan when A and B are the same carrier)
  --trials N         trials per strategy (default 20)
  --budget N         packets per side per trial (default 10000)
  --rate N           packets per second per side, recorded as rate_pps (default 5000; with a plan whose sides
                     report, keep a slot longer than the relay of a report, a few ms
                     under load: e.g. 100, the closed-loop test's rate)
  --sockets N        sockets per side for fresh-socket plans (default one per packet, at most 4096)
  --seed S           seed of the target draws (default 1)
  --out FILE         trials CSV to append to (refused when its header is not punch's
                     own, e.g. a file from before rate_pps: give a new trials-*.csv)`;

function positiveInt(values: Record<string, unknown>, name: string): number {
  const text = values[name] as string;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new NatatlasError(`--${name} must be a positive whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** The peer's bias table, validated like every engine's (contracts/bias-table.ts); a bad one names the file and why. */
function readTable(file: string): BiasTable {
  return readBiasTableFile(file);
}

/** `--plan`: marginal, topk:K, or table (resolved by tablePlan). */
export function parsePlan(text: string): Exclude<Plan, { kind: 'table' }> | { kind: 'table' } {
  if (text === 'marginal' || text === 'table') return { kind: text };
  const m = /^topk:(\d+)$/.exec(text);
  if (m && Number(m[1]) > 0) return { kind: 'topk', k: Number(m[1]) };
  throw new NatatlasError(`--plan must be marginal, topk:K or table, got ${JSON.stringify(text)}`);
}

/** The pair's published plan: from --attack, else (same carrier) the bias table's. */
function tablePlan(values: Record<string, unknown>, a: string, b: string, biasA: BiasTable | undefined): Plan {
  const file = values.attack;
  if (typeof file === 'string') {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new NatatlasError(`punch: ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return { kind: 'table', plan: pairPlan(ATTACK.codec.parse(text, file).pairs, a, b, file) };
  }
  if (a === b && biasA) {
    const plan = biasA.attack?.plan;
    if (!plan?.a || !plan.b) throw new NatatlasError(`punch: --bias-a ${String(values['bias-a'])} publishes no attack.plan (a table from an older natatlas?): rerun \`natatlas run\`, or give --attack`);
    return { kind: 'table', plan };
  }
  throw new NatatlasError('punch: --plan table needs --attack FILE (evaluate/attack.json), or --bias-a when A and B are the same carrier');
}

export async function punchCommand(values: Record<string, unknown>, log: Logger): Promise<void> {
  const strategies = (values.strategies as string).split(',').map((s) => s.trim()) as Strategy[];
  for (const s of strategies) if (s !== 'naive' && s !== 'biased') throw new NatatlasError(`--strategies: unknown strategy ${JSON.stringify(s)} (naive, biased)`);
  const a = labCarrier(values.a as string);
  const b = values.b === values.a ? a : labCarrier(values.b as string);
  const biasA = typeof values['bias-a'] === 'string' ? readTable(values['bias-a']) : undefined;
  const biasB = typeof values['bias-b'] === 'string' ? readTable(values['bias-b']) : a === b ? biasA : undefined;
  const spec = parsePlan(values.plan as string);
  const plan = spec.kind === 'table' ? tablePlan(values, a.name, b.name, biasA) : spec;
  if (strategies.includes('biased') && plan.kind !== 'table' && (!biasA || !biasB)) throw new NatatlasError('punch: the biased strategy needs --bias-a (and --bias-b when the carriers differ)');
  const results = await punch({
    carrierA: a,
    carrierB: b,
    biasA,
    biasB,
    strategies,
    plan,
    trials: positiveInt(values, 'trials'),
    budget: positiveInt(values, 'budget'),
    rate: positiveInt(values, 'rate'),
    sockets: values.sockets === undefined ? undefined : positiveInt(values, 'sockets'),
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
