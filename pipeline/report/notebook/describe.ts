/**
 * Prose from the data, for notebooks: what kind of campaign this is and what its trials
 * can say, in sentences whose every number and name comes from the derived files, so a
 * lab campaign with 20 trials per cell never reads "ten trials between phones".
 */
import type { CampaignData } from '../data/campaign.ts';
import { html, joinHtml, type Html, type HtmlValue } from '../html/escape.ts';
import { fmtInt, fmtPct } from '../format.ts';
import { wilson } from '../../evaluate/trials.ts';
import { matrixPairs, strategiesIn } from '../tables/matrix.ts';
import { noTrialsNote } from './library.ts';

const KIND_TEXT = {
  lab: 'captured through Linux netfilter NATs in network namespaces (`natatlas lab`, settings in lab.json)',
  simulated: 'written by the capture simulator (`natatlas simulate`; simulation.json holds the true parameters)',
  capture: 'captured on phones',
} as const;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${fmtInt(n)} ${n === 1 ? one : many}`;
}

function list(items: readonly HtmlValue[]): Html {
  if (items.length <= 1) return joinHtml(items);
  return joinHtml([joinHtml(items.slice(0, -1), ', '), ' and ', items[items.length - 1]!]);
}

export function describeLibrary(data: CampaignData) {
  return {
    /** One paragraph: carriers, how the captures were made, the README's title. */
    campaign(): Html {
      const about = data.about();
      const packets = data.summaries().reduce((s, x) => s + x.counts.joined, 0);
      const kind = KIND_TEXT[about.kind].split('`');
      // Backticks in the kind text mark code.
      const kindHtml = joinHtml(kind.map((part, i) => (i % 2 === 1 ? html`<code>${part}</code>` : part)));
      const trials = data.manifest.trials.rows;
      return html`<p>Campaign <strong>${data.campaign}</strong>${about.title ? html` (“${about.title}”)` : ''}: ${plural(data.carriers.length, 'carrier')}, ${fmtInt(packets)} joined packets, ${kindHtml}; ${trials > 0 ? plural(trials, 'hole-punch trial') : 'no hole-punch trials'}.</p>`;
    },

    /** What the trials are and how far to trust their rates; one line when there are none. */
    trials(): Html {
      const m = data.matrix();
      if (m.cells.length === 0) return noTrialsNote(data);
      const about = data.about();
      const total = m.cells.reduce((s, c) => s + c.trials, 0);
      const per = m.cells.map((c) => c.trials);
      const [lo, hi] = [Math.min(...per), Math.max(...per)];
      const strategies = strategiesIn(m).map((s) => `${s} (${fmtInt(m.cells.filter((c) => c.strategy === s).reduce((t, c) => t + c.trials, 0))})`);
      const files = data.rawFiles().filter((f) => f.kind === 'trials').map((f) => html`<code>${f.path}</code>`);
      const between = about.kind === 'lab' ? ' between the lab’s NATs' : about.kind === 'capture' ? ' between phones' : '';
      const parts: HtmlValue[] = [
        html`<p><strong>${fmtInt(total)}</strong> hole-punch trials${between} in ${plural(matrixPairs(m).length, 'carrier pair')}, by strategy ${list(strategies)}, from ${list(files)}. One cell per pair, laid out as Table I of the seed paper: outcomes in trial order, successes out of trials, the rate and its 95% Wilson interval. With ${lo === hi ? fmtInt(lo) : `${fmtInt(lo)}–${fmtInt(hi)}`} trials per cell the intervals are wide (none of ${fmtInt(hi)} succeeding still allows a rate up to ${fmtPct(wilson(0, hi)[1])}): read the rates with them.</p>`,
      ];
      const aliases = Object.entries(m.aliases ?? {});
      if (aliases.length > 0) parts.push(html`<p>Trial names mapped to capture folders by <code>raw/${data.campaign}/carriers.csv</code>: ${list(aliases.map(([from, to]) => html`${from} → ${to}`))}.</p>`);
      const unmatched = m.carriers.filter((c) => !data.carriers.includes(c));
      if (unmatched.length > 0) parts.push(html`<p>Trial carriers with no capture folder (no prediction; map them in <code>raw/${data.campaign}/carriers.csv</code>): ${list(unmatched)}.</p>`);
      const predicted = m.cells.filter((c) => c.predicted);
      if (predicted.length > 0) {
        const inside = predicted.filter((c) => c.predicted!.inside).length;
        const assumed = predicted.find((c) => c.predicted!.assumed)?.predicted!.budget;
        parts.push(html`<p>The fitted models predict ${plural(predicted.length, 'cell')} of ${fmtInt(m.cells.length)}; ${fmtInt(inside)} of those predictions lie inside the measured 95% interval${assumed ? ` (the trials record no packet counts, so naive cells assume the seed’s protocol ran to its limit of ${fmtInt(assumed)} packets per side)` : ''}. Naive cells are predicted by the textbook closed form, which ignores mapping timeouts and the NAT’s mapping limit that real attempts run into; biased cells by the generative referee running the pair’s published plan with each NAT’s fitted wait timeout and a mapping limit.</p>`);
      }
      const rates = [...new Set(predicted.filter((c) => c.predicted!.ratePps !== null && !c.predicted!.rateAssumed).map((c) => c.predicted!.ratePps!))].sort((x, y) => x - y);
      if (rates.length > 0) parts.push(html`<p>Biased cells are predicted at the send rate their trials record (${list(rates.map((r) => `${fmtInt(r)} packets/s`))} per side): the referee reruns the pair’s published plan at that rate, since mappings expire and allocation moves per second, not per packet.</p>`);
      const unpredicted = m.cells.filter((c) => c.unpredicted);
      if (unpredicted.length > 0) parts.push(html`<p>No prediction for ${list(unpredicted.map((c) => `${c.a}/${c.b} ${c.strategy}`))}: ${unpredicted[0]!.unpredicted!}${unpredicted.length > 1 ? ' (and likewise for the others)' : ''}.</p>`);
      return joinHtml(parts);
    },
  };
}

export type DescribeLibrary = ReturnType<typeof describeLibrary>;
