// Jest's node environment with an ordinary global object for each test file.
//
// jest-environment-node contextifies a Proxy of the sandbox (vm.createContext), and V8
// then routes every global lookup in test and pipeline code (Math.log, Infinity,
// Number.isFinite...) through an interceptor: ~1 µs each instead of ~1 ns, which made the
// fits and simulators 10-30x slower under jest than under node. Node 20.18+ can make a
// context whose global is an ordinary object (vm.constants.DONT_CONTEXTIFY). Jest builds
// the environment in its constructor, so the context it asks vm for is swapped for such
// a one while the constructor runs; everything else (globals, timers, module loading) is
// Jest's own. On an older Node the environment is Jest's unchanged.
import vm from 'node:vm';
import { TestEnvironment } from 'jest-environment-node';

const PLAIN = vm.constants?.DONT_CONTEXTIFY;

export default class PlainGlobalEnvironment extends TestEnvironment {
  constructor(config, context) {
    const createContext = vm.createContext;
    if (PLAIN !== undefined) vm.createContext = () => createContext(PLAIN);
    try {
      super(config, context);
    } finally {
      vm.createContext = createContext;
    }
  }
}
