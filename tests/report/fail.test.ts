/**
 * The report stage fails loudly: a notebook cell that throws, or asks for a carrier the
 * campaign does not have, makes `natatlas run` / `natatlas report` exit 1 with one line
 * naming notebook, line, cell and message for every failure; the pages are still written
 * with each error in place; and the failed report is not stamped, so the next run retries it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { preset, simulateCampaign } from '../../pipeline/simulate/index.ts';
import { runPipeline } from '../../pipeline/run.ts';
import { StageFailed } from '../../pipeline/errors.ts';
import { STAGES } from '../../pipeline/stages/index.ts';
import { recordingLogger, tempProject, writeFiles } from '../helpers/tmp.ts';

const BIN = path.resolve('pipeline/bin/natatlas.js');

function natatlas(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const GOOD = `---
title: Probe
output: index.html
---

## Counts

\`\`\`js
md\`carriers: **\${carriers.join(', ')}**\`
\`\`\`
`;

const BROKEN = `${GOOD}
## Broken

\`\`\`js
undefinedThing.x
\`\`\`

## Typo in a carrier name

\`\`\`js
tables.candidates('NoSuchCarrier')
\`\`\`
`;

let p: ReturnType<typeof tempProject>;
let notebooks: string;
let args: string[];

beforeAll(async () => {
  p = tempProject();
  await simulateCampaign({ outDir: p.raw, campaign: 'c', runs: 2, packets: 600, seed: 'fail-test', carriers: [preset('KPN'), preset('Odido')] });
  notebooks = path.join(p.root, 'my-notebooks');
  writeFiles(notebooks, { 'probe.md': BROKEN });
  // Drafts: failing cells and retries are what is checked, not the figures' PDF and PNG.
  args = ['--raw', p.raw, '--derived', p.derived, '--reports', p.reports, '--no-montecarlo', '--draft', '--notebooks', notebooks];
}, 60_000);

describe('a report with failing cells', () => {
  it('exits 1 with one line naming every failure, writes the page, and is retried by the next run until fixed', () => {
    const first = natatlas(['run', ...args, '--quiet']);
    expect(first.code).toBe(1);
    const lines = first.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).toMatch(/^natatlas run: report c: 2 failures \(pages written to .*reports\/c, each error shown where it happened\): /);
    expect(line).toMatch(/my-notebooks\/probe\.md:15 \(cell-[0-9a-f]{8}\): ReferenceError: undefinedThing is not defined; /);
    expect(line).toMatch(/my-notebooks\/probe\.md:21 \(cell-[0-9a-f]{8}\): no carrier "NoSuchCarrier" in campaign c \(its carriers: KPN, Odido\)$/);
    expect(line).not.toMatch(/\n\s+at /);
    // The page is there, with both errors where the cells were and the good cell rendered.
    const page = fs.readFileSync(path.join(p.reports, 'c', 'index.html'), 'utf8');
    expect(page).toContain('carriers: <strong>KPN, Odido</strong>');
    expect(page).toContain('data-kind="error"');
    expect(page).toContain('data-kind="no such carrier"');

    // Nothing changed: the data stages are fresh, the report is not (it failed), so it runs again.
    const second = natatlas(['run', ...args]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/\[fresh\] c: bias/);
    expect(second.stderr).toMatch(/\[stale\] c: report/);
    expect(second.stderr).not.toMatch(/nothing to do/);
    expect(second.stderr.trim().split('\n').filter((l) => l.startsWith('natatlas run: '))).toHaveLength(1);

    // The report command alone says the same.
    const alone = natatlas(['report', ...args.filter((a) => a !== '--no-montecarlo'), '--quiet']);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toMatch(/^natatlas report: report c: 2 failures/);

    // Fixed: the run succeeds, prints the index, and then has nothing to do.
    fs.writeFileSync(path.join(notebooks, 'probe.md'), GOOD);
    const fixed = natatlas(['run', ...args]);
    expect([fixed.code, fixed.stderr.match(/\[stale\] c: report/) !== null]).toEqual([0, true]);
    expect(fixed.stdout.trim()).toBe(path.relative(process.cwd(), path.join(p.reports, 'c', 'index.html')));
    const again = natatlas(['run', ...args]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/nothing to do/);
  }, 300_000);

  it('refuses a --notebooks folder that does not exist', () => {
    const r = natatlas(['report', '--raw', p.raw, '--derived', p.derived, '--reports', p.reports, '--notebooks', path.join(p.root, 'nope')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^natatlas report: --notebooks .*nope: no such folder$/);
  });

  it('goes on with the other campaigns, stamps only the reports that worked, then fails naming the one that did not', async () => {
    const q = tempProject();
    await simulateCampaign({ outDir: q.raw, campaign: 'has', runs: 2, packets: 500, seed: 'fail-has', carriers: [preset('Odido')] });
    await simulateCampaign({ outDir: q.raw, campaign: 'lacks', runs: 2, packets: 500, seed: 'fail-lacks', carriers: [preset('KPN')] });
    const dir = path.join(q.root, 'nb');
    writeFiles(dir, { 'odido.md': '---\ntitle: Odido\noutput: index.html\n---\n\n```js\ntables.facts(\'Odido\')\n```\n' });
    const run = { paths: q, stages: STAGES, settings: { montecarlo: false as const, notebooks: dir } };
    const err = await runPipeline(run, recordingLogger()).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(StageFailed);
    expect((err as Error).message).toMatch(/^report lacks: 1 failure .*nb\/odido\.md:7 \(cell-[0-9a-f]{8}\): no carrier "Odido" in campaign lacks \(its carriers: KPN\)$/);
    expect(fs.existsSync(path.join(q.reports, 'has', 'index.html'))).toBe(true);
    // The campaign whose report worked is stamped; the other is retried.
    const log = recordingLogger();
    await expect(runPipeline(run, log)).rejects.toBeInstanceOf(StageFailed);
    expect(log.lines).toContain('[fresh] has: report');
    expect(log.lines.filter((l) => l.startsWith('[stale] lacks: report'))).toHaveLength(1);
  }, 120_000);
});
