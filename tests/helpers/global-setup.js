// One temp root per `npm test`, on a RAM-backed file system when the machine has one.
//
// The tests make and remove tens of thousands of small files (every pipeline run writes
// temp folders, renames them into place and hashes what it wrote). On this project's
// 2-core machine /tmp is ext4, where that metadata work was a quarter of the suite's CPU
// (kernel time) and left the fuzz tests idle 40% of the time waiting on it; on tmpfs
// (/dev/shm) the same fuzz file took 13 s instead of 18. Every test makes its temp
// folders under os.tmpdir(), which reads TMPDIR, so setting it here (before Jest starts
// its workers, which inherit it, as do the processes the tests spawn) moves them all.
// NATATLAS_TEST_TMP picks another parent; without /dev/shm the system's default stays.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PREFIX = 'natatlas-jest-';

function writableDir(dir) {
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

export default function globalSetup() {
  const parent = process.env.NATATLAS_TEST_TMP || (writableDir('/dev/shm') ? '/dev/shm' : null);
  if (parent === null) return;
  // Roots of earlier runs whose Jest died before its teardown (RAM is not freed by a reboot-free machine).
  for (const name of fs.readdirSync(parent)) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
  }
  const root = fs.mkdtempSync(path.join(parent, `${PREFIX}${process.pid}-`));
  // Like /tmp: the permission tests drop to nobody, who must reach their folders inside.
  fs.chmodSync(root, 0o1777);
  process.env.NATATLAS_JEST_TMP = root;
  process.env.TMPDIR = root;
  if (os.tmpdir() !== root) throw new Error(`TMPDIR=${root} did not move os.tmpdir() (${os.tmpdir()})`);
}
