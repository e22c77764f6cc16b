/**
 * `natatlas <command>`: parses flags, builds the logger and paths, runs the command,
 * and is the one place that turns errors into exit codes. A NatatlasError (bad input,
 * bad flag) prints one line and exits 1; anything else is a bug and exits 2 with a
 * hint to rerun with --debug for the stack.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { NatatlasError } from './errors.ts';
import { displayPath, errnoOf, reasonOf } from './io/fs-errors.ts';
import { printable } from './io/names.ts';
import type { Logger, Paths, Settings } from './context.ts';
import { runPipeline } from './run.ts';
import { partialsFitStage, STAGES, stageByName, type Stage } from './stages/index.ts';
import { simulateCommand, SIMULATE_HELP, SIMULATE_OPTIONS } from './commands/simulate.ts';
import { labCommand, LAB_HELP, LAB_OPTIONS } from './lab/command.ts';
import { punchCommand, PUNCH_HELP, PUNCH_OPTIONS } from './punch/command.ts';
import { exportCommand, EXPORT_HELP, EXPORT_OPTIONS } from './export/command.ts';
import { compareCommand, COMPARE_HELP, COMPARE_OPTIONS } from './compare/command.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON: Options = {
  help: { type: 'boolean', short: 'h' },
  quiet: { type: 'boolean', short: 'q' },
  debug: { type: 'boolean' },
};

const PATH_OPTIONS: Options = {
  raw: { type: 'string', default: 'raw' },
  derived: { type: 'string', default: 'derived' },
  reports: { type: 'string', default: 'reports' },
  campaign: { type: 'string' },
};

const MC_OPTIONS: Options = {
  'mc-trials': { type: 'string' },
  'no-montecarlo': { type: 'boolean' },
};

const MC_HELP = `  --mc-trials N    punch-simulator trials per published plan in evaluate (default 1000; a tenth, at least 20, per screened candidate and per cap)
  --no-montecarlo  skip the punch simulator in evaluate: plans are published unpriced (biased costs null)`;

function settingsOf(values: Record<string, unknown>): Settings {
  if (values['no-montecarlo'] === true) return { montecarlo: false };
  const t = values['mc-trials'];
  if (t === undefined) return {};
  if (typeof t !== 'string' || !/^\d+$/.test(t) || Number(t) < 1) throw new NatatlasError(`--mc-trials must be a positive whole number, got ${JSON.stringify(t)}`);
  return { montecarlo: { trials: Number(t), screenTrials: Math.max(20, Math.floor(Number(t) / 10)) } };
}

const REPORT_OPTIONS: Options = {
  notebooks: { type: 'string' },
  draft: { type: 'boolean' },
};

const REPORT_HELP = `  --notebooks DIR  render the notebooks (*.md) in DIR instead of natatlas's own notebooks/
  --draft          pages, SVG and CSV figures and LaTeX tables only: no PDF or PNG of each figure
                   (most of a report's time); the next run without it draws them`;

/** Settings with the report's notebooks folder (it must exist) and draft mode, when given. */
function withReportSettings(settings: Settings, values: Record<string, unknown>): Settings {
  const out = values.draft === true ? { ...settings, draft: true } : settings;
  const dir = values.notebooks;
  if (dir === undefined) return out;
  const abs = path.resolve(String(dir));
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new NatatlasError(`--notebooks ${String(dir)}: no such folder`);
  return { ...out, notebooks: abs };
}

const PARTIALS_OPTIONS: Options = {
  partials: { type: 'string' },
};

const PARTIALS_HELP = `  --partials DIR   fit from partials computed elsewhere (pipeline/sql/partials.sql in DuckDB or Spark; README
                   "Beyond one machine") instead of the joined rows; needs --campaign and the campaign's ingest manifest`;

/** The fit stage, or with --partials the fit from a partials folder (one campaign: the folder holds one campaign's partials). */
function partialsStage(values: Record<string, unknown>): Stage {
  const dir = values.partials;
  if (dir === undefined) return stageByName('fit')!;
  if (values.campaign === undefined) throw new NatatlasError('fit --partials needs --campaign NAME: a partials folder holds one campaign');
  const abs = path.resolve(String(dir));
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new NatatlasError(`--partials ${String(dir)}: no such folder`);
  return partialsFitStage(abs);
}

const PATH_HELP = `  --raw DIR        raw captures, one folder per campaign (default raw)
  --derived DIR    stage outputs (default derived)
  --reports DIR    HTML reports and figures (default reports)
  --campaign NAME  only this campaign (default: every campaign under --raw)`;

const COMMON_HELP = `  -q, --quiet      no status lines or progress (warnings and errors still print)
  --debug          print the stack of an unexpected error
  -h, --help       this help`;

interface Command {
  summary: string;
  help: string;
  options: Options;
  /** Takes positional arguments (handed to run as `values._`). */
  positionals?: boolean;
  run(values: Record<string, unknown>, log: Logger): Promise<void>;
}

function pathsOf(values: Record<string, unknown>): Paths {
  return {
    raw: path.resolve(values.raw as string),
    derived: path.resolve(values.derived as string),
    reports: path.resolve(values.reports as string),
  };
}

const COMMANDS: Record<string, Command> = {
  run: {
    summary: `run every out-of-date stage (${STAGES.map((s) => s.name).join(' -> ')}) for every campaign`,
    help: `usage: natatlas run [--raw raw] [--derived derived] [--reports reports] [--campaign NAME] [--force] [--verify] [--draft]

Runs each stage whose inputs (sha256), version or outputs changed since it last ran.
With nothing changed it does no work and says so.

${PATH_HELP}
${MC_HELP}
${REPORT_HELP}
  --force          run every stage even when fresh, recomputing every carrier and file
  --verify         re-read and hash every file instead of trusting cached hashes
${COMMON_HELP}`,
    options: { ...PATH_OPTIONS, ...MC_OPTIONS, ...REPORT_OPTIONS, force: { type: 'boolean' }, verify: { type: 'boolean' } },
    async run(values, log) {
      const paths = pathsOf(values);
      const report = await runPipeline({ paths, campaign: values.campaign as string | undefined, force: values.force === true, recompute: values.force === true, verify: values.verify === true, settings: withReportSettings(settingsOf(values), values) }, log);
      // The product of a run is the report: print where to open it (stdout, so scripts can use it).
      for (const folder of new Set(report.map((r) => r.folder))) {
        const index = path.join(paths.reports, folder, 'index.html');
        if (fs.existsSync(index)) process.stdout.write(`${printable(path.relative(process.cwd(), index))}\n`);
      }
    },
  },
  ...Object.fromEntries(
    STAGES.map((stage): [string, Command] => [
      stage.name,
      {
        summary: stage.description,
        help: `usage: natatlas ${stage.name} [--raw raw] [--derived derived] [--campaign NAME]

Runs the ${stage.name} stage alone (even when fresh): ${stage.description}.

${PATH_HELP}${stage.name === 'evaluate' ? `\n${MC_HELP}` : ''}${stage.name === 'report' ? `\n${REPORT_HELP}` : ''}${stage.name === 'fit' ? `\n${PARTIALS_HELP}` : ''}
${COMMON_HELP}`,
        options: stage.name === 'evaluate' ? { ...PATH_OPTIONS, ...MC_OPTIONS } : stage.name === 'report' ? { ...PATH_OPTIONS, ...REPORT_OPTIONS } : stage.name === 'fit' ? { ...PATH_OPTIONS, ...PARTIALS_OPTIONS } : PATH_OPTIONS,
        async run(values, log) {
          const settings = withReportSettings(settingsOf(values), values);
          const run = stage.name === 'fit' ? partialsStage(values) : stage;
          await runPipeline({ paths: pathsOf(values), campaign: values.campaign as string | undefined, force: true, stages: [run], settings }, log);
        },
      },
    ]),
  ),
  simulate: {
    summary: 'write a synthetic campaign in the raw capture formats, from NAT models with known parameters',
    help: `${SIMULATE_HELP}
${COMMON_HELP}`,
    options: SIMULATE_OPTIONS,
    run: simulateCommand,
  },
  lab: {
    summary: 'capture a real campaign through Linux netfilter NATs in network namespaces (root)',
    help: `${LAB_HELP}
${COMMON_HELP}`,
    options: LAB_OPTIONS,
    run: labCommand,
  },
  punch: {
    summary: 'hole-punch trials between two netfilter lab NATs, naive vs bias-table guided (root)',
    help: `${PUNCH_HELP}
${COMMON_HELP}`,
    options: PUNCH_OPTIONS,
    run: punchCommand,
  },
  export: {
    summary: 'generate engine sources (TypeScript module, Kotlin file) from a campaign\'s bias tables',
    help: `${EXPORT_HELP}
${COMMON_HELP}`,
    options: EXPORT_OPTIONS,
    run: exportCommand,
  },
  compare: {
    summary: 'compare two campaigns carrier by carrier (model, allocations, timeouts, mapping, attack cost): HTML + CSV',
    help: `${COMPARE_HELP}
${COMMON_HELP}`,
    options: COMPARE_OPTIONS,
    positionals: true,
    run: compareCommand,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `natatlas: NAT traversal measurements -> port-allocation models, bias tables, reports

usage: natatlas <command> [options]   (natatlas <command> --help for its options)

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}
`;
}

/**
 * A logger writing to stderr; progress lines only on a TTY and never with --quiet.
 * Messages carry names from the data, so control characters are shown escaped (printable).
 */
export function stderrLogger(quiet: boolean, stream: NodeJS.WriteStream = process.stderr): Logger {
  const live = !quiet && stream.isTTY === true;
  let shown = false;
  const clear = () => {
    if (shown) stream.write('\r\x1b[K');
    shown = false;
  };
  return {
    info(message) {
      if (quiet) return;
      clear();
      stream.write(`${printable(message)}\n`);
    },
    warn(message) {
      clear();
      stream.write(`warning: ${printable(message)}\n`);
    },
    progress(text) {
      if (!live) return;
      const message = printable(text);
      const cols = stream.columns ?? 100;
      stream.write(`\r\x1b[K${message.length >= cols ? `${message.slice(0, cols - 2)}…` : message}`);
      shown = true;
    },
  };
}

/** Entry point; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 1 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`natatlas: unknown command ${printable(JSON.stringify(name))}; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 1;
  }
  let debug = rest.includes('--debug');
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: { ...COMMON, ...command.options }, strict: true, allowPositionals: command.positionals === true });
    } catch (e) {
      throw new NatatlasError(`${name}: ${(e as Error).message.split('\n')[0]} (see natatlas ${name} --help)`);
    }
    const values = { ...parsed.values, ...(command.positionals ? { _: parsed.positionals } : {}) } as Record<string, unknown>;
    debug = values.debug === true;
    if (values.help) {
      process.stdout.write(`${command.help}\n`);
      return 0;
    }
    await command.run(values, stderrLogger(values.quiet === true));
    return 0;
  } catch (e) {
    if (e instanceof NatatlasError) {
      process.stderr.write(`natatlas ${name}: ${printable(e.message)}\n`);
      if (debug) process.stderr.write(`${e.stack}\n`);
      return e.exitCode;
    }
    // A file-system failure the user can fix, even when a library wrapped it or gave no path.
    const errno = errnoOf(e);
    if (errno) {
      const where = errno.path ? `${displayPath(errno.path)}: ` : '';
      process.stderr.write(`natatlas ${name}: ${printable(`${where}${reasonOf(errno.code!)}${where ? '' : ` (${errno.message})`}`)}\n`);
      if (debug) process.stderr.write(`${(e as Error).stack}\n`);
      return 1;
    }
    const err = e as Error;
    if (debug) process.stderr.write(`${err.stack ?? err}\n`);
    else process.stderr.write(`natatlas ${name}: internal error: ${printable(String(err?.message ?? err))} (rerun with --debug for the stack, and please report it)\n`);
    return 2;
  }
}
