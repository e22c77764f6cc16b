/**
 * The driver. For every campaign under the raw root, in pipeline order:
 *
 *   raw/<campaign>/ --1 ingest--> derived/<campaign>/ingest/ --2 join--> joined/, summary/
 *
 * (fit, bias, evaluate and report join this list as they land.) A stage runs when it
 * is stale: never run, its version changed, an input's hash changed, or an output
 * was touched. A rerun with nothing changed reads no data and says so.
 */
import { type Logger, type Paths, type Settings, type StageContext } from './context.ts';
import { StageFailed } from './errors.ts';
import { StampStore } from './freshness.ts';
import { findCampaigns } from './raw/layout.ts';
import { STAGES, type Stage } from './stages/index.ts';

export interface RunOptions {
  paths: Paths;
  campaign?: string;
  /** Run these stages even when fresh (a stage command, or --force). */
  force?: boolean;
  /** Restrict to these stages (default: all, in order). */
  stages?: readonly Stage[];
  settings?: Settings;
}

export interface StageRun {
  campaign: string;
  stage: string;
  ran: boolean;
  reason: string;
}

export async function runPipeline(opts: RunOptions, log: Logger): Promise<StageRun[]> {
  const report: StageRun[] = [];
  const failed: StageFailed[] = [];
  const stages = opts.stages ?? STAGES;
  campaigns: for (const campaign of findCampaigns(opts.paths.raw, opts.campaign)) {
    const ctx: StageContext = { campaign, paths: opts.paths, log, settings: opts.settings ?? {} };
    const stamps = new StampStore(ctx);
    for (const stage of stages) {
      const state = opts.force ? { fresh: false as const, reason: 'forced' } : await stamps.check(stage);
      if (state.fresh) {
        log.info(`[fresh] ${campaign}: ${stage.name}`);
        report.push({ campaign, stage: stage.name, ran: false, reason: 'fresh' });
        continue;
      }
      log.info(`[stale] ${campaign}: ${stage.name} (${state.reason})`);
      let outputs: string[];
      try {
        ({ outputs } = await stage.run(ctx));
      } catch (e) {
        // Outputs written but wrong (a report with failed cells): never stamped, so the next run retries.
        if (!(e instanceof StageFailed)) throw e;
        failed.push(e);
        await stamps.save();
        continue campaigns;
      }
      await stamps.record(stage, outputs);
      report.push({ campaign, stage: stage.name, ran: true, reason: state.reason });
    }
    await stamps.save();
  }
  const ran = report.filter((r) => r.ran).length;
  const campaigns = new Set(report.map((r) => r.campaign)).size;
  if (ran === 0 && failed.length === 0) log.info(`nothing to do: all ${report.length} stage runs over ${campaigns} campaign${campaigns === 1 ? '' : 's'} are fresh`);
  if (failed.length === 1) throw failed[0]!;
  if (failed.length > 1) throw new StageFailed(failed.map((e) => e.message).join(' | '), failed);
  return report;
}
