/** `natatlas compare A B`: flags to CompareOptions. */
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { NatatlasError } from '../errors.ts';
import type { Logger } from '../context.ts';

export const COMPARE_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  raw: { type: 'string', default: 'raw' },
  derived: { type: 'string', default: 'derived' },
  reports: { type: 'string', default: 'reports' },
  out: { type: 'string' },
  notebooks: { type: 'string' },
  draft: { type: 'boolean' },
};

export const COMPARE_HELP = `usage: natatlas compare CAMPAIGN_A CAMPAIGN_B [--derived derived] [--reports reports] [--out DIR] [--notebooks DIR] [--draft]

Compares two campaigns' derived data (run both through \`natatlas run\` first), carrier by
carrier for the carriers both have: model and parameters side by side with standard errors,
a two-sample Kolmogorov-Smirnov test on the allocations (one port per block visit for
block NATs, steps for sequential ones), timeouts apart beyond their brackets, mapping class
and attack cost. One verdict per carrier: changed when the allocations differ (p < 0.001),
the mapping class differs or a timeout moved beyond both brackets. Renders the comparison
notebooks (front matter \`for: comparison\`; natatlas's notebooks/compare.md writes
DIR/index.html, self-contained, with DIR/figures/), writes DIR/compare.csv and prints the
verdicts. A notebook cell that fails makes the command exit 1 (the page shows the error).

  --derived DIR    stage outputs (default derived)
  --reports DIR    where the default output goes (default reports)
  --out DIR        output folder (default REPORTS/compare/A--B)
  --notebooks DIR  render the comparison notebooks in DIR (default natatlas's notebooks/)
  --draft          no PDF or PNG of each figure (SVG and CSV only), as for the report`;

export async function compareCommand(values: Record<string, unknown>, log: Logger): Promise<void> {
  const names = (values._ as string[] | undefined) ?? [];
  if (names.length !== 2) throw new NatatlasError(`compare takes two campaign names, got ${names.length === 0 ? 'none' : names.map((n) => JSON.stringify(n)).join(' ')} (see natatlas compare --help)`);
  const paths = { raw: path.resolve(values.raw as string), derived: path.resolve(values.derived as string), reports: path.resolve(values.reports as string) };
  // Loaded here, not at startup: it brings the report's data layer and charts (~1 s).
  const { compareCampaigns } = await import('./index.ts');
  const result = await compareCampaigns({ paths, a: names[0]!, b: names[1]!, out: typeof values.out === 'string' ? path.resolve(values.out) : undefined, notebooksDir: typeof values.notebooks === 'string' ? path.resolve(values.notebooks) : undefined, draft: values.draft === true }, log);
  // The verdicts are the command's product: one line per carrier on stdout, then the page.
  for (const c of result.carriers) process.stdout.write(`${c.line}\n`);
  process.stdout.write(`${path.relative(process.cwd(), path.join(result.out, 'index.html'))}\n`);
}
