import fs from 'node:fs';
import path from 'node:path';

/** Every file under `dir` (or `dir` itself if it is a file), sorted, skipping temp files of an interrupted write. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  if (fs.statSync(dir).isFile()) return [dir];
  const out: string[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.includes('.tmp-')) continue;
    out.push(...listFiles(path.join(dir, name)));
  }
  return out;
}
