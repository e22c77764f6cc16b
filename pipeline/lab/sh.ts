/**
 * Running the lab's system commands (ip, iptables, sysctl, conntrack) and its agents
 * inside network namespaces. Everything the lab runs goes through here, so every
 * command it issues is one `ip netns exec <ns> ...` or `ip -n <ns> ...` away from
 * the root namespace, which it never changes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NatatlasError } from '../errors.ts';
import { compiledWorkers } from '../threads.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const AGENT = path.join(REPO_ROOT, 'pipeline/lab/agent.ts');

/**
 * Whether agents start from their build in dist/: always when natatlas itself runs
 * compiled (it runs from that build), and from the sources while dist/ is current. The
 * build script is loaded only from the sources: imported statically it was bundled into
 * the command line, where its freshness check counts the bundle itself as a source newer
 * than the build (so never current) and its `node build.js` entry check comes along.
 */
const compiledAgents = compiledWorkers() || (await import('../bin/build.js')).buildIsCurrent(REPO_ROOT);

/**
 * How node starts an agent script: its build in dist/ (build.js's ENTRIES, by file name)
 * when agents run compiled, else the TypeScript source under tsx. A lab starts dozens
 * of agents; compiled, each starts in a fraction of tsx's CPU.
 */
export function agentArgs(script: string): string[] {
  const compiled = path.join(REPO_ROOT, 'dist', `${path.basename(script, '.ts')}.js`);
  return compiledAgents && fs.existsSync(compiled) ? [compiled] : ['--import', 'tsx', script];
}

/** Run a command, return stdout; a failure throws a NatatlasError naming the command and its stderr. */
export function run(cmd: string, args: string[], opts: { allowFail?: boolean; input?: string } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input: opts.input ?? '' });
  } catch (e) {
    if (opts.allowFail) return '';
    const err = e as { stderr?: string; message: string };
    throw new NatatlasError(`lab: \`${cmd} ${args.join(' ')}\` failed: ${(err.stderr ?? err.message).toString().trim().split('\n')[0]}`);
  }
}

/** `ip netns exec <ns> <cmd...>` */
export function nsRun(ns: string, args: string[], opts: { allowFail?: boolean } = {}): string {
  return run('ip', ['netns', 'exec', ns, ...args], opts);
}

/** Start a lab agent (pipeline/lab/agent.ts, or another script; compiled when built) inside a namespace with a JSON job on argv. */
export function spawnAgent(ns: string, job: object, script = AGENT): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, ...agentArgs(script), JSON.stringify(job)], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Wait for an agent to exit; resolve with its stdout's last JSON line, reject with its stderr. */
export function agentResult<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0) {
        try {
          resolve(JSON.parse(last) as T);
        } catch {
          reject(new NatatlasError(`lab: ${what}: agent printed no result (${err.trim().slice(-300)})`));
        }
      } else reject(new NatatlasError(`lab: ${what}: agent exited with ${signal ?? code}: ${err.trim().slice(-500)}`));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Versions of the tools the lab used, for the campaign's README. */
export function toolVersions(): Record<string, string> {
  const first = (cmd: string, args: string[]) => run(cmd, args, { allowFail: true }).trim().split('\n')[0] ?? '';
  return {
    kernel: first('uname', ['-r']),
    iptables: first('iptables', ['-V']),
    iproute2: first('ip', ['-V']),
    conntrack: first('conntrack', ['-V']),
    node: process.version,
  };
}
