/** `natatlas simulate`: flags to SimulateOptions, progress to the logger. */
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { NatatlasError } from '../errors.ts';
import { formatCount, type Logger } from '../context.ts';
import { simulateCampaign } from '../simulate/index.ts';
import { parseCarrierSpec, preset, presetNames } from '../simulate/presets.ts';

export const SIMULATE_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  out: { type: 'string' },
  campaign: { type: 'string', default: 'simulated' },
  carriers: { type: 'string' },
  carrier: { type: 'string', multiple: true },
  runs: { type: 'string', default: '20' },
  packets: { type: 'string', default: '20000' },
  seed: { type: 'string', default: '1' },
};

export const SIMULATE_HELP = `usage: natatlas simulate --out DIR [--campaign NAME] [--carriers A,B,...] [--carrier SPEC]... [--runs N] [--packets N] [--seed S]

Writes DIR/NAME/<carrier>/client-NN.csv, server-NN.csv and timeouts.csv in the capture
app's formats (spaces after commas, F rows, port 0, reused ports, losses, reordering,
a server clock offset, junk and END OF MESSAGE rows), plus DIR/NAME/simulation.json
with the truth: every count the join stage should find. Same flags and seed, same bytes.

  --out DIR        raw root to write into (required; e.g. raw)
  --campaign NAME  campaign folder (default simulated)
  --carriers LIST  comma-separated presets (default all): ${presetNames().join(', ')}
  --carrier SPEC   a custom carrier, repeatable: 'Name:family key=value ...'
                   e.g. 'MyNat:block perBlock=60 min=1024 max=65535 mapping=eim wait=30 idle=60'
  --runs N         capture runs per carrier (default 20)
  --packets N      client packets per carrier, split over the runs (default 20000)
  --seed S         random seed (default 1)`;

function positiveInt(values: Record<string, unknown>, name: string): number {
  const text = values[name] as string;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new NatatlasError(`--${name} must be a positive whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

export async function simulateCommand(values: Record<string, unknown>, log: Logger): Promise<void> {
  if (typeof values.out !== 'string') throw new NatatlasError('--out DIR is required (the raw root to write the campaign into)');
  const custom = ((values.carrier as string[] | undefined) ?? []).map(parseCarrierSpec);
  const names = typeof values.carriers === 'string' ? values.carriers.split(',').map((s) => s.trim()).filter(Boolean) : custom.length > 0 ? [] : presetNames();
  const carriers = [...names.map(preset), ...custom];
  const packets = positiveInt(values, 'packets');
  const runs = positiveInt(values, 'runs');
  const started = performance.now();
  const report = await simulateCampaign({
    outDir: path.resolve(values.out),
    campaign: values.campaign as string,
    carriers,
    runs,
    packets,
    seed: values.seed as string,
    // The simulator reports every 65,536 packets and at each run's end: rare enough to print each time.
    onProgress: (carrier, done, total) => log.progress(`simulate ${carrier}: ${formatCount(done)}/${formatCount(total)} packets`),
  });
  const seconds = (performance.now() - started) / 1000;
  log.info(`simulate: wrote ${path.join(values.out, values.campaign as string)} (${carriers.length} carriers x ${formatCount(packets)} packets in ${runs} runs, ${seconds.toFixed(1)} s)`);
  void report;
}
