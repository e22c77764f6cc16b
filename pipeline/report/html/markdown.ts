/**
 * Markdown to HTML. Notebook prose is trusted (an analyst wrote it) and may hold
 * inline HTML; text a cell builds with `md\`...\`` is rendered with HTML disabled and
 * every interpolated value backslash-escaped, so data can never become markup or a link.
 */
import MarkdownIt from 'markdown-it';
import { Html, type HtmlValue } from './escape.ts';

const prose = new MarkdownIt({ html: true, linkify: false, typographer: false });
const cellMarkdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

/** Render trusted notebook prose. */
export function renderProse(markdown: string): Html {
  return new Html(prose.render(markdown));
}

/** Backslash-escape Markdown punctuation so the text reads literally. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>&~=^"':;$%@]/g, '\\$&').replace(/\n/g, ' ');
}

/**
 * Tagged template for Markdown built in a cell: `md\`**${carrier}** has ${n} runs\``.
 * Interpolated Html (a table, a link) is kept as markup; anything else is literal text.
 */
export function md(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  const holes: string[] = [];
  let src = strings[0]!;
  values.forEach((v, i) => {
    if (v instanceof Html) {
      // A private-use placeholder survives Markdown untouched and is swapped for the markup afterwards.
      holes.push(v.value);
      src += `${HOLE}${holes.length - 1}${HOLE}`;
    } else {
      src += escapeMarkdown(plain(v).replaceAll(HOLE, ''));
    }
    src += strings[i + 1]!;
  });
  const out = cellMarkdown.render(src).replace(HOLES, (_all, n: string) => holes[Number(n)] ?? '');
  return new Html(out);
}

const HOLE = '\uE000';
const HOLES = /\uE000(\d+)\uE000/g;

function plain(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return v.map((x: HtmlValue) => plain(x)).join(', ');
  return String(v);
}
