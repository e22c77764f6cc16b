// Start the test files that mostly wait (the netfilter lab: timers, conntrack timeouts,
// ~2 minutes; the browser) first, so they overlap the CPU-bound files instead of
// running after them. The rest keep Jest's order (slowest last time first, or largest).
import Sequencer from '@jest/test-sequencer';

const WAITING_FIRST = ['/tests/lab/lab.test.ts', '/tests/report/browser.test.ts'];
const rank = (test) => {
  const i = WAITING_FIRST.findIndex((end) => test.path.replaceAll('\\', '/').endsWith(end));
  return i === -1 ? WAITING_FIRST.length : i;
};

export default class WaitingFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return Promise.resolve(sorted).then((list) => [...list].sort((a, b) => rank(a) - rank(b)));
  }
}
