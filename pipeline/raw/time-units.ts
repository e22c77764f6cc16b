/**
 * Warnings about the time units of a carrier's capture files, after ingest has read them
 * (each time converted to milliseconds by its magnitude, see `FileTimes`). A file in
 * seconds, or a run whose phone and server files disagree, still gives a correct clock
 * offset after the conversion, but the user should know and fix the tool that wrote it;
 * a run that mixes epoch and relative times gives an offset that means nothing.
 */
import type { FileTimes, TimeUnit } from './formats.ts';

export interface CaptureTimes {
  /** The file's path as the rejects and warnings name it. */
  rel: string;
  side: 'client' | 'server';
  run: string;
  times: FileTimes;
}

const FIX = 'Fix: make the capture tool write epoch milliseconds (or multiply the Time column by 1000) and rerun';

/** The unit most of a file's times are in; null when it has no readable time. */
export function mainUnit(t: FileTimes): TimeUnit | null {
  if (t.first === null) return null;
  if (t.first.unit === 'relative-ms') return 'relative-ms';
  return t.counts.s > t.counts.ms ? 's' : 'ms';
}

/** One warning per file read (partly) in seconds, and per run whose two sides disagree. */
export function timeUnitWarnings(files: readonly CaptureTimes[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const { s, ms } = f.times.counts;
    if (s === 0) continue;
    const what = ms === 0
      ? `times are epoch seconds (line ${f.times.first!.line}: ${f.times.first!.value}), not milliseconds`
      : `${s} of its ${s + ms} times are epoch seconds, the others epoch milliseconds`;
    out.push(`${f.rel}: ${what}; read as seconds by their size and converted to milliseconds. ${FIX}.`);
  }
  const runs = new Map<string, { client: CaptureTimes[]; server: CaptureTimes[] }>();
  for (const f of files) {
    const r = runs.get(f.run) ?? { client: [], server: [] };
    r[f.side].push(f);
    runs.set(f.run, r);
  }
  for (const [run, { client, server }] of runs) {
    for (const c of client) {
      for (const v of server) {
        const cu = mainUnit(c.times);
        const su = mainUnit(v.times);
        if (cu === null || su === null || cu === su) continue;
        if (cu === 'relative-ms' || su === 'relative-ms') {
          const [rel, epoch] = cu === 'relative-ms' ? [c, v] : [v, c];
          out.push(
            `${c.rel} and ${v.rel} (run ${run}): ${rel.rel} has times since the capture started (line ${rel.times.first!.line}: ${rel.times.first!.value}), ` +
              `${epoch.rel} epoch times, so the run's clock offset in the summary means nothing. Fix: make both sides write epoch milliseconds and rerun.`,
          );
        } else {
          const unit = (u: TimeUnit) => (u === 's' ? 'seconds' : 'milliseconds');
          out.push(
            `${c.rel} and ${v.rel} (run ${run}): the phone's times are epoch ${unit(cu)}, the server's epoch ${unit(su)}; ` +
              `both were converted to milliseconds, so the clock offset compares like with like. ${FIX}.`,
          );
        }
      }
    }
  }
  return out;
}
