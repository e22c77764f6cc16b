/** Worker-thread entry of the fit stage (see ../threads.ts): one whole carrier per message, fitted from the campaign's own files. */
import { parentPort } from 'node:worker_threads';
import { silentLogger } from '../context.ts';
import { carrierNames, readManifest } from '../contracts/manifest.ts';
import { NatatlasError } from '../errors.ts';
import { fitOwnCarrier, type FitJob } from '../stages/fit.ts';

parentPort!.on('message', ({ id, job }: { id: number; job: FitJob }) => {
  const ctx = { campaign: job.campaign, folder: job.folder, paths: job.paths, log: silentLogger };
  Promise.resolve().then(() => fitOwnCarrier(ctx, job.carrier, carrierNames(readManifest(ctx)))).then(
    (result) => parentPort!.postMessage({ id, result }),
    // A user's error (a damaged file) stays one: the stage rethrows it as such, with its message.
    (e: unknown) => parentPort!.postMessage({ id, result: { failed: e instanceof Error ? e.message : String(e), user: e instanceof NatatlasError } }),
  );
});
