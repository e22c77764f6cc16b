/** Worker-thread entry of ingest (see pipeline/threads.ts): one raw capture file per message, read into its column file and note. */
import { parentPort } from 'node:worker_threads';
import { workerError } from '../threads.ts';
import { readCapture, type CaptureJob } from './ingest.ts';

parentPort!.on('message', ({ id, job }: { id: number; job: CaptureJob }) => {
  readCapture(job).then(
    (result) => parentPort!.postMessage({ id, result }),
    (e: unknown) => parentPort!.postMessage({ id, ...workerError(e) }),
  );
});
