/** Worker-thread entry of the fit stage (see ../threads.ts): one whole carrier per message, fitted from the campaign's own files. */
import { parentPort } from 'node:worker_threads';
import { silentLogger } from '../context.ts';
import { carrierNames, readManifest } from '../contracts/manifest.ts';
import { fitOwnCarrier, type FitJob } from '../stages/fit.ts';
import { workerError } from '../threads.ts';

parentPort!.on('message', ({ id, job }: { id: number; job: FitJob }) => {
  const ctx = { campaign: job.campaign, folder: job.folder, paths: job.paths, log: silentLogger };
  Promise.resolve().then(() => fitOwnCarrier(ctx, job.carrier, carrierNames(readManifest(ctx)))).then(
    (result) => parentPort!.postMessage({ id, result }),
    (e: unknown) => parentPort!.postMessage({ id, ...workerError(e) }),
  );
});
