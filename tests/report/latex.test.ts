/**
 * Every generated LaTeX table compiles: pdflatex (Debian texlive-latex-recommended, which
 * .ci/run installs) runs on a wrapper document that \inputs each .tex of the sample, the
 * netfilter lab and a trials-free simulated campaign with a carrier named with every
 * LaTeX special character. Fails when pdflatex is missing in CI (CI set); skips with a
 * message elsewhere.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../pipeline/run.ts';
import { preset, simulateCampaign } from '../../pipeline/simulate/index.ts';
import { CampaignData } from '../../pipeline/report/data/campaign.ts';
import { latexTables, natatlasVersion, type LatexTable } from '../../pipeline/report/index.ts';
import { FAST_RUN, recordingLogger, tempProject } from '../helpers/tmp.ts';

const hasPdflatex = spawnSync('pdflatex', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasPdflatex) {
  const why = 'pdflatex is missing (apt-get install -y texlive-latex-recommended)';
  if (process.env.CI) throw new Error(`tests/report/latex.test.ts: ${why}; CI must install it (.ci/run)`);
  console.warn(`LaTeX compile test skipped: ${why}`);
}

const ODD = 'Tele_2 & "Co" 50% #1 {x}~^<y>|z\\w$';

/** Every table of every campaign under `raw`, after the data stages (no Monte Carlo: the tables do not use it). */
async function tablesOf(raw: string, campaigns: string[]): Promise<{ campaign: string; tables: LatexTable[] }[]> {
  const p = tempProject();
  const paths = { raw, derived: p.derived, reports: p.reports };
  await runPipeline({ paths, ...FAST_RUN }, recordingLogger());
  return campaigns.map((campaign) => {
    const data = new CampaignData({ campaign, paths, log: recordingLogger() });
    return { campaign, tables: latexTables(data, natatlasVersion()).flatMap((g) => g.build()) };
  });
}

describe('LaTeX tables', () => {
  let all: { campaign: string; tables: LatexTable[] }[] = [];

  beforeAll(async () => {
    if (!hasPdflatex) return;
    const own = tempProject();
    // A trials-free simulated campaign, one carrier renamed to every LaTeX special character.
    await simulateCampaign({ outDir: own.raw, campaign: 'notrials', carriers: [preset('KPN'), { ...preset('VodafoneNL'), name: 'Odd' }], runs: 2, packets: 1500, seed: 'latex' });
    fs.renameSync(path.join(own.raw, 'notrials', 'Odd'), path.join(own.raw, 'notrials', ODD));
    all = [...await tablesOf(path.resolve('raw'), ['sample', 'netfilter-lab']), ...await tablesOf(own.raw, ['notrials'])];
  }, 240_000);

  it('are written for what each campaign has: no matrix without trials', () => {
    if (!hasPdflatex) return;
    const names = Object.fromEntries(all.map((c) => [c.campaign, c.tables.map((t) => t.name)]));
    expect(names).toEqual({
      sample: ['model-parameters', 'success-matrix', 'success-matrix-naive', 'attack-costs'],
      'netfilter-lab': ['model-parameters', 'success-matrix', 'success-matrix-naive', 'success-matrix-biased', 'attack-costs'],
      notrials: ['model-parameters', 'attack-costs'],
    });
  });

  it('every one compiles with pdflatex inside a document that \\inputs it', () => {
    if (!hasPdflatex) return;
    const dir = tempProject().root;
    const inputs: string[] = [];
    for (const { campaign, tables } of all) {
      for (const t of tables) {
        const rel = `${campaign}/${t.name}.tex`;
        fs.mkdirSync(path.join(dir, campaign), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), t.tex);
        inputs.push(`\\section*{${campaign}: ${t.name}}\n\\resizebox{\\textwidth}{!}{\\input{${rel}}}\n`);
      }
    }
    fs.writeFileSync(path.join(dir, 'all.tex'), `\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n\\usepackage{graphicx}\n\\begin{document}\n${inputs.join('\n')}\\end{document}\n`);
    const r = spawnSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', 'all.tex'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('!'));
    expect([r.status, errors]).toEqual([0, []]);
    expect(fs.statSync(path.join(dir, 'all.pdf')).size).toBeGreaterThan(10_000);
    // The odd name came through as text, every special character escaped.
    const log = fs.readFileSync(path.join(dir, 'notrials', 'model-parameters.tex'), 'utf8');
    expect(log).toContain('Tele\\_2 \\& \'\'Co\'\' 50\\% \\#1 \\{x\\}\\textasciitilde{}\\textasciicircum{}\\textless{}y\\textgreater{}\\textbar{}z\\textbackslash{}w\\$');
  });
});
