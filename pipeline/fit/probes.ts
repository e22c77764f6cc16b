/** Timeout probes of one carrier from the ingest output, grouped by kind. */
import type { StageContext } from '../context.ts';
import { TIMEOUT_ROWS } from '../contracts/ingest-rows.ts';
import type { FileNames } from '../io/names.ts';

export interface Probe {
  delay: number;
  replied: boolean;
}

/** The carrier's probes (none when its capture had no timeouts file). */
export async function readProbes(ctx: StageContext, names: FileNames, carrier: string): Promise<{ wait: Probe[]; idle: Probe[] }> {
  const out = { wait: [] as Probe[], idle: [] as Probe[] };
  if (!TIMEOUT_ROWS.exists(ctx, names, carrier)) return out;
  await TIMEOUT_ROWS.forEach(ctx, names, carrier, (r) => {
    (r.kind === 'idle' ? out.idle : out.wait).push({ delay: r.delayS, replied: r.replied });
  });
  return out;
}
