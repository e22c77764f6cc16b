/** Worker-thread entry of figure-files.ts (see ../../threads.ts): one chart's SVG per message, its PDF and PNG back. */
import { parentPort } from 'node:worker_threads';
import { figureFilesHere } from './figure-files.ts';

parentPort!.on('message', ({ id, job }: { id: number; job: string }) => {
  figureFilesHere(job).then(
    (result) => parentPort!.postMessage({ id, result }),
    (e: unknown) => parentPort!.postMessage({ id, error: e instanceof Error ? e.message : String(e) }),
  );
});
