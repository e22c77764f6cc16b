/**
 * The report as a reader opens it: pages from disk (file://) in headless Chromium
 * (Debian's /usr/bin/chromium, driven by playwright-core).
 *
 * Layout: the index and two carrier pages of the sample, the netfilter lab and a
 * trials-free simulated campaign, at 1280 and 1920 px, fail on any table wider than its
 * container, any chart SVG with no marks, any console error, failed or network request.
 * Also: tooltips and sorting work, a carrier named like an XSS payload is text, and
 * with scripts off every chart is there. Skips with a message when Chromium or
 * playwright-core is not installed; in CI that is a failure. The reports are drafts
 * (no PDF or PNG files; report/draft.test.ts checks that is the only difference).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { report } from '../../pipeline/report/index.ts';
import { fileStem } from '../../pipeline/report/names.ts';
import { runPipeline } from '../../pipeline/run.ts';
import { preset, simulateCampaign } from '../../pipeline/simulate/index.ts';
import type { Paths } from '../../pipeline/context.ts';
import { FAST_RUN, recordingLogger, tempProject } from '../helpers/tmp.ts';
import { needs } from '../helpers/requirements.ts';
import { buildFixture, CAMPAIGN, HOSTILE, type Fixture } from './fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WIDTHS = [1280, 1920];

type Playwright = typeof import('playwright-core');
type Browser = Awaited<ReturnType<Playwright['chromium']['launch']>>;

async function loadPlaywright(): Promise<Playwright | null> {
  try {
    return await import('playwright-core');
  } catch {
    return null;
  }
}

const hasChromium = fs.existsSync(CHROMIUM);

function missing(): string | null {
  if (!hasChromium) return `${CHROMIUM} is missing (apt-get install -y chromium)`;
  try {
    createRequire(import.meta.url).resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
  return null;
}

// Skips outside CI when Chromium is missing; in CI that is a failure (.ci/run installs it).
const it = needs('Chromium and playwright-core (the report in a browser)', missing()).it;
let pw: Playwright | null = null;
let browser: Browser;
let fx: Fixture;
/** Report roots of the three real campaigns and the pages to open in each. */
let campaigns: { name: string; reports: string; pages: string[] }[] = [];

/**
 * Drafts (`--draft`): the pages as a full report writes them but for each figure's PDF and
 * PNG links, which this file never opens; drawing those files was half its CPU.
 */
async function reportOf(paths: Paths, campaign: string): Promise<void> {
  await report({ campaign, paths, log: recordingLogger() }, { draft: true });
}

beforeAll(async () => {
  pw = hasChromium ? await loadPlaywright() : null;
  if (!pw) {
    console.warn(`browser test skipped: ${hasChromium ? 'playwright-core is not installed (npm install)' : `${CHROMIUM} is missing (apt-get install -y chromium)`}`);
    return;
  }
  fx = await buildFixture({ packets: 800 });
  await reportOf(fx, CAMPAIGN);
  // The shipped campaigns, and one made without trials (the two carriers whose pages are
  // opened), through every stage (no Monte Carlo: it only adds curves).
  const shipped = { ...tempProject(), raw: path.resolve('raw') };
  const own = tempProject();
  await simulateCampaign({ outDir: own.raw, campaign: 'notrials', carriers: [preset('KPN'), preset('LycaMobileNL')], runs: 2, packets: 2000, seed: 'browser' });
  for (const p of [shipped, own]) await runPipeline({ paths: p, ...FAST_RUN }, recordingLogger());
  for (const [p, c] of [[shipped, 'sample'], [shipped, 'netfilter-lab'], [own, 'notrials']] as const) await reportOf(p, c);
  campaigns = [
    { name: 'sample', reports: shipped.reports, pages: ['index.html', 'KPN.html', 'VodafoneNL.html'] },
    { name: 'netfilter-lab', reports: shipped.reports, pages: ['index.html', 'masq-random.html', 'snat-pool.html'] },
    { name: 'notrials', reports: own.reports, pages: ['index.html', 'KPN.html', 'LycaMobileNL.html'] },
  ];
  browser = await pw.chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}, 600_000);

afterAll(async () => {
  if (browser) await browser.close();
});

async function open(file: string, width = 1280) {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()}`));
  page.on('request', (r) => { if (!r.url().startsWith('file://')) problems.push(`network request: ${r.url()}`); });
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => document.documentElement.getAttribute('data-charts') === 'live', null, { timeout: 60_000 });
  return { page, problems, dialogs };
}

/** Tables wider than the box they sit in, and chart SVGs with no marks, on the open page. */
function layoutProblems() {
  const out: string[] = [];
  const label = (el: Element) => `${el.closest('section.cell')?.id ?? (el.closest('footer') ? 'footer' : '?')} ${(el.querySelector('th')?.textContent ?? '').slice(0, 30)}`;
  // Folded tables (inputs, provenance, figure lists) count too: unfold them first.
  for (const d of Array.from(document.querySelectorAll('details'))) d.open = true;
  for (const t of Array.from(document.querySelectorAll('table'))) {
    const box = t.parentElement!;
    const width = t.getBoundingClientRect().width;
    if (width > box.clientWidth + 1) out.push(`table ${label(t)} is ${Math.round(width)} px in a ${box.clientWidth} px box`);
    const main = t.closest('main, footer');
    if (main && box.getBoundingClientRect().right > main.getBoundingClientRect().right + 1) out.push(`table box ${label(t)} sticks out of its column`);
  }
  for (const f of Array.from(document.querySelectorAll('figure.chart'))) {
    const svg = f.querySelector('.chart-static svg');
    const marks = svg ? svg.querySelectorAll('g.role-mark:not(.mark-text) > *').length : 0;
    if (marks === 0) out.push(`chart ${f.id} has no marks`);
    if (svg && svg.getBoundingClientRect().width > f.clientWidth + 1) out.push(`chart ${f.id} is wider than its figure`);
  }
  return out;
}

describe('report layout in a browser', () => {
  it('fits every table, draws every chart and logs no error: sample, lab and a trials-free campaign at 1280 and 1920 px', async () => {
    if (!pw) return;
    const found: string[] = [];
    for (const c of campaigns) {
      for (const file of c.pages) {
        // Loaded once, then widened: the charts are fixed-size SVG, so only CSS depends on
        // the width, and a reload per width was a third of Chromium's CPU in this file.
        const { page, problems, dialogs } = await open(path.join(c.reports, c.name, file), WIDTHS[0]);
        try {
          for (const width of WIDTHS) {
            await page.setViewportSize({ width, height: 900 });
            const where = `${c.name}/${file} at ${width} px`;
            for (const p of await page.evaluate(layoutProblems)) found.push(`${where}: ${p}`);
            if (await page.locator('figure.chart').count() === 0 && file !== 'index.html') found.push(`${where}: no charts`);
          }
          for (const p of [...problems, ...dialogs]) found.push(`${c.name}/${file}: ${p}`);
        } finally {
          await page.close();
        }
      }
    }
    expect(found).toEqual([]);
  }, 600_000);

  it('keeps carrier pages under 400 KB and a campaign without trials free of trial figures', () => {
    if (!pw) return;
    for (const c of campaigns) {
      for (const file of c.pages.filter((f) => f !== 'index.html')) {
        const bytes = fs.statSync(path.join(c.reports, c.name, file)).size;
        expect([c.name, file, bytes < 400 * 1024]).toEqual([c.name, file, true]);
      }
    }
    const notrials = campaigns.find((c) => c.name === 'notrials')!;
    const figs = fs.readdirSync(path.join(notrials.reports, 'notrials', 'figures'));
    expect(figs.filter((f) => f.startsWith('success-matrix'))).toEqual([]);
    const index = fs.readFileSync(path.join(notrials.reports, 'notrials', 'index.html'), 'utf8');
    expect(index).toContain('No hole-punching trials in this campaign');
  });

  it('shows a heat-map cell\'s values on hover and sorts a table by a column', async () => {
    if (!pw) return;
    const { page, problems } = await open(path.join(fx.reports, CAMPAIGN, 'index.html'));
    try {
      const cell = page.locator('#fig-success-matrix svg g.role-mark.mark-rect path').first();
      await cell.scrollIntoViewIfNeeded();
      const box = (await cell.boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForSelector('.vg-tip.on', { timeout: 5000 });
      expect(await page.textContent('.vg-tip')).toMatch(/successes: \d+/);
      const table = page.locator('table.sortable').first();
      await table.locator('th button.sort').nth(2).click();
      expect(await table.locator('th').nth(2).getAttribute('aria-sort')).toBe('ascending');
      await page.screenshot({ path: path.join(fx.root, 'index.png'), fullPage: true });
      expect(fs.statSync(path.join(fx.root, 'index.png')).size).toBeGreaterThan(50_000);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows a carrier named <img src=x onerror=alert(1)> as text and runs nothing from it', async () => {
    if (!pw) return;
    const { page, problems, dialogs } = await open(path.join(fx.reports, CAMPAIGN, `${fileStem(HOSTILE)}.html`));
    try {
      expect(await page.textContent('h1')).toBe(`Carrier ${HOSTILE}`);
      expect(await page.title()).toBe(`Carrier ${HOSTILE}`);
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.locator('nav.pages').textContent()).toContain(HOSTILE);
      expect(await page.locator('figure.chart').count()).toBeGreaterThanOrEqual(5);
      expect(dialogs).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('reads with scripts off: every chart is there as a static SVG', async () => {
    if (!pw) return;
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(pathToFileURL(path.join(fx.reports, CAMPAIGN, 'KPN.html')).href);
      const statics = await page.$$eval('figure.chart', (fs) => fs.map((f) => f.querySelectorAll('.chart-static > svg').length));
      expect(statics.length).toBeGreaterThanOrEqual(5);
      expect(statics.every((n) => n === 1)).toBe(true);
    } finally {
      await context.close();
    }
  });
});
