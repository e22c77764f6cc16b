/**
 * The scripts inlined into every page, read from node_modules (never a CDN): vega's
 * UMD build, vega-interpreter (shipped as an ES module; rewritten here into a classic
 * script that takes vega-util's helpers from the `vega` global, which exports them),
 * and runtime/boot.js. Each comes with the sha256 the Content-Security-Policy allows.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NatatlasError } from '../../errors.ts';

const require = createRequire(import.meta.url);

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
  return [
    // vega's exports name only its ES module and schema; the UMD build sits beside the schema.
    path.join(path.dirname(require.resolve('vega/vega-schema.json')), 'vega.min.js'),
    require.resolve('vega-interpreter'),
    fileURLToPath(new URL('../runtime/boot.js', import.meta.url)),
  ];
}

/**
 * vega-interpreter as a classic script: its one `import { ... } from 'vega-util'` line
 * becomes a destructuring of the `vega` global, and its `export { expression as
 * expressionInterpreter }` a global `vegaInterpreter`.
 */
export function interpreterAsScript(esm: string): string {
  const importRe = /^import\s*\{([^}]*)\}\s*from\s*'vega-util';\s*$/m;
  const exportRe = /^export\s*\{\s*(\w+)\s+as\s+expressionInterpreter\s*\};\s*$/m;
  const imp = importRe.exec(esm);
  const exp = exportRe.exec(esm);
  if (!imp || !exp || /^\s*(import|export)\b/m.test(esm.replace(importRe, '').replace(exportRe, ''))) {
    throw new NatatlasError('vega-interpreter changed shape (expected one vega-util import and one export): update pipeline/report/html/runtime.ts');
  }
  const body = esm.replace(importRe, '').replace(exportRe, '').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  return `(function () {\n'use strict';\nconst {${imp[1]}} = vega;\n${body}\nglobalThis.vegaInterpreter = { expressionInterpreter: ${exp[1]} };\n})();\n`;
}

let cached: InlineScript[] | null = null;

/** vega, the interpreter and the boot script, in load order. */
export function runtimeScripts(): InlineScript[] {
  if (!cached) {
    const [vegaFile, interpreterFile, bootFile] = runtimeFiles() as [string, string, string];
    const vegaSource = fs.readFileSync(vegaFile, 'utf8').replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '\n');
    cached = [
      script('vega', vegaSource),
      script('vega-interpreter', interpreterAsScript(fs.readFileSync(interpreterFile, 'utf8'))),
      script('natatlas-boot', fs.readFileSync(bootFile, 'utf8')),
    ];
  }
  return cached;
}
