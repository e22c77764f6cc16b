/**
 * The driver. For every campaign under the raw root, the stages in pipeline order
 * (stages/index.ts), each reading and writing derived files only through the
 * contracts (contracts/index.ts names each one's file under derived/<campaign>/):
 *
 *   raw/<campaign>/ -> ingest -> join -> fit -> evaluate -> bias -> report -> reports/<campaign>/
 *
 * diagram:begin (stageDiagram(), checked by tests/contracts/stages.test.ts)
 *   ingest    reads  raw/<campaign>/
 *             writes client rows, server rows, timeout probes, nat type, trials, manifest, rejects
 *   join      reads  manifest, client rows, server rows
 *             writes joined rows, summary
 *   fit       reads  manifest, server rows, timeout probes, nat type, joined rows, summary
 *             writes fit
 *   evaluate  reads  raw/<campaign>/carriers.csv, manifest, fit, trials
 *             writes attack, matrix
 *   bias      reads  manifest, fit, summary, attack
 *             writes bias table, bias index
 *   report    reads  notebooks/, manifest, rejects, summary, joined rows, fit, attack, matrix, bias table, bias index
 *             writes reports/<campaign>/
 * diagram:end
 *
 * A stage runs when it is stale: never run, its version or settings changed, the code
 * it imports changed, a file it reads changed, or an output was touched
 * (freshness.ts). A rerun with nothing changed reads no data and says so.
 *
 * Before anything is written: the roots must not overlap (io/roots.ts), the output
 * roots are locked against a second run (io/lock.ts), and dead runs' temp files are
 * removed; folders an older natatlas wrote are marked as its own (adopt.ts).
 */
import { campaignFolder, type Logger, type Paths, type Settings, type StageContext } from './context.ts';
import { StageFailed } from './errors.ts';
import { StampStore } from './freshness.ts';
import { adoptLegacyOutputs } from './adopt.ts';
import { displayPath } from './io/fs-errors.ts';
import { acquireLock, removeDeadTemps, type Lock } from './io/lock.ts';
import { checkCampaignFolder, checkCampaignName, checkRoots } from './io/roots.ts';
import { campaignFolders, findCampaigns } from './raw/layout.ts';
import { STAGES, type Stage } from './stages/index.ts';

export interface RunOptions {
  paths: Paths;
  campaign?: string;
  /** Run these stages even when fresh (a stage command, or --force). */
  force?: boolean;
  /** Restrict to these stages (default: all, in order). */
  stages?: readonly Stage[];
  settings?: Settings;
  /** Recompute every unit inside the stages that run instead of carrying unchanged ones over (--force; units.ts). */
  recompute?: boolean;
  /** Hash every input and output again instead of trusting cached hashes (--verify). */
  verify?: boolean;
}

export interface StageRun {
  campaign: string;
  /** The campaign's folder name under derived/ and reports/. */
  folder: string;
  stage: string;
  ran: boolean;
  reason: string;
}

export async function runPipeline(opts: RunOptions, log: Logger): Promise<StageRun[]> {
  checkRoots(opts.paths);
  if (opts.campaign !== undefined) checkCampaignName(opts.campaign);
  const stages = opts.stages ?? STAGES;
  const campaigns = findCampaigns(opts.paths.raw, opts.campaign);
  const folders = campaignFolders(opts.paths.raw, opts.campaign);
  for (const campaign of campaigns) checkCampaignFolder(opts.paths, campaign);
  const roots: [string, string][] = [[opts.paths.derived, 'derived folder']];
  if (stages.some((s) => s.name === 'report')) roots.push([opts.paths.reports, 'reports folder']);
  const locks: Lock[] = [];
  try {
    for (const [root, what] of roots) {
      const lock = acquireLock(root, what);
      locks.push(lock);
      if (lock.tookOverFrom !== null) log.info(`${what} ${displayPath(root)}: took over the lock of natatlas pid ${lock.tookOverFrom}, which is no longer running`);
      const removed = removeDeadTemps(root, campaigns.map((c) => folders.stem(c)));
      if (removed > 0) log.info(`${what} ${displayPath(root)}: removed ${removed} temp file${removed === 1 ? '' : 's'} left by interrupted runs`);
    }
    return await runLocked(opts, campaigns, folders, stages, log);
  } finally {
    for (const lock of locks.reverse()) lock.release();
  }
}

async function runLocked(opts: RunOptions, campaigns: string[], folders: { stem(name: string): string }, stages: readonly Stage[], log: Logger): Promise<StageRun[]> {
  const report: StageRun[] = [];
  const failed: StageFailed[] = [];
  campaigns: for (const campaign of campaigns) {
    const ctx: StageContext = { campaign, folder: folders.stem(campaign), paths: opts.paths, log, settings: opts.settings ?? {}, recompute: opts.recompute === true };
    for (const dir of adoptLegacyOutputs(ctx)) log.info(`${displayPath(dir)}: written by an earlier natatlas, now marked as its output folder`);
    const stamps = new StampStore(ctx, { verify: opts.verify });
    ctx.hashes = stamps.hashes;
    for (const stage of stages) {
      const state = opts.force ? { fresh: false as const, reason: 'forced' } : await stamps.check(stage);
      const entry = { campaign, folder: campaignFolder(ctx), stage: stage.name };
      if (state.fresh) {
        log.info(`[fresh] ${campaign}: ${stage.name}`);
        report.push({ ...entry, ran: false, reason: 'fresh' });
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
      report.push({ ...entry, ran: true, reason: state.reason });
    }
    await stamps.save();
  }
  const ran = report.filter((r) => r.ran).length;
  const n = new Set(report.map((r) => r.campaign)).size;
  if (ran === 0 && failed.length === 0) log.info(`nothing to do: all ${report.length} stage runs over ${n} campaign${n === 1 ? '' : 's'} are fresh`);
  if (failed.length === 1) throw failed[0]!;
  if (failed.length > 1) throw new StageFailed(failed.map((e) => e.message).join(' | '), failed);
  return report;
}
