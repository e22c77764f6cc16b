/**
 * The whole project type-checks (`tsc --noEmit` over tsconfig.json: pipeline/, tests/,
 * notebooks' code). It runs as a test rather than before Jest so that its ~15 s of CPU
 * overlaps the test files that mostly wait (the lab, the browser) instead of delaying
 * every file; the sequencer starts it early, and it is this file's only test, so waiting
 * on it synchronously holds up nothing else. A type error fails it with tsc's own output.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

test('tsc --noEmit reports no error', () => {
  const r = spawnSync(process.execPath, [TSC, '--noEmit', '--pretty', 'false'], { encoding: 'utf8', timeout: 300_000 });
  expect({ code: r.status, output: `${r.stdout}${r.stderr}`.trim() }).toEqual({ code: 0, output: '' });
}, 300_000);
