/** Worker-thread entry of the referee: trials [from, to) of a validated spec, posted back. */
import { parentPort, workerData } from 'node:worker_threads';
import { runTrials, type RefereeSpec } from './trial.ts';

const { spec, from, to } = workerData as { spec: RefereeSpec; from: number; to: number };
const batch = runTrials(spec, from, to);
parentPort!.postMessage(batch, [batch.packets.buffer as ArrayBuffer]);
