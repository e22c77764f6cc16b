/**
 * One error class for everything a user can fix (bad input, bad flags, missing files).
 * The CLI prints its message on one line and exits 1; anything else is a bug and
 * gets a hint to rerun with --debug for the stack.
 */
export class NatatlasError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'NatatlasError';
    this.exitCode = exitCode;
  }
}

/** An error tied to a place in an input file: `file:line: reason`. */
export class InputError extends NatatlasError {
  readonly file: string;
  readonly line: number | undefined;
  readonly reason: string;
  constructor(file: string, line: number | undefined, reason: string) {
    super(`${line === undefined ? file : `${file}:${line}`}: ${reason}`);
    this.name = 'InputError';
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

export function isNatatlasError(e: unknown): e is NatatlasError {
  return e instanceof NatatlasError;
}

/**
 * A stage wrote its outputs but found errors in them (a report with failed cells): the
 * run goes on with the other campaigns, then exits 1 with every failure, and the stage
 * is not stamped fresh, so the next run retries it.
 */
export class StageFailed extends NatatlasError {
  constructor(message: string, readonly details: unknown = null) {
    super(message);
    this.name = 'StageFailed';
  }
}
