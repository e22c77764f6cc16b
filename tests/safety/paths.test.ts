/**
 * Outputs can never touch inputs (issue 10, item 1). Before, `--reports raw` exited 0
 * having replaced raw/<campaign> with the report, `--campaign ../x` wrote outside the
 * roots, and `--campaign .` replaced the whole reports root. Each case is refused with
 * one line and exit 1, and the captures are byte-identical afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../pipeline/run.ts';
import { NatatlasError } from '../../pipeline/errors.ts';
import { replaceDir } from '../../pipeline/io/atomic.ts';
import { preset, simulateCampaign } from '../../pipeline/simulate/index.ts';
import { FAST_RUN, recordingLogger } from '../helpers/tmp.ts';
import { filesOf, natatlas, project, Temps } from './helpers.ts';

const temps = new Temps();
let rawSource: string;

beforeAll(async () => {
  rawSource = path.join(temps.make(), 'raw');
  await simulateCampaign({ outDir: rawSource, campaign: 'c', carriers: [preset('KPN')], runs: 2, packets: 300, seed: 5 });
});
afterAll(() => temps.cleanup());

/** Run in-process; returns the NatatlasError it must throw. */
async function refused(root: string, paths: { raw?: string; derived?: string; reports?: string }, campaign?: string): Promise<NatatlasError> {
  const abs = (p: string) => path.resolve(root, p);
  const run = runPipeline({ paths: { raw: abs(paths.raw ?? 'raw'), derived: abs(paths.derived ?? 'derived'), reports: abs(paths.reports ?? 'reports') }, campaign, ...FAST_RUN }, recordingLogger());
  const e = await run.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(NatatlasError);
  return e as NatatlasError;
}

describe('roots that share or nest are refused before anything is written', () => {
  it('natatlas run --reports raw: exit 1, one line, every capture byte-identical', async () => {
    const root = project(temps, rawSource);
    const before = filesOf(path.join(root, 'raw'));
    const r = await natatlas(['run', '--raw', 'raw', '--derived', 'derived', '--reports', 'raw', '--no-montecarlo'], root);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--raw raw and --reports raw are the same folder/);
    expect(filesOf(path.join(root, 'raw'))).toEqual(before);
    expect(fs.existsSync(path.join(root, 'derived'))).toBe(false);
  });

  it('refuses --derived raw, --reports derived, nesting either way, and a symlinked alias', async () => {
    const root = project(temps, rawSource);
    fs.symlinkSync('raw', path.join(root, 'alias'));
    fs.mkdirSync(path.join(root, 'out'));
    const before = filesOf(path.join(root, 'raw'));
    // In-process the paths show as absolute (the temp project is outside the working folder): P matches that prefix.
    const P = String.raw`\S*/`;
    const cases: [{ raw?: string; derived?: string; reports?: string }, RegExp][] = [
      [{ derived: 'raw' }, new RegExp(`--raw ${P}raw and --derived ${P}raw are the same folder`)],
      [{ reports: 'derived' }, new RegExp(`--derived ${P}derived and --reports ${P}derived are the same folder`)],
      [{ derived: 'raw/c/derived' }, new RegExp(`--derived ${P}raw/c/derived is inside --raw ${P}raw`)],
      [{ raw: 'out/raw', derived: 'out' }, new RegExp(`--raw ${P}out/raw is inside --derived ${P}out`)],
      [{ reports: 'out/reports', derived: 'out' }, new RegExp(`--reports ${P}out/reports is inside --derived ${P}out`)],
      [{ derived: 'out', reports: 'out/..' }, new RegExp(`--raw ${P}raw is inside --reports \\S+:`)],
      [{ reports: 'alias' }, new RegExp(`--raw ${P}raw and --reports ${P}alias are the same folder`)],
      [{ derived: 'alias/c' }, new RegExp(`--derived ${P}alias/c is inside --raw ${P}raw`)],
    ];
    for (const [paths, message] of cases) {
      const e = await refused(root, paths);
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain('\n');
    }
    expect(filesOf(path.join(root, 'raw'))).toEqual(before);
    expect(fs.readdirSync(path.join(root, 'out'))).toEqual([]);
  });

  it('refuses a campaign folder that is a link into --derived', async () => {
    const root = project(temps, rawSource);
    fs.mkdirSync(path.join(root, 'derived'));
    fs.renameSync(path.join(root, 'raw', 'c'), path.join(root, 'derived', 'c'));
    fs.symlinkSync(path.join(root, 'derived', 'c'), path.join(root, 'raw', 'c'));
    const before = filesOf(path.join(root, 'derived', 'c'));
    const e = await refused(root, {}, 'c');
    expect(e.message).toMatch(/campaign folder \S*raw\/c is inside --derived \S*derived:/);
    expect(filesOf(path.join(root, 'derived', 'c'))).toEqual(before);
  });
});

describe('--campaign must be one plain folder name', () => {
  it('natatlas run --campaign ../x: exit 1, one line, nothing written outside or inside', async () => {
    const root = project(temps, rawSource);
    // A capture folder beside raw/ that ../x would reach.
    fs.cpSync(path.join(root, 'raw', 'c'), path.join(root, 'x'), { recursive: true });
    const before = filesOf(root);
    const r = await natatlas(['run', '--campaign', '../x', '--no-montecarlo'], root);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--campaign "\.\.\/x" is not a campaign name/);
    expect(filesOf(root)).toEqual(before);
  });

  it('refuses ., .., a/b, an empty name, an absolute path and NUL', async () => {
    const root = project(temps, rawSource);
    fs.mkdirSync(path.join(root, 'reports'));
    fs.writeFileSync(path.join(root, 'reports', 'keep.txt'), 'mine\n');
    const before = filesOf(root);
    for (const name of ['.', '..', 'a/b', 'c/', '', path.join(root, 'raw', 'c'), 'c\u0000']) {
      const e = await refused(root, {}, name);
      expect(e.message).toMatch(/--campaign .* is not a campaign name/);
      expect(e.message).not.toMatch(/[\u0000\n]/);
    }
    expect(filesOf(root)).toEqual(before);
  });
});

describe('natatlas replaces only folders it made', () => {
  it('marks its folders with a fixed marker and swaps them; refuses an unmarked folder, a file and a link, naming them', async () => {
    const root = temps.make();
    const target = path.join(root, 'out');
    await replaceDir(target, async (dir) => fs.writeFileSync(path.join(dir, 'a.txt'), 'one\n'));
    const marker = fs.readFileSync(path.join(target, '.natatlas-output'));
    await replaceDir(target, async (dir) => fs.writeFileSync(path.join(dir, 'b.txt'), 'two\n'));
    expect(fs.readdirSync(target).sort()).toEqual(['.natatlas-output', 'b.txt']);
    expect(fs.readFileSync(path.join(target, '.natatlas-output'))).toEqual(marker);

    const mine = path.join(root, 'mine');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, 'capture.csv'), 'precious\n');
    await expect(replaceDir(mine, async () => {})).rejects.toThrow(/mine exists but natatlas did not make it/);
    expect(fs.readFileSync(path.join(mine, 'capture.csv'), 'utf8')).toBe('precious\n');

    const file = path.join(root, 'file');
    fs.writeFileSync(file, 'x\n');
    await expect(replaceDir(file, async () => {})).rejects.toThrow(/file is a file, not a folder natatlas made/);
    const link = path.join(root, 'link');
    fs.symlinkSync(target, link);
    await expect(replaceDir(link, async () => {})).rejects.toThrow(/link is a symbolic link/);
    expect(fs.readdirSync(target).sort()).toEqual(['.natatlas-output', 'b.txt']);
    expect(fs.readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('simulate replaces a carrier folder it simulated, never a capture of the same name', async () => {
    const root = temps.make();
    await simulateCampaign({ outDir: root, campaign: 'sim', carriers: [preset('KPN')], runs: 1, packets: 100, seed: 1 });
    await simulateCampaign({ outDir: root, campaign: 'sim', carriers: [preset('KPN')], runs: 1, packets: 100, seed: 2 });
    fs.cpSync(path.join(rawSource, 'c'), path.join(root, 'field'), { recursive: true });
    fs.rmSync(path.join(root, 'field', 'simulation.json'));
    const before = filesOf(path.join(root, 'field'));
    await expect(simulateCampaign({ outDir: root, campaign: 'field', carriers: [preset('KPN')], runs: 1, packets: 100, seed: 1 })).rejects.toThrow(/field\/KPN exists but natatlas did not make it/);
    expect(filesOf(path.join(root, 'field'))).toEqual(before);
  });

  it('refuses a stage folder holding files natatlas did not write; adopts one an older natatlas wrote', async () => {
    const root = project(temps, rawSource);
    const paths = { raw: path.join(root, 'raw'), derived: path.join(root, 'derived'), reports: path.join(root, 'reports') };
    await runPipeline({ paths, ...FAST_RUN }, recordingLogger());
    const fit = path.join(paths.derived, 'c', 'fit');
    expect(fs.existsSync(path.join(fit, '.natatlas-output'))).toBe(true);

    // An upgrade: the folders of a natatlas without markers, every file recorded in its stamps.
    for (const d of ['ingest', 'joined', 'summary', 'fit', 'evaluate', 'bias']) fs.rmSync(path.join(paths.derived, 'c', d, '.natatlas-output'));
    const log = recordingLogger();
    await runPipeline({ paths, ...FAST_RUN, force: true }, log);
    expect(log.lines.filter((l) => l.includes('now marked as its output folder'))).toHaveLength(6);

    // A file of the user's own in an unmarked output folder: refused, the folder named, the file kept.
    fs.rmSync(path.join(fit, '.natatlas-output'));
    fs.writeFileSync(path.join(fit, 'notes.txt'), 'mine\n');
    const e = await runPipeline({ paths, ...FAST_RUN, force: true }, recordingLogger()).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(NatatlasError);
    expect((e as Error).message).toMatch(/derived\/c\/fit exists but natatlas did not make it/);
    expect(fs.readFileSync(path.join(fit, 'notes.txt'), 'utf8')).toBe('mine\n');
  });
});
