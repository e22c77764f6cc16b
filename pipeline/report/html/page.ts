/**
 * The page shell: a strict Content-Security-Policy (only the inlined scripts and the
 * stylesheet, by hash; no network, no eval), page navigation, a table of contents built
 * from the body's h2/h3 headings, and the provenance footer. Nothing here reads a
 * clock, so the same inputs give the same bytes.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { escapeHtml, html, Html, joinHtml, toHtml, type HtmlValue } from './escape.ts';
import { cspHash, runtimeScripts } from './runtime.ts';
import { slugify } from '../names.ts';

let css: string | null = null;

export function stylesheet(): string {
  css ??= fs.readFileSync(fileURLToPath(new URL('./style.css', import.meta.url)), 'utf8');
  return css;
}

export interface NavLink {
  label: string;
  href: string;
  current: boolean;
}

export interface Heading {
  level: 2 | 3;
  id: string;
  text: string;
}

/**
 * Give every h2/h3 in `body` an id (from its text, made unique) and list them.
 * Headings that already carry attributes are left alone.
 */
export function anchorHeadings(body: string): { body: string; headings: Heading[] } {
  const used = new Map<string, number>();
  const headings: Heading[] = [];
  const out = body.replace(/<h([23])>([\s\S]*?)<\/h\1>/g, (_all, level: string, inner: string) => {
    const text = decodeEntities(inner.replace(/<[^>]*>/g, '')).trim();
    const base = slugify(text);
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    const id = n === 1 ? base : `${base}-${n}`;
    headings.push({ level: Number(level) as 2 | 3, id, text });
    return `<h${level} id="${id}">${inner}</h${level}>`;
  });
  return { body: out, headings };
}

function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

export interface PageParts {
  title: string;
  subtitle: HtmlValue;
  nav: NavLink[];
  body: Html;
  footer: Html;
}

/** The whole HTML document. */
export function renderPage(p: PageParts): string {
  const { body, headings } = anchorHeadings(p.body.value);
  const scripts = runtimeScripts();
  const style = stylesheet();
  const csp = [
    "default-src 'none'",
    `script-src ${scripts.map((s) => s.csp).join(' ')}`,
    `style-src ${cspHash(style)}`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const toc = headings.length === 0
    ? ''
    : html`<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>${headings.map((h) => html`<li class="h${h.level}"><a href="#${h.id}">${h.text}</a></li>`)}</ol></nav>`.value;
  const nav = joinHtml(p.nav.map((l) => (l.current ? html`<a href="${l.href}" aria-current="page">${l.label}</a>` : html`<a href="${l.href}">${l.label}</a>`)));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="natatlas">
<title>${escapeHtml(p.title)}</title>
<style>${style}</style>
</head>
<body>
<div class="page">
<header class="top">
<nav class="pages" aria-label="Pages">${nav.value}</nav>
<h1>${escapeHtml(p.title)}</h1>
<p class="sub">${toHtml(p.subtitle)}</p>
</header>
${toc}
<main>
${body}
</main>
${p.footer.value}
</div>
${scripts.map((s) => `<script>${s.source}</script>`).join('\n')}
</body>
</html>
`;
}
