/**
 * Contract `bias/index.json` (written by bias): which table holds which carrier (file
 * name and sha256), and which carriers got none and why. Engines and `natatlas export`
 * find the tables through it.
 */
import { JsonCodec, JsonFile } from './json.ts';

export const BIAS_INDEX_SCHEMA = 'natatlas.bias-index/1';

export interface BiasIndex {
  schema: typeof BIAS_INDEX_SCHEMA;
  campaign: string;
  tables: { carrier: string; file: string; sha256: string; family: string; behavior: string }[];
  /** Carriers without a table, and why. */
  skipped: { carrier: string; reason: string }[];
}

export const BIAS_INDEX = new JsonFile<BiasIndex>('bias index', 'bias', 'index.json', new JsonCodec(BIAS_INDEX_SCHEMA, new URL('./schemas/bias-index.schema.json', import.meta.url), 'bias'));
