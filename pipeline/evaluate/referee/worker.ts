/** Worker-thread entry of the referee (see pipeline/threads.ts): trials [from, to) of a validated spec per message. */
import { parentPort } from 'node:worker_threads';
import { runTrials, type RefereeSpec } from './trial.ts';

parentPort!.on('message', ({ id, job }: { id: number; job: { spec: RefereeSpec; from: number; to: number } }) => {
  try {
    const result = runTrials(job.spec, job.from, job.to);
    parentPort!.postMessage({ id, result }, [result.packets.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
