/** Worker-thread entry of join (see pipeline/threads.ts): one carrier per message. */
import { parentPort } from 'node:worker_threads';
import { workerError } from '../threads.ts';
import { joinJob, type JoinJob } from './join.ts';

parentPort!.on('message', ({ id, job }: { id: number; job: JoinJob }) => {
  joinJob(job).then(
    (result) => parentPort!.postMessage({ id, result }),
    (e: unknown) => parentPort!.postMessage({ id, ...workerError(e) }),
  );
});
