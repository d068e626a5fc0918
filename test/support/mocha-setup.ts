// Mocha root hooks for every suite: Temporal workers created in the test process log through a
// runtime that only prints errors (a failing activity is expected in many tests and logs at WARN).
import { DefaultLogger, Runtime } from '@temporalio/worker';

export const mochaHooks = {
  beforeAll(): void {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  },
};
