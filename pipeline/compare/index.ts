/**
 * compare: two campaigns' derived data, carrier by carrier (carriers with one folder
 * name in both), into self-contained HTML pages (the `for: comparison` notebooks, by
 * default notebooks/compare.md -> index.html, with figures/) and a CSV with a one-line
 * verdict per carrier. Reads the fit stage's models, the joined packets (for the allocations) and,
 * when there, the evaluate stage's attack costs; writes `<out>/index.html` and
 * `<out>/compare.csv` (default out: `reports/compare/<A>--<B>/`), swapped in whole.
 */
import path from 'node:path';
import type { Logger, Paths, StageContext } from '../context.ts';
import { NatatlasError } from '../errors.ts';
import { replaceDir } from '../io/atomic.ts';
import { csvRow } from '../io/csv.ts';
import { CampaignData, MissingInput } from '../report/data/campaign.ts';
import { MANIFEST } from '../contracts/manifest.ts';
import { shownRel } from '../contracts/json.ts';
import type { AttackReport } from '../contracts/attack.ts';
import { fileStem } from '../report/names.ts';
import { roundTo } from '../report/format.ts';
import { compareCarrier, type CarrierComparison } from './carrier.ts';
import { allocationsFor, sampleKind, testSample } from './samples.ts';
import { compareLibrary, comparePage } from './page.ts';
import { twoEcdfs, type TwoEcdfs } from './chart.ts';
import { writeFileNamed } from '../io/fs-errors.ts';
import { FigureSet } from '../report/figures/registry.ts';
import { loadNotebooks } from '../report/index.ts';
import { NOTEBOOKS_DIR, PACKAGE_ROOT } from '../report/inputs.ts';
import { baseScope, redactor, renderNotebookBody, type RenderEnv } from '../report/notebook/render.ts';
import type { Notebook } from '../report/notebook/parse.ts';

export interface CompareOptions {
  paths: Paths;
  a: string;
  b: string;
  /** Output folder (default `<reports>/compare/<a>--<b>`). */
  out?: string;
  /** Where the comparison notebooks are (default: natatlas's `notebooks/`). */
  notebooksDir?: string;
  /** No PDF or PNG of each figure (`--draft`, as for the report). */
  draft?: boolean;
}

export interface CompareResult {
  out: string;
  carriers: CarrierComparison[];
  /** Carriers only one campaign has. */
  onlyA: string[];
  onlyB: string[];
  /** Why attack costs are missing, when they are. */
  notes: string[];
}

function attackOf(data: CampaignData, notes: string[]): AttackReport | null {
  try {
    return data.attack();
  } catch (e) {
    if (!(e instanceof MissingInput)) throw e;
    notes.push(`No attack costs for ${data.campaign}: ${e.message}`);
    return null;
  }
}

export const COMPARE_CSV_COLUMNS = [
  'carrier', 'verdict', 'test_sample', 'ks_d', 'p_value', 'n_a', 'n_b', 'family_a', 'family_b', 'mapping_a', 'mapping_b',
  'wait_a_s', 'wait_b_s', 'wait_beyond_brackets', 'idle_a_s', 'idle_b_s', 'idle_beyond_brackets',
  'biased_p99_a', 'biased_p99_b', 'attack_cost_ratio', 'reasons',
] as const;

export function compareCsv(carriers: readonly CarrierComparison[]): string {
  let out = `${csvRow([...COMPARE_CSV_COLUMNS])}\n`;
  for (const c of carriers) {
    const t = (k: 'wait' | 'idle') => c.timeouts.find((x) => x.kind === k)!;
    const cells: (string | number | null)[] = [
      c.carrier, c.verdict, c.test?.kind ?? '', roundTo(c.test?.d ?? null, 6), c.test ? Number(c.test.p.toPrecision(6)) : null, c.test?.n[0] ?? null, c.test?.n[1] ?? null,
      c.family[0], c.family[1], c.mapping[0], c.mapping[1],
      t('wait').a?.seconds ?? null, t('wait').b?.seconds ?? null, String(t('wait').beyond), t('idle').a?.seconds ?? null, t('idle').b?.seconds ?? null, String(t('idle').beyond),
      c.attack?.a ?? null, c.attack?.b ?? null, roundTo(c.attack?.ratio ?? null, 6), c.reasons.join('; '),
    ];
    out += `${csvRow(cells.map((v) => (v === null ? '' : v)))}\n`;
  }
  return out;
}

/**
 * Compare campaigns `a` and `b`.
 *
 * @example await compareCampaigns({ paths: { raw: 'raw', derived: 'derived', reports: 'reports' }, a: 'march', b: 'june' }, log)
 */
export async function compareCampaigns(opts: CompareOptions, log: Logger): Promise<CompareResult> {
  if (opts.a === opts.b) throw new NatatlasError(`compare needs two different campaigns, got ${opts.a} twice`);
  const ctx = (campaign: string): StageContext => ({ campaign, paths: opts.paths, log });
  for (const c of [opts.a, opts.b]) {
    if (!MANIFEST.exists(ctx(c))) throw new NatatlasError(`campaign ${c}: no derived data under ${shownRel(ctx(c), '')} (no ${MANIFEST.pattern}): run \`natatlas run --campaign ${c}\` first`);
  }
  const dir = opts.notebooksDir ?? NOTEBOOKS_DIR;
  const notebooks = loadNotebooks(dir).filter((n) => n.meta.for === 'comparison');
  if (notebooks.length === 0) throw new NatatlasError(`no comparison notebook (front matter \`for: comparison\`) in ${dir}: copy natatlas's notebooks/compare.md there`);
  const [da, db] = [new CampaignData(ctx(opts.a)), new CampaignData(ctx(opts.b))];
  for (const d of [da, db]) {
    if (!d.stageRan('fit')) throw new NatatlasError(`campaign ${d.campaign}: the fit stage has not run yet (${d.label('fit')} is missing): run \`natatlas run --campaign ${d.campaign}\``);
  }
  const notes: string[] = [];
  const [attackA, attackB] = [attackOf(da, notes), attackOf(db, notes)];
  const both = da.carriers.filter((c) => db.carriers.includes(c));
  const carriers: CarrierComparison[] = [];
  const samples = new Map<string, TwoEcdfs>();
  for (const carrier of both) {
    const [hasA, hasB] = [da.hasFit(carrier), db.hasFit(carrier)];
    if (!hasA || !hasB) {
      notes.push(`${carrier}: no fitted model in ${[!hasA ? opts.a : null, !hasB ? opts.b : null].filter(Boolean).join(' and ')} (too few joined packets): not compared`);
      continue;
    }
    const [fa, fb] = [da.fit(carrier), db.fit(carrier)];
    const { kind, blockSize } = sampleKind(fa, fb);
    const [sa, sb] = [testSample(await allocationsFor(ctx(opts.a), fa), kind, blockSize), testSample(await allocationsFor(ctx(opts.b), fb), kind, blockSize)];
    await Promise.all([da.noteJoined(carrier), db.noteJoined(carrier)]);
    const c = compareCarrier(fa, fb, { kind, a: sa.values, b: sb.values }, attackA, attackB);
    carriers.push(c);
    samples.set(carrier, twoEcdfs(carrier, kind, [opts.a, opts.b], sa.values, sb.values, c.test));
    log.info(`compare ${opts.a} vs ${opts.b}: ${c.line}`);
  }
  const onlyA = da.carriers.filter((c) => !db.carriers.includes(c));
  const onlyB = db.carriers.filter((c) => !da.carriers.includes(c));
  const out = opts.out ?? path.join(opts.paths.reports, 'compare', `${fileStem(opts.a)}--${fileStem(opts.b)}`);
  const reads = [...da.takeReads(), ...db.takeReads()];
  const result: CompareResult = { out, carriers, onlyA, onlyB, notes };
  const failures: string[] = [];
  await replaceDir(out, async (tmp) => {
    const env: RenderEnv = { figures: new FigureSet(tmp, opts.draft ? 'draft' : undefined), redact: redactor([[tmp, 'out'], [opts.paths.derived, 'derived'], [PACKAGE_ROOT.replace(/[\\/]$/, ''), '.']]) };
    const scope = {
      ...baseScope(),
      a: opts.a,
      b: opts.b,
      comparison: result,
      dataA: da,
      dataB: db,
      compare: compareLibrary(result, opts.a, opts.b, samples, (c) => da.stem(c)),
    };
    const title = (nb: Notebook) => nb.meta.title.replaceAll('{a}', opts.a).replaceAll('{b}', opts.b);
    for (const nb of notebooks) {
      const body = await renderNotebookBody(nb, env, scope);
      for (const c of body.cells.filter((x) => x.status !== 'ok')) failures.push(`${nb.file}:${c.line} (${c.id}): ${c.message ?? c.kind}`);
      const nav = notebooks.length < 2 ? [] : notebooks.map((n) => ({ label: title(n), href: encodeURI(n.meta.output), current: n === nb }));
      await writeFileNamed(path.join(tmp, nb.meta.output), comparePage({ a: opts.a, b: opts.b, result, title: title(nb), body: body.body, nav, notebook: nb, reads }));
    }
    await env.figures.finish();
    await writeFileNamed(path.join(tmp, 'compare.csv'), compareCsv(carriers));
  });
  const shown = path.relative(process.cwd(), out) || out;
  if (failures.length > 0) {
    throw new NatatlasError(`compare ${opts.a} vs ${opts.b}: ${failures.length} notebook failure${failures.length === 1 ? '' : 's'} (pages written to ${shown}, each error shown where it happened): ${failures.join('; ')}`);
  }
  const changed = carriers.filter((c) => c.verdict === 'changed').length;
  log.info(`compare ${opts.a} vs ${opts.b}: ${carriers.length} carriers in both, ${changed} changed -> ${shown}`);
  return result;
}
