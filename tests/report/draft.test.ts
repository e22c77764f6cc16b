/**
 * `--draft`: the report without each figure's PDF and PNG. Its pages, SVG and CSV figures
 * and LaTeX tables are those of a full report except for the PDF and PNG links; its stamp
 * records the draft, so the next run without it is stale ("settings changed") and draws
 * the figures, ending byte for byte where a full report from scratch ends.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../pipeline/run.ts';
import { parseCarrierSpec, simulateCampaign } from '../../pipeline/simulate/index.ts';
import { recordingLogger, snapshot, tempProject } from '../helpers/tmp.ts';

type Project = ReturnType<typeof tempProject>;

async function project(): Promise<Project> {
  const p = tempProject();
  const carriers = [parseCarrierSpec('A:beta loc=30000 scale=10000 alpha=2 beta=5 wait=2 idle=2')];
  await simulateCampaign({ outDir: p.raw, campaign: 'd', carriers, runs: 2, packets: 400, seed: 'draft' });
  return p;
}

/** `natatlas run` (no Monte Carlo), with or without --draft; the report stage's status line. */
async function run(p: Project, draft: boolean): Promise<string> {
  const log = recordingLogger();
  await runPipeline({ paths: p, settings: { montecarlo: false, ...(draft ? { draft: true } : {}) } }, log);
  return log.lines.find((l) => /^\[(stale|fresh)\] d: report/.test(l)) ?? '';
}

const reportOf = (p: Project) => snapshot(path.join(p.reports, 'd'));
const withoutDrawn = (files: Record<string, string>) => Object.keys(files).filter((f) => !/\.(pdf|png)$/.test(f)).sort();
/** A page with its PDF and PNG links taken out: ` · <a href="figures/x.pdf">PDF</a>` (snapshot reads latin1: the dot is two characters). */
const unlinked = (page: string) => page.replace(/ \u00c2\u00b7 <a href="figures\/[^"]+\.(pdf|png)">(PDF|PNG)<\/a>/g, '');

describe('report --draft', () => {
  it('writes no PDF or PNG and links none; the pages are otherwise the full report\'s; the next full run draws them', async () => {
    const full = await project();
    expect(await run(full, false)).toBe('[stale] d: report (never run)');
    const fullFiles = reportOf(full);
    expect(Object.keys(fullFiles).filter((f) => f.endsWith('.png')).length).toBeGreaterThan(0);

    const draft = await project();
    expect(await run(draft, true)).toBe('[stale] d: report (never run)');
    const draftFiles = reportOf(draft);
    expect(Object.keys(draftFiles).filter((f) => /\.(pdf|png)$/.test(f))).toEqual([]);
    expect(Object.keys(draftFiles).sort()).toEqual(withoutDrawn(fullFiles));
    for (const f of Object.keys(draftFiles)) {
      if (f.endsWith('.html')) {
        expect(draftFiles[f]).not.toMatch(/\.(pdf|png)"/);
        expect({ f, same: draftFiles[f] === unlinked(fullFiles[f]!) }).toEqual({ f, same: true });
      } else {
        expect({ f, same: draftFiles[f] === fullFiles[f] }).toEqual({ f, same: true });
      }
    }

    // Fresh while drafts are asked for; a run without --draft draws everything.
    expect(await run(draft, true)).toBe('[fresh] d: report');
    expect(await run(draft, false)).toBe('[stale] d: report (settings changed)');
    expect(reportOf(draft)).toEqual(fullFiles);
    expect(fs.existsSync(path.join(draft.reports, 'd', 'figures', 'A-port-histogram.png'))).toBe(true);
  });
});
