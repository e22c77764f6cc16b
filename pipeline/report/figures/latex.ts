/**
 * LaTeX tables for papers (booktabs): each file is a bare `tabular`, so a thesis wraps
 * it in its own `table` with its own caption: `\input{figures/success-matrix.tex}`.
 * Every string from data is escaped; files carry no date, so reruns are identical.
 */
import type { AttackReport } from '../../contracts/attack.ts';
import type { Strategy, SuccessMatrix } from '../../contracts/matrix.ts';
import type { CarrierFit } from '../../contracts/fit.ts';
import { fmtNum } from '../format.ts';
import { matrixGrid, matrixPairs, strategiesIn, cellView } from '../tables/matrix.ts';
import { BEHAVIOR_SHORT, modelParamsText } from '../tables/models.ts';
import { pairLabel } from '../charts/attack-curve.ts';

const TEX_ESCAPES: Record<string, string> = {
  '\\': '\\textbackslash{}', '&': '\\&', '%': '\\%', $: '\\$', '#': '\\#', _: '\\_', '{': '\\{', '}': '\\}',
  '~': '\\textasciitilde{}', '^': '\\textasciicircum{}', '<': '\\textless{}', '>': '\\textgreater{}', '|': '\\textbar{}', '"': "''",
};

/** Text from data, safe in LaTeX: `latexEscape('a_b & 5%')` -> `a\_b \& 5\%`. */
export function latexEscape(text: string): string {
  return text.replace(/[\\&%$#_{}~^<>|"]/g, (c) => TEX_ESCAPES[c]!).replace(/×/g, '$\\times$').replace(/–/g, '--');
}

/** Integer with `{,}` digit groups; null as `--`. */
export function texInt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '--';
  return fmtNum(n, 0).replace(/,/g, '{,}');
}

function texPct(x: number, decimals = 0): string {
  return `${fmtNum(x * 100, decimals)}\\%`;
}

function header(version: string, campaign: string, what: string): string {
  return `% natatlas ${version}, campaign ${latexComment(campaign)}: ${what}\n% Needs \\usepackage{booktabs}. Generated: edit the notebook or the data, not this file.\n`;
}

function latexComment(s: string): string {
  return s.replace(/[\r\n]/g, ' ');
}

/** One strategy's lower-triangular grid, laid out like Table I: `S/n (rate)` per cell. */
export function successMatrixGridTex(m: SuccessMatrix, strategy: Strategy, version: string): string {
  const grid = matrixGrid(m, strategy);
  const cols = grid.order.length;
  let out = header(version, m.campaign, `${strategy} hole-punching trials by carrier pair (successes/trials and rate; row carrier a, column carrier b)`);
  out += `\\begin{tabular}{l${'c'.repeat(cols)}}\n\\toprule\n`;
  out += ` & ${grid.order.map(latexEscape).join(' & ')} \\\\\n\\midrule\n`;
  grid.rows.forEach((row, i) => {
    out += `${latexEscape(grid.order[i]!)} & ${row.map((c) => (c ? `${c.successes}/${c.trials} (${texPct(c.rate)})` : '')).join(' & ')} \\\\\n`;
  });
  out += '\\bottomrule\n\\end{tabular}\n';
  return out;
}

/** Every pair with each strategy's successes/trials, rate and 95% Wilson interval. */
export function successMatrixTex(m: SuccessMatrix, version: string): string {
  const strategies = strategiesIn(m);
  const pairs = matrixPairs(m);
  let out = header(version, m.campaign, 'hole-punching success by carrier pair and strategy, with 95% Wilson score intervals');
  out += `\\begin{tabular}{ll${'rrc'.repeat(strategies.length)}}\n\\toprule\n`;
  out += ` & & ${strategies.map((s) => `\\multicolumn{3}{c}{${s}}`).join(' & ')} \\\\\n`;
  out += `${strategies.map((_s, i) => `\\cmidrule(lr){${3 + i * 3}-${5 + i * 3}}`).join('')}\n`;
  out += `Carrier a & Carrier b & ${strategies.map(() => 'S/$n$ & rate & 95\\% CI').join(' & ')} \\\\\n\\midrule\n`;
  for (const p of pairs) {
    const cells = strategies.map((s) => {
      const c = m.cells.find((x) => x.a === p.a && x.b === p.b && x.strategy === s);
      if (!c) return '-- & -- & --';
      const v = cellView(c);
      return `${v.successes}/${v.trials} & ${texPct(v.rate)} & ${fmtNum(v.wilson[0] * 100, 0)}--${texPct(v.wilson[1])}`;
    });
    out += `${latexEscape(p.a)} & ${latexEscape(p.b)} & ${cells.join(' & ')} \\\\\n`;
  }
  out += '\\bottomrule\n\\end{tabular}\n';
  return out;
}

/** Per carrier: mapping, preservation, model family and parameters, KS, n, timeouts. */
export function modelParamsTex(fits: readonly CarrierFit[], campaign: string, version: string): string {
  let out = header(version, campaign, 'fitted port-allocation model and timeouts per carrier (EIM/EDM: endpoint-independent/-dependent mapping)');
  out += '\\begin{tabular}{llrllrrrr}\n\\toprule\n';
  out += 'Carrier & Mapping & Pres. & Model & Parameters & KS $D$ & $n$ & Wait (s) & Idle (s) \\\\\n\\midrule\n';
  for (const f of fits) {
    const w = f.timeouts.wait?.seconds ?? null;
    const i = f.timeouts.idle?.seconds ?? null;
    out += [
      latexEscape(f.carrier),
      BEHAVIOR_SHORT[f.mapping.behavior] ?? '?',
      texPct(f.mapping.portPreservation, 1),
      f.model.family,
      modelParamsText(f.model, 'latex'),
      fmtNum(f.model.fit.ks, 3),
      texInt(f.model.fit.n),
      w === null ? '--' : fmtNum(w, 1),
      i === null ? '--' : fmtNum(i, 1),
    ].join(' & ') + ' \\\\\n';
  }
  out += '\\bottomrule\n\\end{tabular}\n';
  return out;
}

/** Packets per side for 50%, 99% and 99.9% success, naive against biased, per pair. */
export function attackCostsTex(a: AttackReport, version: string): string {
  let out = header(version, a.campaign, 'packets per side for 50/99/99.9% hole-punching success, naive (uniform) vs biased guessing; -- = not reached within the budget');
  out += '\\begin{tabular}{lrrrrrrr}\n\\toprule\n';
  out += ' & \\multicolumn{3}{c}{Naive} & \\multicolumn{3}{c}{Biased} & Gain \\\\\n\\cmidrule(lr){2-4}\\cmidrule(lr){5-7}\\cmidrule(lr){8-8}\n';
  out += 'Pair & 50\\% & 99\\% & 99.9\\% & 50\\% & 99\\% & 99.9\\% & at 50\\% \\\\\n\\midrule\n';
  for (const p of a.pairs) {
    const gain = p.gain.p50;
    out += [
      latexEscape(pairLabel(p)),
      texInt(p.naive.p50), texInt(p.naive.p99), texInt(p.naive.p999),
      texInt(p.biased.p50), texInt(p.biased.p99), texInt(p.biased.p999),
      gain === null || !Number.isFinite(gain) ? '--' : `$${fmtNum(gain, gain >= 100 ? 0 : 1).replace(/,/g, '{,}')}\\times$`,
    ].join(' & ') + ' \\\\\n';
  }
  out += '\\bottomrule\n\\end{tabular}\n';
  return out;
}
