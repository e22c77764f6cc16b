// Remove the run's temp root made by global-setup.js (the tests remove their own folders;
// this catches what a failed or killed test left behind).
import fs from 'node:fs';

export default function globalTeardown() {
  const root = process.env.NATATLAS_JEST_TMP;
  if (root) fs.rmSync(root, { recursive: true, force: true });
}
