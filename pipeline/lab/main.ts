/**
 * Standalone entry for the lab commands (`node --import tsx pipeline/lab/main.ts lab|punch ...`),
 * the same flags as `natatlas lab` / `natatlas punch`; the tests spawn this so they can
 * signal the lab process itself.
 */
import { parseArgs } from 'node:util';
import { NatatlasError } from '../errors.ts';
import { stderrLogger } from '../cli.ts';
import { LAB_HELP, LAB_OPTIONS, labCommand } from './command.ts';
import { PUNCH_HELP, PUNCH_OPTIONS, punchCommand } from '../punch/command.ts';

const COMMANDS = {
  lab: { options: LAB_OPTIONS, help: LAB_HELP, run: labCommand },
  punch: { options: PUNCH_OPTIONS, help: PUNCH_HELP, run: punchCommand },
} as const;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const cmd = COMMANDS[name as keyof typeof COMMANDS];
  if (!cmd) {
    process.stderr.write('usage: main.ts lab|punch [options] (--help)\n');
    return 1;
  }
  try {
    const { values } = parseArgs({ args: rest, options: { ...cmd.options, help: { type: 'boolean', short: 'h' }, quiet: { type: 'boolean', short: 'q' } }, strict: true });
    if (values.help) {
      process.stdout.write(`${cmd.help}\n`);
      return 0;
    }
    await cmd.run(values as Record<string, unknown>, stderrLogger(values.quiet === true));
    return 0;
  } catch (e) {
    if (e instanceof NatatlasError) {
      process.stderr.write(`natatlas ${name}: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`natatlas ${name}: internal error: ${(e as Error).stack}\n`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
