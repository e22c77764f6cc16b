/**
 * Notebook source: Markdown with front matter and fenced ```js code cells (see
 * notebooks/README.md). Parsing splits the file into prose blocks and cells, each cell
 * with a content-hash id (`cell-` + 8 hex of its trimmed source, `-2`, `-3` for
 * repeats), so editing one cell never renames another and links to a cell survive
 * unrelated edits.
 */
import MarkdownIt from 'markdown-it';
import { NatatlasError } from '../../errors.ts';
import { shortHash } from '../names.ts';
import { notebookText, parseFrontMatter } from './front-matter.ts';

export type NotebookFor = 'campaign' | 'carrier' | 'comparison';
const FOR_VALUES: readonly NotebookFor[] = ['campaign', 'carrier', 'comparison'];

export interface NotebookMeta {
  title: string;
  /**
   * `campaign`: one page; `carrier`: one page per carrier, with `carrier` set in every cell;
   * `comparison`: rendered by `natatlas compare` over two campaigns, never by the report stage.
   */
  for: NotebookFor;
  /** Output file name; `{carrier}` stands for the carrier's file stem. */
  output: string;
  /** Position in the page navigation (lower first; default 100, then by name). */
  order: number;
  /** Label in the page navigation (campaign notebooks; default the title). */
  nav: string;
}

export interface ProseBlock {
  kind: 'prose';
  markdown: string;
  /** 1-based line of the block's first line in the notebook file. */
  line: number;
}

export interface CellBlock {
  kind: 'cell';
  id: string;
  source: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** Also show the code (```js echo). */
  echo: boolean;
}

export type Block = ProseBlock | CellBlock;

export interface Notebook {
  /** File name without `.md`. */
  name: string;
  /** As shown to readers, e.g. `notebooks/overview.md`. */
  file: string;
  meta: NotebookMeta;
  blocks: Block[];
  /** sha256 of the whole source, for the provenance footer. */
  sha256: string;
}

const parser = new MarkdownIt('commonmark');

/** The content hash behind a cell id: trailing spaces and blank edges do not count. */
export function cellHash(source: string): string {
  return shortHash(source.split('\n').map((l) => l.replace(/\s+$/, '')).join('\n').trim());
}

/**
 * Parse a notebook. `name` is the file name without `.md`; `file` labels messages.
 *
 * @example parseNotebook('---\ntitle: Hi\n---\nText\n```js\n1 + 1\n```\n', 'hi', 'notebooks/hi.md')
 */
export function parseNotebook(source: string, name: string, file: string): Notebook {
  const text = notebookText(source);
  const lines = text.split('\n');
  const { meta: fm, bodyStart } = parseFrontMatter(lines, file);
  const forValue = (fm.for ?? 'campaign').trim() as NotebookFor;
  if (!FOR_VALUES.includes(forValue)) {
    throw new NatatlasError(`${file}: front matter \`for: ${forValue}\` must be \`campaign\`, \`carrier\` or \`comparison\``);
  }
  const order = fm.order === undefined ? 100 : Number(fm.order);
  if (!Number.isFinite(order)) throw new NatatlasError(`${file}: front matter \`order: ${fm.order}\` is not a number`);
  const output = fm.output ?? (forValue === 'carrier' ? `${name}-{carrier}.html` : `${name}.html`);
  if (!/^[A-Za-z0-9{][A-Za-z0-9._{}-]*\.html$/.test(output) || output.includes('/')) {
    throw new NatatlasError(`${file}: front matter \`output: ${output}\` must be a plain file name ending in .html`);
  }
  if (forValue === 'carrier' && !output.includes('{carrier}')) {
    throw new NatatlasError(`${file}: a \`for: carrier\` notebook's output must contain {carrier} (got ${output})`);
  }
  const meta: NotebookMeta = { title: fm.title ?? name, for: forValue, output, order, nav: fm.nav ?? fm.title ?? name };

  const body = lines.slice(bodyStart);
  const tokens = parser.parse(body.join('\n'), {});
  const blocks: Block[] = [];
  const seen = new Map<string, number>();
  let proseFrom = 0;
  const pushProse = (to: number) => {
    const md = body.slice(proseFrom, to).join('\n');
    if (md.trim().length > 0) blocks.push({ kind: 'prose', markdown: md, line: bodyStart + proseFrom + 1 });
  };
  for (const t of tokens) {
    if (t.type !== 'fence' || t.level !== 0 || !t.map) continue;
    const info = t.info.trim().split(/\s+/);
    if (info[0] !== 'js') continue;
    const [start, end] = t.map;
    pushProse(start);
    const hash = cellHash(t.content);
    const n = (seen.get(hash) ?? 0) + 1;
    seen.set(hash, n);
    blocks.push({ kind: 'cell', id: n === 1 ? `cell-${hash}` : `cell-${hash}-${n}`, source: t.content, line: bodyStart + start + 1, echo: info.includes('echo') });
    proseFrom = end;
  }
  pushProse(body.length);
  return { name, file, meta, blocks, sha256: shortHash(text, 64) };
}
