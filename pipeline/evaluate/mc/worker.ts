/**
 * Worker-thread entry of the Monte Carlo: runs trials [from, to) of a validated spec and
 * posts the batch back (the packets buffer is transferred, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTrials, type SimSpec } from './kernel.ts';

const { spec, from, to } = workerData as { spec: SimSpec; from: number; to: number };
const batch = runTrials(spec, from, to);
parentPort!.postMessage(batch, [batch.packets.buffer as ArrayBuffer]);
