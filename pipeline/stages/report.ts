/**
 * report: the stage's entry. The report code (vega, resvg, pdfkit) is imported only
 * when the stage really runs, so every other command starts without it (~2 s); its
 * freshness follows that lazy import all the same (code-closure.ts).
 */
import type { StageContext } from '../context.ts';
import { reportSources } from '../report/inputs.ts';

export { REPORT_VERSION } from '../report/inputs.ts';

/** Files other than derived ones whose contents decide whether the report is current. */
export function reportStageSources(ctx: StageContext): string[] {
  return reportSources(ctx, { notebooksDir: ctx.settings?.notebooks });
}

export async function report(ctx: StageContext): Promise<{ outputs: string[] }> {
  return (await import('../report/index.ts')).report(ctx, { notebooksDir: ctx.settings?.notebooks, draft: ctx.settings?.draft === true });
}

/** What the report stage's stamp records besides its inputs: a draft (no PDF, no PNG), so the next full run draws them. */
export function reportConfig(ctx: StageContext): { draft: true } | undefined {
  return ctx.settings?.draft === true ? { draft: true } : undefined;
}
