// Jest's node environment with an ordinary global object for each test file.
//
// jest-environment-node contextifies a Proxy of the sandbox (vm.createContext), and V8
// then routes every global lookup in test and pipeline code (Math.log, Infinity,
// Number.isFinite...) through an interceptor: about 1 µs each instead of a few ns, which
// made fits and simulators several times slower under jest than under node
// (tests/stages/fit.test.ts: 50 s of CPU before, 11 s with this). Node can make a context
// whose global is an ordinary object (vm.constants.DONT_CONTEXTIFY; Node 20.20 has it).
// Jest builds the environment in its constructor, so the one context it asks vm for there
// is swapped for such a one; everything else (globals, timers, module loading) is Jest's
// own. Where Node lacks the constant, the environment is Jest's unchanged.
import vm from 'node:vm';
import { TestEnvironment } from 'jest-environment-node';

const PLAIN = vm.constants?.DONT_CONTEXTIFY;

export default class PlainGlobalEnvironment extends TestEnvironment {
  constructor(config, context) {
    const createContext = vm.createContext;
    // One call: the environment's own context; anything else asking vm later gets vm's.
    if (PLAIN !== undefined) {
      vm.createContext = () => {
        vm.createContext = createContext;
        return createContext(PLAIN);
      };
    }
    try {
      super(config, context);
    } finally {
      vm.createContext = createContext;
    }
  }
}
