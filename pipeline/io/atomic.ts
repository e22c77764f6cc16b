/**
 * Outputs appear whole or not at all: every writer goes to a temp name beside the
 * target and renames into place, so a crash or a bad row never leaves a half-written
 * file that a later stage or an engine build could pick up.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

let counter = 0;
function tempName(target: string): string {
  counter += 1;
  return `${target}.tmp-${process.pid}-${counter}`;
}

/** Write a whole file atomically (small outputs: JSON, summaries). */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempName(target);
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, target);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/**
 * A buffered, synchronous line writer for large outputs. Chunks are flushed with
 * writeSync once they pass `flushBytes`, which measured faster than stream
 * backpressure for the millions of short rows a capture produces.
 */
export class AtomicWriter {
  readonly target: string;
  private readonly tmp: string;
  private fd: number;
  // One growing string: V8 builds it as a rope, which measured faster than pushing
  // parts to an array and joining them (less garbage for millions of short rows).
  private buf = '';
  private readonly flushBytes: number;

  constructor(target: string, flushBytes = 1 << 20) {
    this.target = target;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    this.tmp = tempName(target);
    this.fd = fs.openSync(this.tmp, 'w');
    this.flushBytes = flushBytes;
  }

  write(text: string): void {
    this.buf += text;
    if (this.buf.length >= this.flushBytes) this.flush();
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    fs.writeSync(this.fd, this.buf);
    this.buf = '';
  }

  /** Flush, close and rename into place. */
  commit(): void {
    this.flush();
    fs.closeSync(this.fd);
    this.fd = -1;
    fs.renameSync(this.tmp, this.target);
  }

  /** Close and delete the temp file; the target is left as it was. */
  abort(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    fs.rmSync(this.tmp, { force: true });
  }
}

/**
 * Build a whole output directory beside `target` and swap it in, so a stage's
 * outputs for removed carriers disappear and readers never see a mix of old and new.
 */
export async function replaceDir(target: string, build: (dir: string) => Promise<void>): Promise<void> {
  const tmp = tempName(target);
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  try {
    await build(tmp);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = tempName(target);
  const hadOld = fs.existsSync(target);
  if (hadOld) await fsp.rename(target, old);
  await fsp.rename(tmp, target);
  if (hadOld) await fsp.rm(old, { recursive: true, force: true });
}
