/** Timeout probes of one carrier from the ingest output, grouped by kind. */
import fs from 'node:fs';
import { readRecords } from '../io/csv.ts';

export interface Probe {
  delay: number;
  replied: boolean;
}

export async function readProbes(file: string): Promise<{ wait: Probe[]; idle: Probe[] }> {
  const out = { wait: [] as Probe[], idle: [] as Probe[] };
  if (!fs.existsSync(file)) return out;
  await readRecords(file, (f, recordNo) => {
    if (recordNo === 1) return;
    // file,line,probe_id,kind,delay_s,replied (file may hold a line break: it names a folder)
    const kind = f[3] === 'idle' ? out.idle : out.wait;
    kind.push({ delay: Number(f[4]), replied: f[5] === '1' });
  });
  return out;
}
