/**
 * The report as a reader opens it: index.html from disk (file://) in headless Chromium
 * (Debian's /usr/bin/chromium, driven by playwright-core). Fails on any console error
 * (a CSP violation is one), failed request or dialog; checks every chart drew and went
 * live, tooltips and sorting work, and a carrier named like an XSS payload is text.
 * Skips with a message when Chromium or playwright-core is not installed; in CI that is
 * a failure (.ci/run installs Debian's chromium).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { report } from '../../pipeline/report/index.ts';
import { fileStem } from '../../pipeline/report/names.ts';
import { needs } from '../helpers/requirements.ts';
import { recordingLogger } from '../helpers/tmp.ts';
import { buildFixture, CAMPAIGN, HOSTILE, type Fixture } from './fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

type Playwright = typeof import('playwright-core');

function missing(): string | null {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install -y chromium)`;
  try {
    createRequire(import.meta.url).resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
  return null;
}

const why = missing();
const it = needs('Chromium and playwright-core (the report in a browser)', why).it;
let pw: Playwright;
let fx: Fixture;

beforeAll(async () => {
  if (why) return;
  pw = await import('playwright-core');
  fx = await buildFixture({ packets: 800 });
  await report({ campaign: CAMPAIGN, paths: fx, log: recordingLogger() });
});

async function open(file: string) {
  const browser = await pw.chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()}`));
  page.on('request', (r) => { if (!r.url().startsWith('file://')) problems.push(`network request: ${r.url()}`); });
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  await page.goto(pathToFileURL(path.join(fx.reports, CAMPAIGN, file)).href);
  await page.waitForFunction(() => document.documentElement.getAttribute('data-charts') === 'live', null, { timeout: 60_000 });
  return { browser, page, problems, dialogs };
}

describe('report in a browser', () => {
  it('draws every chart live with tooltips and no console error, failed request or dialog', async () => {
    const { browser, page, problems, dialogs } = await open('index.html');
    try {
      const figures = await page.$$eval('figure.chart', (fs) => fs.map((f) => ({ id: f.id, live: f.getAttribute('data-live'), svgs: f.querySelectorAll('.chart-live svg').length, marks: f.querySelectorAll('.chart-live svg path, .chart-live svg rect').length })));
      expect(figures.length).toBeGreaterThanOrEqual(2);
      for (const f of figures) expect([f.id, f.live, f.svgs, f.marks > 5]).toEqual([f.id, 'true', 1, true]);
      // A heat-map cell shows its counts in a tooltip.
      const cell = page.locator('#fig-success-matrix .chart-live svg g.role-mark.mark-rect path').first();
      await cell.scrollIntoViewIfNeeded();
      const box = (await cell.boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForSelector('.vg-tip.on', { timeout: 5000 });
      expect(await page.textContent('.vg-tip')).toMatch(/successes: \d+/);
      // Sorting a table by a numeric column.
      const table = page.locator('table.sortable').first();
      await table.locator('th button.sort').nth(2).click();
      expect(await table.locator('th').nth(2).getAttribute('aria-sort')).toBe('ascending');
      await page.screenshot({ path: path.join(fx.root, 'index.png'), fullPage: true });
      expect(fs.statSync(path.join(fx.root, 'index.png')).size).toBeGreaterThan(50_000);
      expect(problems).toEqual([]);
      expect(dialogs).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('shows a carrier named <img src=x onerror=alert(1)> as text and runs nothing from it', async () => {
    const { browser, page, problems, dialogs } = await open(`${fileStem(HOSTILE)}.html`);
    try {
      expect(await page.textContent('h1')).toBe(`Carrier ${HOSTILE}`);
      expect(await page.title()).toBe(`Carrier ${HOSTILE}`);
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.locator('nav.pages').textContent()).toContain(HOSTILE);
      const charts = await page.$$eval('figure.chart', (fs) => fs.map((f) => f.getAttribute('data-live')));
      expect(charts.length).toBeGreaterThanOrEqual(5);
      expect(charts.every((l) => l === 'true')).toBe(true);
      await page.screenshot({ path: path.join(fx.root, 'hostile.png') });
      expect(dialogs).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('reads with scripts off: every chart is there as a static SVG', async () => {
    const browser = await pw.chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto(pathToFileURL(path.join(fx.reports, CAMPAIGN, 'KPN.html')).href);
      const statics = await page.$$eval('figure.chart', (fs) => fs.map((f) => f.querySelectorAll('.chart-static > svg').length));
      expect(statics.length).toBeGreaterThanOrEqual(5);
      expect(statics.every((n) => n === 1)).toBe(true);
      await page.screenshot({ path: path.join(fx.root, 'kpn-static.png') });
    } finally {
      await browser.close();
    }
  });
});
