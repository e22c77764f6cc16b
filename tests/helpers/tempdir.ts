/**
 * Temp folders a test file owns: made under the OS temp folder (never in the checkout)
 * and removed after the file's tests, passed or failed.
 */
import { afterAll } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

afterAll(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh empty folder natatlas-<prefix>-XXXXXX, removed after this test file. */
export function tempDir(prefix = 'test'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `natatlas-${prefix}-`));
  made.push(dir);
  return dir;
}
