#!/usr/bin/env node
// The published entry point stays plain JavaScript so `npx natatlas` works before any
// build: it (re)builds what is missing or older than its sources, then runs the compiled
// command line, dist/cli.js (build.js says how it is made and why assets still resolve).
import { ensureBiasBuild } from './bias-build.js';
import { cliUrl, ensureBuild } from './build.js';

try {
  ensureBiasBuild();
  await ensureBuild();
} catch (e) {
  process.stderr.write(`natatlas: ${e.message}\n`);
  process.exit(1);
}
// Stacks name the TypeScript sources (dist/ carries source maps), only when asked for.
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
const { main } = await import(cliUrl());
process.exitCode = await main(process.argv.slice(2));
