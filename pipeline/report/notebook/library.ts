/**
 * What notebook cells call to get the standard charts and tables of a campaign. Each
 * chart function runs the three chart steps (data -> description -> spec) on the
 * campaign's derived files; each table function returns escaped HTML. Anything a
 * notebook needs beyond these it can compute itself with `data`, `aq` and `table`.
 */
import type { CampaignData } from '../data/campaign.ts';
import { MATRIX, type Strategy } from '../../contracts/matrix.ts';
import { ATTACK } from '../../contracts/attack.ts';
import { BIAS_INDEX } from '../../contracts/bias-index.ts';
import { REJECTS } from '../../contracts/rejects.ts';
import { LEVEL_KEYS } from '../../evaluate/analytic.ts';
import { LEVEL_LABELS } from '../format.ts';
import { html, Html, joinHtml, type HtmlValue } from '../html/escape.ts';
import { hashHtml, renderTable } from '../html/table.ts';
import { fmtInt, fmtNum, fmtPct, fmtSeconds, fmtSig } from '../format.ts';
import { portHistogram, portHistogramChart } from '../charts/port-histogram.ts';
import { portEcdf, portEcdfChart } from '../charts/port-ecdf.ts';
import { sendOrder, sendOrderChart } from '../charts/send-order.ts';
import { localExternal, localExternalChart } from '../charts/local-external.ts';
import { KIND_LABEL, timeoutProbes, timeoutProbesChart } from '../charts/timeouts.ts';
import { attackCurves, attackCurvesChart, pairLabel } from '../charts/attack-curve.ts';
import { attackGain, attackGainChart } from '../charts/attack-gain.ts';
import { successMatrix, successMatrixChart } from '../charts/success-matrix.ts';
import type { Chart } from '../charts/chart.ts';
import { matrixGrid, strategiesIn } from '../tables/matrix.ts';
import { BEHAVIOR_SHORT, modelParamsText, modelRow, paramErrors } from '../tables/models.ts';
import type { FigureEntry, FigureSet } from '../figures/registry.ts';
import type { PortSegment } from '../../bias/types.ts';

/** What the library needs to know about the page being built. */
export interface PageLinks {
  /** Relative link to a carrier's page, or null if there is none. */
  carrierHref(carrier: string): string | null;
}

/** Links to a figure's files (SVG, PDF, PNG, CSV). */
export function figureLinks(entry: FigureEntry): Html {
  return joinHtml([
    html`<a href="${entry.svg}">SVG</a>`, ...(entry.pdf ? [html`<a href="${entry.pdf}">PDF</a>`] : []), ...(entry.png ? [html`<a href="${entry.png}">PNG</a>`] : []),
    html`<a href="${entry.csv}">CSV data</a>`,
  ], ' · ');
}

/** A visible note in the page (for skipped sections and caveats). */
export function note(text: HtmlValue): Html {
  return html`<div class="note" role="note">${text}</div>`;
}

function plural(n: number, word: string): string {
  return `${fmtInt(n)} ${word}${n === 1 ? '' : 's'}`;
}

export function carrierLink(links: PageLinks, carrier: string): Html {
  const href = links.carrierHref(carrier);
  return href ? html`<a href="${href}">${carrier}</a>` : html`${carrier}`;
}

/**
 * The fitted marginal and how to name it: after the chosen family, and the family the
 * marginal came from when that differs (block and sequential models condition on the
 * previous port; their marginal over ports is the best independent family's).
 */
function marginalOf(data: CampaignData, carrier: string): { marginal: PortSegment[] | null; family: string | null } {
  if (!data.hasFit(carrier)) return { marginal: null, family: null };
  const fit = data.fit(carrier);
  const family = fit.model.family === fit.marginalFamily ? fit.model.family : `${fit.model.family}, ports marginal ${fit.marginalFamily}`;
  return { marginal: fit.marginal, family };
}

/** The note for a carrier the fit stage skipped. */
function noFit(data: CampaignData, carrier: string): Html {
  return note(`${carrier} has no fitted model: the fit stage skipped it (too few joined packets; see ${data.label(BIAS_INDEX.pattern)} or the fit warning).`);
}

/** The one line a campaign without hole-punch trials gets instead of a matrix. */
export function noTrialsNote(data: CampaignData): Html {
  return note(html`No hole-punching trials in this campaign: add <code>raw/${data.campaign}/trials*.csv</code> (<code>carrier_a,carrier_b,strategy,trial,outcome,packets</code>) to see measured success beside the predicted.`);
}

/** `a.b.0.c` -> value for every leaf of a JSON value, in key order. */
function leaves(value: unknown, prefix = ''): [string, string][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, `${prefix}${i + 1}.`));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leaves(v, `${prefix}${k}.`));
  return [[prefix.slice(0, -1), value === null ? '—' : String(value)]];
}

/** A nat-type.json as a small table: its verdicts, then the raw observations folded away. */
export function natTypeTable(value: Record<string, unknown>): Html {
  const top = Object.entries(value).filter(([, v]) => v === null || typeof v !== 'object').map(([key, v]) => ({ key, value: v === null ? '—' : String(v) }));
  const nested = Object.entries(value).filter(([, v]) => v !== null && typeof v === 'object').flatMap(([k, v]) => leaves(v, `${k}.`)).map(([key, v]) => ({ key, value: v }));
  const verdicts = renderTable(top, { columns: [{ key: 'key', label: 'nat-type.json' }, 'value'], sortable: false, className: 'compact' });
  const details = nested.length === 0 ? '' : html`<details><summary>observations (${fmtInt(nested.length)} values)</summary>${renderTable(nested, { columns: [{ key: 'key', label: 'field', format: (v) => html`<code>${String(v)}</code>` }, 'value'], sortable: false, className: 'compact' })}</details>`;
  return joinHtml([verdicts, details]);
}

export function chartLibrary(data: CampaignData) {
  return {
    /** External-port histogram with the fitted marginal's expected counts. */
    async portHistogram(carrier: string): Promise<Chart> {
      const scan = await data.joined(carrier);
      const m = marginalOf(data, carrier);
      return portHistogramChart(portHistogram(scan, m.marginal, m.family), data.stem(carrier));
    },
    /** Empirical CDF of external ports against the model CDF, with the KS gap. */
    async portEcdf(carrier: string): Promise<Chart> {
      const scan = await data.joined(carrier);
      const m = marginalOf(data, carrier);
      return portEcdfChart(portEcdf(scan, m.marginal, m.family), data.stem(carrier));
    },
    /** External port against send order within the first runs. */
    async sendOrder(carrier: string): Promise<Chart> {
      return sendOrderChart(sendOrder(await data.joined(carrier)), data.stem(carrier));
    },
    /** Local against external port (port preservation shows on the diagonal). */
    async localExternal(carrier: string): Promise<Chart> {
      return localExternalChart(localExternal(await data.joined(carrier)), data.stem(carrier));
    },
    /** Timeout probes, survival curve and fitted timeout (wait and idle), or null without probes. */
    timeouts(carrier: string): Chart | Html {
      if (!data.hasFit(carrier)) return noFit(data, carrier);
      const t = timeoutProbes(data.fit(carrier));
      return t.panels.length === 0 ? note(`${carrier}: no timeout probes (timeouts*.csv) in this campaign.`) : timeoutProbesChart(t, data.stem(carrier));
    },
    /** Success probability against packets per side, naive vs biased; all pairs, or those with `carrier`. */
    attack(carrier?: string): Chart | Html {
      if (carrier !== undefined) data.checkCarrier(carrier);
      const file = data.attack();
      const keep = carrier === undefined ? () => true : (p: { a: string; b: string }) => p.a === carrier || p.b === carrier;
      const curves = attackCurves(file, keep);
      if (curves.pairs.length === 0) return note(`No carrier pair with ${carrier ?? 'any carrier'} in ${data.label(ATTACK.pattern)}.`);
      return attackCurvesChart(curves, carrier, carrier === undefined ? undefined : data.stem(carrier));
    },
    /** Gain of biased over naive at 99% success, one cell per pair (the campaign's attack cost in one figure). */
    attackGain(): Chart | Html {
      const file = data.attack();
      if (file.pairs.length === 0) return note(`No carrier pair in ${data.label(ATTACK.pattern)} (no carrier has a fitted model).`);
      return attackGainChart(attackGain(file));
    },
    /** The carrier-pair success matrix as a heat map (Table I layout). */
    successMatrix(strategies?: Strategy[]): Chart | Html {
      const m = data.matrix();
      if (m.cells.length === 0) return noTrialsNote(data);
      return successMatrixChart(successMatrix(m, strategies));
    },
  };
}

export function tableLibrary(data: CampaignData, links: PageLinks, figures: FigureSet) {
  const link = (c: string) => carrierLink(links, c);
  return {
    /** Rejected rows by carrier and kind of reason, with an example of each. */
    async rejects(limit = 20): Promise<Html> {
      const r = await data.rejects();
      if (r.total === 0) return html`<p>No rows were rejected.</p>`;
      const byCarrier = renderTable(r.byCarrier.map((c) => ({ carrier: c.carrier === '' ? '(campaign files)' : c.carrier, rows: c.count })), {
        columns: [{ key: 'carrier', format: (v) => (v === '(campaign files)' ? String(v) : link(String(v))) }, { key: 'rows', label: 'rejected rows' }],
      });
      const kinds = renderTable(r.kinds.map((k) => ({ carrier: k.carrier, kind: k.kind, count: k.count, example: `${k.example.file}:${k.example.line}`, raw: k.example.raw })), {
        columns: [
          { key: 'carrier', format: (v) => (v === '' ? '(campaign)' : link(String(v))) },
          { key: 'kind', label: 'reason (digits as N)' },
          { key: 'count', label: 'rows' },
          { key: 'example', label: 'first at', format: (v) => html`<code>${String(v)}</code>` },
          { key: 'raw', label: 'raw line', format: (v) => html`<code>${String(v)}</code>` },
        ],
        limit,
      });
      const other = r.otherKinds > 0 ? html`<p class="table-note">${fmtInt(r.otherKinds)} more rows had rarer reasons.</p>` : '';
      return joinHtml([html`<p>${fmtInt(r.total)} rows rejected in all (full list: <code>${data.label(REJECTS.pattern)}</code>).</p>`, byCarrier, kinds, other]);
    },

    /** Mapping behaviour and allocation model per carrier. */
    models(): Html {
      const rows = data.fits().map(modelRow);
      if (rows.length === 0) return note('No carrier has a fitted model yet (run `natatlas fit`).');
      return renderTable(rows, {
        columns: [
          { key: 'carrier', format: (v) => link(String(v)) },
          { key: 'behavior', label: 'mapping', title: 'EIM: endpoint-independent, EDM: endpoint-dependent mapping', format: (v) => html`<abbr title="${String(v)}">${BEHAVIOR_SHORT[String(v)] ?? String(v)}</abbr>` },
          { key: 'pairs', label: 'evidence pairs', title: 'same local port to two server ports while the mapping lived' },
          { key: 'preservation', label: 'port kept', format: (v) => fmtPct(Number(v), 1), numeric: true },
          { key: 'family', label: 'model' },
          { key: 'params', label: 'parameters' },
          { key: 'ks', label: 'KS D', format: (v) => fmtNum(Number(v), 3), numeric: true },
          { key: 'n', label: 'allocations' },
          { key: 'deltaAic', label: 'ΔAIC to next', title: 'how far ahead of the runner-up family the chosen one is', format: (v) => (v === null ? null : fmtInt(Number(v))), numeric: true },
        ],
      });
    },

    /** Wait and idle timeouts per carrier with their intervals. */
    timeouts(): Html {
      const rows = data.fits().flatMap((f) => (['wait', 'idle'] as const).map((kind) => {
        const t = f.timeouts[kind];
        return { carrier: f.carrier, kind, seconds: t?.seconds ?? null, low: t?.low ?? null, high: t?.high ?? null, probes: t?.probes ?? 0, disagreeing: t?.disagreeing ?? 0, method: t?.method ?? '' };
      }));
      if (rows.length === 0) return note('No carrier has timeout fits yet.');
      return renderTable(rows, {
        columns: [
          { key: 'carrier', format: (v) => link(String(v)) },
          { key: 'kind', format: (v) => html`<abbr title="${KIND_LABEL[v as 'wait' | 'idle']}">${String(v)}</abbr>` },
          { key: 'seconds', label: 'timeout (s)', format: (v) => (v === null ? null : fmtNum(Number(v), 1)), numeric: true },
          { key: 'low', label: 'low (s)', format: (v) => (v === null ? null : fmtNum(Number(v), 1)), numeric: true },
          { key: 'high', label: 'high (s)', format: (v) => (v === null ? null : fmtNum(Number(v), 1)), numeric: true },
          { key: 'probes' },
          { key: 'disagreeing', title: 'probes that contradict one fixed timeout' },
          { key: 'method' },
        ],
      });
    },

    /** What bias/index.json lists: one table per carrier, and carriers skipped. */
    biasIndex(): Html {
      const idx = data.biasIndex();
      const tables = idx.tables.map((t) => {
        const b = data.bias(t.carrier);
        return { carrier: t.carrier, file: `bias/${t.file}`, family: t.family, behavior: t.behavior, segments: b.marginal.length, range: `${b.marginal[0]?.[0] ?? '?'}–${b.marginal[b.marginal.length - 1]?.[1] ?? '?'}`, conditional: b.conditional?.kind ?? 'none', sha256: t.sha256 };
      });
      const main = renderTable(tables, {
        columns: [
          { key: 'carrier', format: (v) => link(String(v)) },
          { key: 'family', label: 'model' },
          { key: 'behavior', label: 'mapping' },
          { key: 'segments', label: 'marginal segments' },
          { key: 'range', label: 'port range' },
          { key: 'conditional', label: 'conditional' },
          { key: 'file', format: (v) => html`<code>${String(v)}</code>` },
          { key: 'sha256', format: hashHtml },
        ],
      });
      const skipped = idx.skipped.length === 0 ? '' : joinHtml([html`<p>Carriers without a table:</p>`, renderTable(idx.skipped, { columns: [{ key: 'carrier', format: (v) => link(String(v)) }, 'reason'] })]);
      return joinHtml([main, skipped]);
    },

    /** Packets per side for each success level, naive against biased, per carrier pair. */
    attack(carrier?: string): Html {
      if (carrier !== undefined) data.checkCarrier(carrier);
      const a = data.attack();
      const pairs = a.pairs.filter((p) => carrier === undefined || p.a === carrier || p.b === carrier);
      if (pairs.length === 0) return note(`No carrier pair with ${carrier ?? 'any carrier'} in ${data.label(ATTACK.pattern)}.`);
      const rows = pairs.map((p) => {
        const row: Record<string, unknown> = { pair: pairLabel(p), strategy: p.biased.strategy, cap: p.biased.cap };
        for (const k of LEVEL_KEYS) {
          row[`naive_${k}`] = p.naive[k];
          row[`biased_${k}`] = p.biased[k];
        }
        row.gain = p.gain.p50;
        return row;
      });
      const intCol = (key: string, label: string) => ({ key, label, numeric: true, format: (v: unknown) => (v === null || v === undefined ? null : fmtInt(Number(v))) });
      return renderTable(rows, {
        caption: 'Packets per side to reach each success probability; — means not reached within the simulated budget (cap: the highest success probability the biased strategy reaches).',
        columns: [
          'pair',
          ...LEVEL_KEYS.map((k) => intCol(`naive_${k}`, `naive ${LEVEL_LABELS[k]}`)),
          ...LEVEL_KEYS.map((k) => intCol(`biased_${k}`, `biased ${LEVEL_LABELS[k]}`)),
          { key: 'gain', label: 'gain at 50%', title: 'naive packets / biased packets at 50% success', numeric: true, format: (v) => (v === null || v === undefined ? null : `×${fmtSig(Number(v), 3)}`) },
          { key: 'cap', label: 'biased cap', numeric: true, format: (v) => (v === null || v === undefined ? null : fmtPct(Number(v), 1)) },
          { key: 'strategy', label: 'biased strategy' },
        ],
      });
    },

    /** The uniform baseline: N and the hard/easy birthday costs. */
    attackBaseline(): Html {
      const a = data.attack();
      const rows = [
        { case: 'hard vs hard (both endpoint-dependent)', ...a.naive.hardHard },
        { case: 'easy vs hard (one side endpoint-independent)', ...a.naive.easyHard },
      ];
      return joinHtml([
        html`<p>Uniform guessing over N = ${fmtInt(a.naive.N)} ports. ${a.simulator
          ? html`Biased costs are the punch simulator's (the referee): each NAT's fitted allocation process with its fitted wait timeout, ${fmtInt(a.simulator.mappingLimit)} live mappings per subscriber, ${fmtInt(a.simulator.ratePps)} packets/s, block visits varying by ±${fmtInt(a.simulator.perBlockSpread)} allocations; ${fmtInt(a.simulator.trials)} trials per published plan (${fmtInt(a.simulator.screenTrials)} per screened candidate and per cap), budget ${fmtInt(a.simulator.budget)} packets; seed <code>${a.simulator.seed}</code>.`
          : 'No Monte Carlo simulation in this evaluation: the curves are analytic only.'}</p>`,
        renderTable(rows, { columns: ['case', ...LEVEL_KEYS.map((k) => ({ key: k, label: LEVEL_LABELS[k] }))] }),
      ]);
    },

    /** Table I of the seed paper: one strategy's trials per carrier pair, lower triangle. */
    matrix(strategy: Strategy = 'naive'): Html {
      const m = data.matrix();
      if (m.cells.length === 0) return noTrialsNote(data);
      if (!strategiesIn(m).includes(strategy)) return note(`No ${strategy} trials in ${data.label(MATRIX.pattern)}.`);
      const g = matrixGrid(m, strategy);
      let out = `<div class="table-wrap"><table class="data matrix"><caption>${html`${strategy} strategy: outcomes in trial order (S success, F failure), successes/trials, rate and 95% Wilson interval${g.rows.flat().some((c) => c?.predicted) ? `, and the success the fitted models predict within the packets the trials spent (inside or outside the interval${g.rows.flat().some((c) => c?.predicted?.assumed) ? '; * assumed budget: the trials record no packet counts' : ''})` : ''}`.value}</caption><thead><tr><th scope="col"></th>`;
      for (const c of g.order) out += html`<th scope="col">${c}</th>`.value;
      out += '</tr></thead><tbody>';
      g.rows.forEach((row, i) => {
        out += html`<tr><th scope="row">${g.order[i]!}</th>`.value;
        for (const c of row) {
          if (!c) {
            out += '<td class="empty"></td>';
            continue;
          }
          const letters = [...c.outcomes].map((ch) => (ch === 'S' ? html`<span class="s">S</span>` : html`${ch}`));
          out += html`<td><div class="outcomes mono">${letters}</div><div><strong>${c.countText}</strong> · ${c.rateText}</div><div class="table-note">95% CI ${c.wilsonText}</div>${c.meanPackets === null ? '' : html`<div class="table-note">mean ${fmtInt(c.meanPackets)} packets</div>`}${c.predicted ? html`<div class="table-note predicted${c.predicted.inside ? '' : ' outside'}" title="success the fitted models predict for the ${c.predicted.plan} plan within the trials' budget${c.predicted.assumed ? ' (assumed: the trials record no packet counts)' : ''}${c.sendRateText ? ` at the trials' send rate` : ''}">model ${fmtPct(c.predicted.p, c.predicted.p > 0.99 || c.predicted.p < 0.01 ? 1 : 0)} at ${fmtInt(c.predicted.budget)}${c.predicted.assumed ? '*' : ''} packets${c.sendRateText ? `, ${c.sendRateText}` : ''}: ${c.predicted.inside ? 'inside' : 'outside'}</div>` : ''}${c.unpredicted ? html`<div class="table-note" title="${c.unpredicted}">no prediction: several send rates</div>` : ''}</td>`.value;
        }
        out += '</tr>';
      });
      out += '</tbody></table></div>';
      return new Html(out);
    },

    /** Every family fitted to one carrier, best AIC first. */
    candidates(carrier: string): Html {
      if (!data.hasFit(carrier)) return noFit(data, carrier);
      const fit = data.fit(carrier);
      const best = Math.min(...fit.candidates.map((c) => c.aic));
      const errorsOf = (c: (typeof fit.candidates)[number]) => paramErrors(fit, c);
      const rows = [...fit.candidates].sort((a, b) => a.aic - b.aic).map((c) => ({
        family: c.family, chosen: c.family === fit.model.family ? 'chosen' : '', k: c.k, logLik: c.logLik, aic: c.aic, deltaAic: c.aic - best, ks: c.ks,
        params: Object.entries(c.params).map(([k, v]) => `${k} ${fmtSig(v, 5)}${errorsOf(c)?.[k] !== undefined ? ` ± ${fmtSig(errorsOf(c)![k]!, 2)}` : ''}`).join(', '),
      }));
      return renderTable(rows, {
        caption: 'Standard errors from the observed information (beta) or least squares (sequential). None for min and max (the extremes seen), a block size (picked from powers of two), perBlock (the fit keeps no spread of block visits) or the empirical histogram.',
        columns: [
          'family', { key: 'chosen', label: '' },
          { key: 'k', label: 'parameters', title: 'free parameters counted by AIC' },
          { key: 'logLik', label: 'log-likelihood', format: (v) => fmtNum(Number(v), 1), numeric: true },
          { key: 'aic', label: 'AIC', format: (v) => fmtNum(Number(v), 1), numeric: true },
          { key: 'deltaAic', label: 'ΔAIC', format: (v) => fmtNum(Number(v), 1), numeric: true },
          { key: 'ks', label: 'KS D', format: (v) => fmtNum(Number(v), 4), numeric: true },
          { key: 'params', label: 'parameters (± standard error where defined)' },
        ],
      });
    },

    /** One carrier's facts: counts, mapping, model, timeouts, as a definition list. */
    facts(carrier: string): Html {
      data.checkCarrier(carrier);
      const items: [string, HtmlValue][] = [];
      if (data.hasSummary(carrier)) {
        const s = data.summary(carrier);
        const c = s.counts;
        items.push(
          ['runs', fmtInt(s.runs)],
          ['client rows', `${fmtInt(c.clientRows)} (${plural(c.failed, 'failed send')}, ${plural(c.clientDuplicates, 'duplicate')})`],
          ['sent / joined', `${fmtInt(c.sent)} sent, ${fmtInt(c.joined)} joined, ${fmtInt(c.lost)} lost (${fmtPct(c.sent ? c.lost / c.sent : 0, 1)})`],
          ['server rows', `${fmtInt(c.serverRows)} (${plural(c.strangers, 'stranger')}, ${plural(c.serverDuplicates, 'duplicate')}, ${fmtInt(c.failedSeen)} from failed sends)`],
          ['control / rejected', `${fmtInt(c.controlRows)} end markers, ${fmtInt(c.rejected)} rejected rows`],
          ['clock offset', s.clockOffsetMs ? `median ${fmtInt(s.clockOffsetMs.median)} ms (5th to 95th percentile: ${fmtInt(s.clockOffsetMs.p05)} to ${fmtInt(s.clockOffsetMs.p95)} ms), server receive minus phone send` : '—'],
          ['out of order', `${fmtInt(s.outOfOrder.rows)} packets (${fmtPct(s.outOfOrder.fraction, 1)})`],
        );
      }
      if (data.hasFit(carrier)) {
        const f = data.fit(carrier);
        const e = f.mapping.evidence;
        items.push(
          ['mapping', `${f.mapping.behavior} (${fmtInt(e.pairs)} pairs: ${fmtInt(e.sameExternal)} kept the external port, ${fmtInt(e.differentExternal)} got a new one)`],
          ['port preservation', `${fmtPct(f.mapping.portPreservation, 1)} of ${fmtInt(f.mapping.preservationSample)} packets`],
          ['observed external range', `${f.mapping.observedRange[0]}–${f.mapping.observedRange[1]}`],
          ['model', `${f.model.family}: ${modelParamsText(f.model)} (KS D ${fmtNum(f.model.fit.ks, 3)}, ${fmtInt(f.model.fit.n)} allocations)`],
          ['conditional', f.conditional === null ? 'none (ports independent)' : f.conditional.kind === 'block' ? `block: next port stays in the ${f.conditional.blockSize}-port block with p = ${fmtNum(f.conditional.pSameBlock, 3)}, ${fmtNum(f.conditional.perBlock, 1)} allocations per block` : `delta: ${f.conditional.segments.length} gap segments`],
          ['wait timeout', f.timeouts.wait ? fmtSeconds(f.timeouts.wait.seconds, f.timeouts.wait.low, f.timeouts.wait.high) : '—'],
          ['idle timeout', f.timeouts.idle ? fmtSeconds(f.timeouts.idle.seconds, f.timeouts.idle.low, f.timeouts.idle.high) : '—'],
          ['NAT type', f.natType.source === 'derived' ? `${f.natType.mapping} mapping, filtering ${f.natType.filtering} (derived from the capture)` : natTypeTable(f.natType.value)],
        );
      }
      if (items.length === 0) return note(`${carrier}: no summary or fit in ${data.label('')}.`);
      return html`<dl class="facts">${items.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
    },

    /** Extra columns the server wrote (e.g. Sender IP): distinct values and the most frequent. */
    async extraColumns(carrier: string): Promise<Html> {
      const scan = await data.joined(carrier);
      if (scan.extraColumns.length === 0) return html`<p>No extra columns beyond the capture format.</p>`;
      return renderTable(scan.extraColumns.map((e) => ({
        column: e.name,
        distinct: e.capped ? `more than ${fmtInt(e.distinct)}` : fmtInt(e.distinct),
        top: e.top.map((t) => `${t.value} (${fmtInt(t.count)})`).join(', '),
      })), { columns: ['column', { key: 'distinct', label: 'distinct values', numeric: true }, { key: 'top', label: 'most frequent (packets)' }] });
    },

    /** Raw input files with their sha256 (from the ingest manifest). */
    inputs(carrier?: string): Html {
      if (carrier !== undefined) data.checkCarrier(carrier);
      const files = data.rawFiles(carrier);
      const table = renderTable(files, { columns: [{ key: 'path', format: (v) => html`<code>${String(v)}</code>` }, 'kind', { key: 'sha256', format: hashHtml }] });
      return html`<details class="inputs"><summary>${fmtInt(files.length)} raw input file${files.length === 1 ? '' : 's'} with their sha256 (from the ingest manifest)</summary>${table}</details>`;
    },

    /** The figure and table files written so far (the overview renders last, so it sees them all). */
    figures(): Html {
      const all = figures.figures();
      const rows = all.map((f) => ({ name: f.name, title: f.title }));
      const files = (name: unknown) => html`<span class="nowrap">${figureLinks(all.find((f) => f.name === name)!)}</span>`;
      const figs = renderTable(rows, { columns: [{ key: 'name', label: 'file stem', format: (v) => html`<code>${String(v)}</code>` }, 'title', { key: 'name', label: 'files', format: files }] });
      const tex = figures.tex();
      const texTable = tex.length === 0 ? note('No LaTeX tables: the campaign has no fitted model, trials or attack costs.') : renderTable(tex, { columns: [{ key: 'file', format: (v) => html`<a href="${String(v)}"><code>${String(v)}</code></a>` }, 'description'] });
      return joinHtml([texTable, html`<details class="inputs"><summary>${fmtInt(rows.length)} figures, each as SVG, PDF, PNG and CSV</summary>${figs}</details>`]);
    },
  };
}

export type ChartLibrary = ReturnType<typeof chartLibrary>;
export type TableLibrary = ReturnType<typeof tableLibrary>;
