/**
 * The report carries a chart's SVG over from its previous run when its spec is unchanged,
 * and a figure's PDF and PNG when its SVG is (report/figures/figure-cache.ts): after one carrier's new capture only
 * the figures that show it are drawn again, the report equals one built from scratch byte
 * for byte, and a carried file edited since is drawn again rather than trusted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../pipeline/run.ts';
import { parseCarrierSpec, simulateCampaign } from '../../pipeline/simulate/index.ts';
import { STAGES } from '../../pipeline/stages/index.ts';
import { exactJson } from '../../pipeline/report/figures/figure-cache.ts';
import { recordingLogger, snapshot, tempDir, tempProject, writeFiles } from '../helpers/tmp.ts';

const NOTEBOOK = `---
title: Carrier {carrier}
for: carrier
output: "{carrier}.html"
---

\`\`\`js
charts.portHistogram(carrier)
\`\`\`
`;

const A = 'A:uniform min=20000 max=21999 wait=2 idle=2';
const B = 'B:uniform min=30000 max=31999 wait=2 idle=2';
const B_AGAIN = 'B:uniform min=30000 max=35999 wait=2 idle=2';

const notebooks = tempDir('figure-cache-notebooks');
writeFiles(notebooks, { 'carrier.md': NOTEBOOK });

type Project = ReturnType<typeof tempProject>;

async function simulate(p: Project, specs: string[]): Promise<void> {
  await simulateCampaign({ outDir: p.raw, campaign: 'f', carriers: specs.map((s) => parseCarrierSpec(s)), runs: 2, packets: 500, seed: 'figure-cache' });
}

/** Runs every stale stage (the report forced); returns how many figures' PDF and PNG, and how many SVGs, were drawn and carried over. */
async function run(p: Project): Promise<{ drawn: number; carried: number; svg?: { drawn: number; carried: number } }> {
  const log = recordingLogger();
  const settings = { montecarlo: false as const, notebooks };
  await runPipeline({ paths: p, settings, stages: STAGES.filter((s) => s.name !== 'report') }, log);
  await runPipeline({ paths: p, settings, force: true, stages: STAGES.filter((s) => s.name === 'report') }, log);
  const m = /SVG: (\d+) drawn, (\d+) carried over; PDF and PNG: (\d+) drawn, (\d+) carried over/.exec(log.lines.find((l) => l.startsWith('report f: ')) ?? '');
  if (!m) throw new Error(`no report summary in ${JSON.stringify(log.lines)}`);
  return { drawn: Number(m[3]), carried: Number(m[4]), svg: { drawn: Number(m[1]), carried: Number(m[2]) } };
}

describe('report: figures carried over', () => {
  it('draws again only the figures whose SVG changed, with the bytes of a report from scratch', async () => {
    const p = tempProject();
    await simulate(p, [A, B]);
    // Two port histograms and the attack figures of the pairs A/A, A/B, B/B.
    expect(await run(p)).toEqual({ drawn: 5, carried: 0, svg: { drawn: 5, carried: 0 } });
    expect(await run(p)).toEqual({ drawn: 0, carried: 5, svg: { drawn: 0, carried: 5 } });

    // B's new capture over a wider range changes B's histogram. The pair figures stay: without
    // the referee, two uniform NATs' plan is the textbook one, whose curves do not depend on
    // the range.
    await simulate(p, [A, B_AGAIN]);
    expect(await run(p)).toEqual({ drawn: 1, carried: 4, svg: { drawn: 1, carried: 4 } });
    const fresh = tempProject();
    fs.cpSync(p.raw, fresh.raw, { recursive: true });
    expect(await run(fresh)).toEqual({ drawn: 5, carried: 0, svg: { drawn: 5, carried: 0 } });
    expect(snapshot(path.join(p.reports, 'f'))).toEqual(snapshot(path.join(fresh.reports, 'f')));

    // A carried file that no longer hashes as drawn is drawn again.
    const png = path.join(p.reports, 'f', 'figures', 'A-port-histogram.png');
    expect(fs.existsSync(png)).toBe(true);
    fs.writeFileSync(png, 'not a png');
    expect(await run(p)).toEqual({ drawn: 1, carried: 4, svg: { drawn: 0, carried: 5 } });
    expect(fs.readFileSync(png)).toEqual(fs.readFileSync(path.join(fresh.reports, 'f', 'figures', 'A-port-histogram.png')));

    // So is an SVG edited since: the chart is drawn again, and the page shows what vega draws, not the edit.
    const svg = path.join(p.reports, 'f', 'figures', 'A-port-histogram.svg');
    fs.writeFileSync(svg, fs.readFileSync(svg, 'utf8').replace('<svg', '<svg data-edited="yes"'));
    expect((await run(p)).svg).toEqual({ drawn: 1, carried: 4 });
    expect(snapshot(path.join(p.reports, 'f'))).toEqual(snapshot(path.join(fresh.reports, 'f')));
  });

  it('keys a chart by a spec text that keeps apart what plain JSON merges, and gives no key to what is not plain data', () => {
    const texts = [null, NaN, Infinity, -Infinity, 0, -0, '\u0000NaN'].map((v) => exactJson({ data: { values: [{ x: v }] } }));
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts.every((t) => t !== null)).toBe(true);
    expect(exactJson({ x: new Date(0) })).toBeNull();
    expect(exactJson({ x: new Uint16Array(2) })).toBeNull();
    expect(exactJson({ x: () => 1 })).toBeNull();
    expect(exactJson({ mark: 'bar', encoding: { x: { field: 'port' } } })).toBe('{"mark":"bar","encoding":{"x":{"field":"port"}}}');
  });
});
