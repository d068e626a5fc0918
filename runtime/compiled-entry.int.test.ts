// The production artefact runs as production runs it: compiled entries under plain node with
// NODE_ENV=production, each worker on its task queue's prebuilt bundle — and a bundle older than
// the sources beside it stops the worker with a message instead of running other code.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { ensureBuild } from '../cli/build-command.ts';
import { testStack } from '../test/support/env.ts';
import { repoRoot, startEntry, until } from '../test/support/processes.ts';

const env = (): NodeJS.ProcessEnv => {
  const stack = testStack();
  const id = randomUUID().slice(0, 8);
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    DATABASE_URL: stack.DATABASE_URL,
    NATS_URL: stack.NATS_URL,
    TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
    EVENTS_STREAM: `COMPILED_${id.toUpperCase()}`,
    EVENTS_SUBJECT_PREFIX: `compiled${id}`,
    RELAY_HTTP_PORT: '0',
    PROJECTOR_HTTP_PORT: '0',
  };
};

describe('compiled entry points (dist/)', function () {
  this.timeout(180_000);
  const scratch = mkdtempSync(join(tmpdir(), 'compiled-'));

  before(async () => {
    await ensureBuild((line) => process.stderr.write(`    ${line}\n`));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('the projector runs from dist/ with plain node on its prebuilt bundle, and drains on SIGTERM', async () => {
    const started = startEntry(join(repoRoot, 'dist', 'projector', 'projector.main.js'), env());
    try {
      await until('projector started', async () => /"msg":"started"/.test(started.output()));
      assert.doesNotMatch(started.output(), /Workflow bundle created/, 'no bundling at start: the bundle is prebuilt');
      started.child.kill('SIGTERM');
      assert.equal((await started.exited).code, 0, started.output());
    } finally {
      started.child.kill('SIGKILL');
    }
  });

  it('a worker refuses a bundle built from other sources than those beside dist/, naming the fix', async () => {
    const checkout = mkdtempSync(join(scratch, 'checkout-'));
    for (const item of ['dist', 'workflows', 'contracts', 'package.json', 'package-lock.json']) {
      cpSync(join(repoRoot, item), join(checkout, item), { recursive: true });
    }
    symlinkSync(join(repoRoot, 'node_modules'), join(checkout, 'node_modules'));
    appendFileSync(
      join(checkout, 'workflows', 'outbox-relay', 'outbox-relay.workflow.ts'),
      '\n// changed after the build\n',
    );
    const started = startEntry(join(checkout, 'dist', 'relay', 'relay.main.js'), env());
    const { code } = await started.exited;
    assert.equal(code, 1, started.output());
    assert.match(started.output(), /was built from other sources than those in .*workflows/);
    assert.match(started.output(), /Run `npm run build`/);
    assert.doesNotMatch(started.output(), /"msg":"worker polling"/);
  });
});
