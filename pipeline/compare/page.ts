/**
 * The pieces of a comparison page, for the `compare` notebook (notebooks/compare.md)
 * to arrange: verdicts, per carrier the model side by side with standard errors, the
 * allocation test and its ECDFs, timeouts and attack cost; and the page shell (the
 * report's: strict CSP, inlined stylesheet and script, nothing fetched).
 */
import * as vega from 'vega';
import { html, joinHtml, type Html } from '../report/html/escape.ts';
import { renderPage, type NavLink } from '../report/html/page.ts';
import { hashHtml, renderTable } from '../report/html/table.ts';
import { fmtInt, fmtPct, fmtSeconds, fmtSig } from '../report/format.ts';
import { note } from '../report/notebook/library.ts';
import { BEHAVIOR_SHORT } from '../report/tables/models.ts';
import type { ReadRecord } from '../report/data/campaign.ts';
import { natatlasVersion } from '../report/index.ts';
import { slugify } from '../report/names.ts';
import { ALPHA, pText, type CarrierComparison, type Reached } from './carrier.ts';
import type { CompareResult } from './index.ts';
import { twoEcdfsChart, type TwoEcdfs } from './chart.ts';
import type { Chart } from '../report/charts/chart.ts';
import type { Notebook } from '../report/notebook/parse.ts';
import { NatatlasError } from '../errors.ts';

const num = (v: number | null, digits = 4) => (v === null ? null : fmtSig(v, digits));

function verdicts(carriers: readonly CarrierComparison[]): Html {
  if (carriers.length === 0) return note('No carrier has a fitted model in both campaigns.');
  return renderTable(carriers.map((c) => ({ carrier: c.carrier, verdict: c.verdict, p: c.test?.p ?? null, line: c.line })), {
    columns: [
      { key: 'carrier', format: (v) => html`<a href="#${slugify(String(v))}">${String(v)}</a>` },
      { key: 'verdict', format: (v) => html`<strong class="${v === 'changed' ? 'changed' : 'same'}">${String(v)}</strong>` },
      { key: 'p', label: 'KS p', numeric: true, format: (v) => (v === null ? null : pText(Number(v))) },
      { key: 'line', label: 'verdict in one line' },
    ],
  });
}

/** A 99% cost, or what the plan reached within the budget when 99% is out of reach. */
function cost(p99: number | null, reached: Reached | null): string {
  if (p99 !== null) return fmtInt(p99);
  return reached ? `not reached (${fmtPct(reached.cap, 1)} within ${fmtInt(reached.budget)})` : 'not priced';
}

function carrierSection(c: CarrierComparison, a: string, b: string): Html {
  const params = renderTable(c.params.map((p) => ({ ...p })), {
    caption: c.family[0] === c.family[1] ? `${c.family[0]} in both; z = (A - B) / √(SE_A² + SE_B²) where both have errors` : `family ${c.family[0]} in ${a}, ${c.family[1]} in ${b}: parameters are not comparable one to one`,
    columns: [
      'name',
      { key: 'a', label: a, numeric: true, format: (v, r) => (v === null ? null : `${num(Number(v))}${r.seA !== null ? ` ± ${fmtSig(Number(r.seA), 2)}` : ''}`) },
      { key: 'b', label: b, numeric: true, format: (v, r) => (v === null ? null : `${num(Number(v))}${r.seB !== null ? ` ± ${fmtSig(Number(r.seB), 2)}` : ''}`) },
      { key: 'z', numeric: true, format: (v) => (v === null ? null : fmtSig(Number(v), 3)) },
      { key: 'p', label: 'p (two-sided)', numeric: true, format: (v) => (v === null ? null : pText(Number(v))) },
    ],
    sortable: false,
  });
  const tout = (t: CarrierComparison['timeouts'][number]['a']) => (t ? fmtSeconds(t.seconds, t.low, t.high) : null);
  const timeouts = renderTable(c.timeouts.map((t) => ({ kind: t.kind, a: tout(t.a), b: tout(t.b), beyond: t.beyond ? 'yes' : 'no' })), {
    columns: ['kind', { key: 'a', label: `${a} [bracket]` }, { key: 'b', label: `${b} [bracket]` }, { key: 'beyond', label: 'apart beyond both brackets' }],
    sortable: false,
  });
  const test = c.test
    ? html`<p>Two-sample Kolmogorov–Smirnov test on ${c.test.kind === 'ports' ? 'the freshly allocated ports' : c.test.kind === 'block visits' ? 'one port per block visit (ports inside a block are not independent draws)' : 'the steps between consecutive allocations (a sequential NAT’s counter position says nothing)'}: D = ${fmtSig(c.test.d, 3)}, ${fmtInt(c.test.n[0])} against ${fmtInt(c.test.n[1])} values, p = ${pText(c.test.p)} (changed below ${ALPHA}).</p>`
    : note('No allocations to test.');
  const mapping = html`<p>Mapping: ${BEHAVIOR_SHORT[c.mapping[0]] ?? c.mapping[0]} in ${a}, ${BEHAVIOR_SHORT[c.mapping[1]] ?? c.mapping[1]} in ${b}${c.mapping[0] === c.mapping[1] ? '' : html` <strong>(changed)</strong>`}.</p>`;
  const attack = c.attack
    ? html`<p>Biased packets per side for 99% success (${c.carrier} against itself): ${cost(c.attack.a, c.attack.reached[0])} in ${a}, ${cost(c.attack.b, c.attack.reached[1])} in ${b}${c.attack.ratio === null ? '' : ` (×${fmtSig(c.attack.ratio, 3)})`}.</p>`
    : html`<p>Attack cost: not compared (see the note above).</p>`;
  return html`<h2>${c.carrier}</h2><p class="verdict"><strong class="${c.verdict}">${c.verdict}</strong>: ${c.line}</p>${test}${mapping}<h4>Model parameters</h4>${params}<h4>Timeouts</h4>${timeouts}${attack}`;
}

/** What a comparison notebook's cells can use as `compare` (documented in notebooks/README.md). */
export function compareLibrary(r: CompareResult, a: string, b: string, samples: ReadonlyMap<string, TwoEcdfs>, stem: (carrier: string) => string) {
  const compared = (carrier: string) => {
    const c = r.carriers.find((x) => x.carrier === carrier);
    if (!c) throw new NatatlasError(`${carrier} is not compared (compared: ${r.carriers.map((x) => x.carrier).join(', ') || 'none'})`);
    return c;
  };
  return {
    /** The significance level of the allocation test. */
    alpha: ALPHA,
    /** Why carriers or costs are missing, and carriers only one campaign has. */
    notes: (): Html => joinHtml([
      ...r.notes.map((n) => note(n)),
      r.onlyA.length ? html`<p>Only in ${a}: ${r.onlyA.join(', ')}.</p>` : '',
      r.onlyB.length ? html`<p>Only in ${b}: ${r.onlyB.join(', ')}.</p>` : '',
    ]),
    verdicts: (): Html => verdicts(r.carriers),
    csvLink: (): Html => html`<p class="table-note">The same rows as CSV: <a href="compare.csv"><code>compare.csv</code></a>.</p>`,
    /** One carrier's section: verdict, test, mapping, parameters, timeouts, attack cost. */
    carrier: (carrier: string): Html => carrierSection(compared(carrier), a, b),
    /** One carrier's test sample in both campaigns as two ECDFs (figure `<carrier>-compare-ecdf`). */
    allocations: (carrier: string): Chart => twoEcdfsChart(samples.get(compared(carrier).carrier)!, stem(carrier)),
  };
}

/** The page shell around a rendered comparison notebook: title, subtitle and provenance. */
export function comparePage(opts: { a: string; b: string; result: CompareResult; title: string; body: Html; nav: NavLink[]; notebook: Notebook; reads: readonly ReadRecord[] }): string {
  const { a, b, result: r, reads } = opts;
  const footer = html`<footer class="provenance"><p>Built by natatlas ${natatlasVersion()} (vega ${vega.version}) from <code>${opts.notebook.file}</code> (sha256 ${hashHtml(opts.notebook.sha256)}) over the derived data of campaigns <code>${a}</code> and <code>${b}</code>. No clock time is recorded: the same inputs give the same bytes.</p><details><summary>Derived files read and their sha256 (${reads.length})</summary>${renderTable(reads, { columns: [{ key: 'file', format: (v) => html`<code>${String(v)}</code>` }, { key: 'sha256', format: hashHtml }], sortable: false })}</details></footer>`;
  return renderPage({
    title: opts.title,
    subtitle: html`Campaign <strong>${a}</strong> against <strong>${b}</strong> · ${r.carriers.length} carrier${r.carriers.length === 1 ? '' : 's'} compared, ${r.carriers.filter((c) => c.verdict === 'changed').length} changed`,
    nav: opts.nav,
    body: opts.body,
    footer,
  });
}
