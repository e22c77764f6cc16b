/**
 * Tests that need something npm does not install: scipy (the independent Beta fit),
 * Debian's Chromium (the report in a browser), root with network namespaces and the
 * netfilter tools (the lab). Outside CI a missing one skips those tests with a printed
 * reason. In CI (CI=1 or CI=true, as .ci/run runs) it fails: .ci/run installs them, so a
 * missing one means the install broke, and its checks must not quietly stop running.
 */
import { describe, it, test } from '@jest/globals';

export const IN_CI = /^(1|true)$/i.test(process.env.CI ?? '');

/**
 * `it` and `describe` for tests that need `what`, or their `.skip` forms when `missing`
 * says why it is not there; in CI that also registers one failing test naming it.
 */
export function needs(what: string, missing: string | null): { it: typeof it.skip; describe: typeof describe.skip } {
  if (missing === null) return { it, describe };
  if (IN_CI) {
    test(`${what} is available (required in CI)`, () => {
      throw new Error(`${what} is missing: ${missing}. CI=${process.env.CI}: .ci/run installs it, so this fails instead of skipping.`);
    });
  } else {
    console.warn(`skipping the tests that need ${what}: ${missing} (in CI this is a failure)`);
  }
  return { it: it.skip, describe: describe.skip };
}
