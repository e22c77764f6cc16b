/** `natatlas lab`: flags to LabOptions. */
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { NatatlasError } from '../errors.ts';
import type { Logger } from '../context.ts';
import { LAB_CARRIERS, labCarrier } from './carriers.ts';
import { LAB_DEFAULTS, runLab, runNatTypeOnly } from './index.ts';

export const LAB_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  out: { type: 'string', default: 'raw' },
  campaign: { type: 'string', default: 'netfilter-lab' },
  carriers: { type: 'string' },
  runs: { type: 'string', default: String(LAB_DEFAULTS.runs) },
  packets: { type: 'string', default: String(LAB_DEFAULTS.packets) },
  pps: { type: 'string', default: String(LAB_DEFAULTS.pps) },
  'timeout-repeats': { type: 'string', default: String(LAB_DEFAULTS.timeoutRepeats) },
  'no-nat-type': { type: 'boolean' },
  'nat-type-only': { type: 'boolean' },
  force: { type: 'boolean' },
};

export const LAB_HELP = `usage: natatlas lab [--out raw] [--campaign netfilter-lab] [--carriers A,B,...] [--runs N] [--packets N] [--pps N] [--timeout-repeats N] [--no-nat-type | --nat-type-only] [--force]

Root only. Builds network namespaces (nl-<pid>-*: a phone, a netfilter NAT per carrier,
a public bridge, a server), captures a campaign through each NAT with the capture app's
protocol, probes the wait/idle timeouts (the seed's Algorithms 2 and 3 in 2 s / 0.1 s
steps), classifies each NAT with RFC 5780's mapping and filtering tests (a second server
address, 203.0.113.2, and ports 3478/3479), and writes OUT/CAMPAIGN/<carrier>/client-NN.csv,
server-NN.csv, timeouts.csv, nat-type.json, plus lab.json and README.md. Everything is
torn down afterwards (also on error, SIGINT, SIGTERM; namespaces of a SIGKILLed lab are
removed by the next one). NATATLAS_LAB_NETNS=NAME names them NAME-<pid>-* instead, and
then only those are listed and cleaned up (the tests use one family per run).

  --out DIR          raw root (default raw)
  --campaign NAME    campaign folder (default netfilter-lab)
  --carriers LIST    comma-separated: ${LAB_CARRIERS.map((c) => c.name).join(', ')} (default all),
                     PRESET@WAIT/IDLE for other conntrack timeouts (seconds),
                     or NAME:LO-HI[:WAIT/IDLE] for a --random-fully NAT narrowed to LO-HI
  --runs N           capture runs per carrier (default ${LAB_DEFAULTS.runs})
  --packets N        packets per run (default ${LAB_DEFAULTS.packets})
  --pps N            send rate (default ${LAB_DEFAULTS.pps}, the app's 20 ms)
  --timeout-repeats N  timeout searches per kind (default ${LAB_DEFAULTS.timeoutRepeats}; 0 skips them)
  --no-nat-type      skip the RFC 5780 discovery (no nat-type.json)
  --nat-type-only    run only the discovery: write OUT/CAMPAIGN/<carrier>/nat-type.json and
                     touch nothing else in the campaign folder (no capture, no timeouts)
  --force            replace an existing campaign folder`;

function positiveInt(values: Record<string, unknown>, name: string, min = 1): number {
  const text = values[name] as string;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new NatatlasError(`--${name} must be a whole number >= ${min}, got ${JSON.stringify(text)}`);
  return Number(text);
}

export async function labCommand(values: Record<string, unknown>, log: Logger): Promise<void> {
  const carriers = typeof values.carriers === 'string' ? values.carriers.split(',').map((s) => s.trim()).filter(Boolean).map(labCarrier) : [...LAB_CARRIERS];
  if (carriers.length === 0) throw new NatatlasError('--carriers is empty');
  if (values['nat-type-only'] === true) {
    if (values['no-nat-type'] === true) throw new NatatlasError('--nat-type-only and --no-nat-type exclude each other');
    const results = await runNatTypeOnly({ outDir: path.resolve(values.out as string), campaign: values.campaign as string, carriers, log });
    log.info(`lab: NAT types of ${results.size} carriers written`);
    return;
  }
  const report = await runLab({
    ...LAB_DEFAULTS,
    outDir: path.resolve(values.out as string),
    campaign: values.campaign as string,
    carriers,
    runs: positiveInt(values, 'runs'),
    packets: positiveInt(values, 'packets'),
    pps: positiveInt(values, 'pps'),
    timeoutRepeats: positiveInt(values, 'timeout-repeats', 0),
    natType: values['no-nat-type'] !== true,
    force: values.force === true,
    log,
  });
  log.info(`lab: wrote ${path.relative(process.cwd(), report.dir) || report.dir} (${report.carriers.length} carriers, ${report.seconds.toFixed(1)} s)`);
}
