import fs from 'node:fs';
import path from 'node:path';
import { createGenerator } from 'ts-json-schema-generator';
import { runPipeline } from '../../pipeline/run.ts';
import { bias } from '../../pipeline/stages/bias.ts';
import { STAGES } from '../../pipeline/stages/index.ts';
import { BIAS_SCHEMA_FILE, validateBiasTable } from '../../pipeline/bias/validate.ts';
import { preset, simulateCampaign } from '../../pipeline/simulate/index.ts';
import type { BiasTable } from '../../pipeline/bias/types.ts';
import { recordingLogger, tempProject, FAST_RUN } from '../helpers/tmp.ts';

async function sampleProject() {
  const p = tempProject();
  await simulateCampaign({ outDir: p.raw, campaign: 'b', carriers: [preset('Odido'), preset('KPN')], runs: 2, packets: 2000, seed: 'bias-test' });
  await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
  return p;
}

describe('bias stage', () => {
  // One pipeline run for the first two tests: the first breaks only Odido's fit, the second reads KPN's table.
  let p: Awaited<ReturnType<typeof sampleProject>>;
  beforeAll(async () => {
    p = await sampleProject();
  });

  it('never writes a table that fails the contract, and names the carrier and field', async () => {
    const fitFile = path.join(p.derived, 'b', 'fit', 'Odido.json');
    const fit = JSON.parse(fs.readFileSync(fitFile, 'utf8'));
    fit.marginal = [[1024, 40000, 0.5], [30000, 65535, 0.5]]; // overlapping segments
    fs.writeFileSync(fitFile, JSON.stringify(fit));
    const before = fs.readFileSync(path.join(p.derived, 'b', 'bias', 'Odido.json'), 'utf8');
    const ctx = { campaign: 'b', paths: p, log: recordingLogger() };
    await expect(bias(ctx)).rejects.toThrow(/bias table for b\/Odido fails the contract, not written: marginal\[1\]: starts at 30000/);
    // The previous tables stay as they were; no partial folder is left behind.
    expect(fs.readFileSync(path.join(p.derived, 'b', 'bias', 'Odido.json'), 'utf8')).toBe(before);
    expect(fs.readdirSync(path.join(p.derived, 'b')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('reports schema violations by path', () => {
    const table = JSON.parse(fs.readFileSync(path.join(p.derived, 'b', 'bias', 'KPN.json'), 'utf8')) as BiasTable;
    expect(validateBiasTable(table)).toEqual([]);
    expect(validateBiasTable({ ...table, mapping: { ...table.mapping, portPreservation: 1.5 } })).toEqual(['/mapping/portPreservation: must be <= 1']);
    expect(validateBiasTable({ ...table, marginal: [[0, 10, 0.4]] })).toEqual(['marginal: masses sum to 0.4, not 1']);
    const { schema: _, ...unversioned } = table;
    expect(validateBiasTable(unversioned)[0]).toMatch(/must have required property 'schema'/);
  });

  it('ships a schema generated from the BiasTable type (run `npm run schema` after changing the type)', () => {
    const generated = createGenerator({ path: 'pipeline/bias/src/types.ts', tsconfig: 'tsconfig.json', type: 'BiasTable' }).createSchema('BiasTable');
    expect(JSON.parse(fs.readFileSync(BIAS_SCHEMA_FILE, 'utf8'))).toEqual(JSON.parse(JSON.stringify(generated)));
  });

  it('passes nat-type.json through when a carrier has one, else derives the RFC 4787 mapping class', async () => {
    const p = tempProject();
    await simulateCampaign({ outDir: p.raw, campaign: 'b', carriers: [preset('Odido'), preset('KPN')], runs: 2, packets: 2000, seed: 'bias-test' });
    fs.writeFileSync(path.join(p.raw, 'b', 'KPN', 'nat-type.json'), '{"mapping": "address-and-port-dependent", "filtering": "address-and-port-dependent", "tool": "stun"}');
    await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
    const natType = (c: string) => JSON.parse(fs.readFileSync(path.join(p.derived, 'b', 'fit', `${c}.json`), 'utf8')).natType;
    expect(natType('KPN')).toEqual({ source: 'nat-type.json', value: { filtering: 'address-and-port-dependent', mapping: 'address-and-port-dependent', tool: 'stun' } });
    expect(natType('Odido')).toMatchObject({ source: 'derived', mapping: 'address-and-port-dependent', filtering: 'unknown' });
  });

  it('is part of the pipeline after fit and evaluate', () => {
    // evaluate runs before bias: each table carries its same-carrier attack cost.
    expect(STAGES.map((s) => s.name)).toEqual(['ingest', 'join', 'fit', 'evaluate', 'bias', 'report']);
  });
});
