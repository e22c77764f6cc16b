/**
 * Writes `schemas/<name>.schema.json` for every JSON contract, generated from its
 * TypeScript type (the way @natatlas/bias generates the bias table's). Run after
 * changing a contract type: `npm run schema`. tests/contracts/schemas.test.ts fails
 * while a shipped schema differs from what this generates.
 *
 * Usage: tsx pipeline/contracts/generate-schemas.ts [--check]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Schema file name -> [contract module, type]. */
export const SCHEMAS: Record<string, [string, string]> = {
  'manifest.schema.json': ['manifest.ts', 'IngestManifest'],
  'summary.schema.json': ['summary.ts', 'CarrierSummary'],
  'fit.schema.json': ['fit.ts', 'CarrierFit'],
  'attack.schema.json': ['attack.ts', 'AttackReport'],
  'matrix.schema.json': ['matrix.ts', 'SuccessMatrix'],
  'bias-index.schema.json': ['bias-index.ts', 'BiasIndex'],
};

/** Every schema's text as generated from the current types. */
export function generateSchemas(): Record<string, string> {
  const generator = createGenerator({ path: path.join(HERE, '*.ts'), tsconfig: path.join(HERE, '..', '..', 'tsconfig.json'), skipTypeCheck: true, additionalProperties: false });
  const out: Record<string, string> = {};
  for (const [file, [, type]] of Object.entries(SCHEMAS)) out[file] = `${JSON.stringify(generator.createSchema(type), null, 2)}\n`;
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, text] of Object.entries(generateSchemas())) {
    const target = path.join(HERE, 'schemas', file);
    const old = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
    if (old === text) continue;
    stale += 1;
    if (check) console.error(`${file}: out of date`);
    else fs.writeFileSync(target, text);
  }
  if (check && stale > 0) process.exit(1);
}
