/**
 * The script inlined into every page (runtime/boot.js: mark tooltips, table sorting,
 * copying hashes), with the sha256 the Content-Security-Policy allows. Charts are
 * static SVG drawn at build time, so no chart library ships to the reader.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NatatlasError } from '../../errors.ts';

export interface InlineScript {
  name: string;
  source: string;
  /** `'sha256-...'` for the CSP. */
  csp: string;
}

export function cspHash(content: string): string {
  return `'sha256-${crypto.createHash('sha256').update(content, 'utf8').digest('base64')}'`;
}

function script(name: string, source: string): InlineScript {
  // Inline scripts end at the first `</script`; none of ours may hold one.
  if (/<\/script/i.test(source)) throw new NatatlasError(`${name} contains "</script" and cannot be inlined`);
  return { name, source, csp: cspHash(source) };
}

/** Files the runtime is built from (stage freshness inputs). */
export function runtimeFiles(): string[] {
  return [fileURLToPath(new URL('../runtime/boot.js', import.meta.url))];
}

let cached: InlineScript[] | null = null;

/** The inlined scripts, in load order. */
export function runtimeScripts(): InlineScript[] {
  cached ??= [script('natatlas-boot', fs.readFileSync(runtimeFiles()[0]!, 'utf8'))];
  return cached;
}
