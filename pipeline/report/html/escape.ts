/**
 * Safe-by-default HTML: every string is text unless it is an `Html` value, which only
 * the page builders make. Data (carrier folder names, extra columns, reject reasons)
 * reaches the page through `html\`...\`` interpolation or `escapeHtml`, so a carrier
 * named `<img src=x onerror=alert(1)>` shows as those characters.
 */

/** A fragment of trusted markup. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text to HTML text or attribute value: `escapeHtml('<b>')` is `'&lt;b&gt;'`. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Markup already known to be safe (built by natatlas, never from data). */
export function raw(markup: string): Html {
  return new Html(markup);
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

/** One value as markup: Html as is, arrays joined, null/undefined/false as nothing, the rest escaped. */
export function toHtml(value: HtmlValue): string {
  if (value instanceof Html) return value.value;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((v: HtmlValue) => toHtml(v)).join('');
  return escapeHtml(String(value));
}

/**
 * Tagged template that escapes every interpolation that is not `Html`:
 * `html\`<td>${name}</td>\`` with name `'<x>'` gives `<td>&lt;x&gt;</td>`.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += toHtml(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Join fragments with a separator (itself trusted markup). */
export function joinHtml(parts: readonly HtmlValue[], sep = ''): Html {
  return new Html(parts.map((p) => toHtml(p)).join(sep));
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>`, `&` and the line
 * separators are \u-escaped, so no data string can close the element or open a comment.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
