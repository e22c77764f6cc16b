/**
 * The whole project type-checks (`tsc --noEmit` over tsconfig.json: pipeline/, tests/,
 * notebooks' code). It runs as a test rather than before Jest so that its ~15 s of CPU
 * overlaps the test files that mostly wait (the lab, the browser) instead of delaying
 * every file; the sequencer starts it early. A type error fails it with tsc's own output.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

test('tsc --noEmit reports no error', async () => {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [TSC, '--noEmit', '--pretty', 'false'], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, output }));
  });
  expect({ code, output: output.trim() }).toEqual({ code: 0, output: '' });
}, 300_000);
