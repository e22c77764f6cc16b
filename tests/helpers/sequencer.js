// Start the test files that mostly wait (the netfilter lab: timers, conntrack timeouts,
// ~2 minutes; the browser) first, so they overlap the CPU-bound files instead of
// running after them; then the files that took longest when last measured (a clean
// clone has no Jest timing cache, and Jest would then order by file size, which can leave
// a minute-long file for last). The rest keep Jest's order (slowest last time first, or largest).
import Sequencer from '@jest/test-sequencer';

const FIRST = [
  '/tests/lab/lab.test.ts',
  '/tests/report/browser.test.ts',
  // The type check: a child process, no waiting on others (it used to run before Jest).
  '/tests/typecheck.test.ts',
  // Longest first, as measured on 2 cores (each 30-90 s there).
  '/tests/evaluate/published.test.ts',
  '/tests/property/bytes.test.ts',
  '/tests/safety/crash.test.ts',
  '/tests/safety/names.test.ts',
  '/tests/stages/fit.test.ts',
  '/tests/report/compare.test.ts',
  '/tests/report/fail.test.ts',
  '/tests/report/report.test.ts',
  '/tests/engine/consumer.test.ts',
  '/tests/property/accounting.test.ts',
  '/tests/engine/export.test.ts',
];
const rank = (test) => {
  const i = FIRST.findIndex((end) => test.path.replaceAll('\\', '/').endsWith(end));
  return i === -1 ? FIRST.length : i;
};

export default class WaitingFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return Promise.resolve(sorted).then((list) => [...list].sort((a, b) => rank(a) - rank(b)));
  }
}
