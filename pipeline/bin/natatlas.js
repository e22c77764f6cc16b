#!/usr/bin/env node
// The published entry point stays plain JavaScript so `npx natatlas` works without a build step;
// tsx compiles the TypeScript sources on the fly.
import { register } from 'tsx/esm/api';
import { ensureBiasBuild } from './bias-build.js';

try {
  ensureBiasBuild();
} catch (e) {
  process.stderr.write(`natatlas: ${e.message}\n`);
  process.exit(1);
}
register();
const { main } = await import('../cli.ts');
process.exitCode = await main(process.argv.slice(2));
