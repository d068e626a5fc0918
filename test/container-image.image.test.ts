// The production image, run as production runs it: each deployable in its own container (podman,
// host network, loopback only) against the test stack, the migration job first. Proves the image
// serves the API, runs sagas and carries events into the read model, and that every container
// drains on SIGTERM and exits 0 within its grace period without losing a request or an activity.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { after, afterEach, before, describe, it } from 'mocha';
import { buildAppImage, ensurePodman, type Podman } from '../cli/image/image-command.ts';
import { ensureSearchAttributes } from '../cli/stack/temporal.ts';
import { devToken, freePort } from './support/bff.ts';
import { createFreshDatabase, type FreshDatabase } from './support/database.ts';
import { testStack } from './support/env.ts';
import { call } from './support/http.ts';
import { until } from './support/processes.ts';

const GRACE_SECONDS = 30;
const run = promisify(execFile);

describe('the container image on the test stack (podman, host network)', function () {
  this.timeout(900_000);
  const id = randomUUID().slice(0, 8);
  const scratch = mkdtempSync(join(tmpdir(), 'image-test-'));
  const say = (line: string) => process.stderr.write(`    ${line}\n`);
  let podman: Podman;
  let image: string;
  let db: FreshDatabase;
  let env: Record<string, string>;
  const ports = { bff: 0, sagaWorker: 0, relay: 0, projector: 0 };
  const started: string[] = [];
  const bff = () => `http://127.0.0.1:${ports.bff}`;
  /** The tenant the first scenario onboards, and its creator's (now its owner's) token; the SIGTERM scenarios write to it. */
  const tenant = { id: '', owner: '' };

  const container = (name: string) => `dwb-image-test-${id}-${name}`;
  /** Starts a deployable from the image in its own container; resolves once it logged "started". */
  const start = async (name: string, entry: string) => {
    const envArgs = Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
    podman.run(
      [
        'run',
        '-d',
        '--name',
        container(name),
        '--network',
        'host',
        '-v',
        `${scratch}:/config:ro`,
        ...envArgs,
        image,
        entry,
      ],
      `podman run ${name}`,
    );
    started.push(container(name));
    await until(
      `${name} started in its container`,
      async () => {
        const state = podman.run(['inspect', '--format', '{{.State.Status}}', container(name)], 'inspect').trim();
        if (state === 'exited') throw new Error(`${name} exited:\n${logs(name)}`);
        return /"msg":"started"/.test(logs(name));
      },
      120_000,
    );
  };
  const logs = (name: string) => podman.run(['logs', container(name)], 'podman logs');
  /** SIGTERM (podman stop, without blocking this process's event loop), then the exit code and how long it took. */
  const stop = async (name: string) => {
    const began = Date.now();
    await run('podman', ['stop', '--time', String(GRACE_SECONDS), container(name)], { env: podman.env });
    const seconds = (Date.now() - began) / 1000;
    const code = Number(podman.run(['inspect', '--format', '{{.State.ExitCode}}', container(name)], 'inspect').trim());
    podman.run(['rm', container(name)], 'podman rm');
    started.splice(started.indexOf(container(name)), 1);
    return { code, seconds };
  };

  before(async () => {
    podman = ensurePodman(say);
    image = buildAppImage(podman, say).name;
    const stack = testStack();
    db = await createFreshDatabase(stack.DATABASE_URL, 'image');
    // A namespace of its own, so no other tier's workers or workflows meet these containers.
    const namespace = `image-${id}`;
    const connection = await Connection.connect({ address: stack.TEMPORAL_ADDRESS });
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await connection.close();
    await until(
      'the namespace to be usable',
      async () => {
        await ensureSearchAttributes(stack.TEMPORAL_ADDRESS, namespace);
        return true;
      },
      30_000,
    );
    // The public keys only, readable by the image's non-root user.
    copyFileSync(stack.AUTH_JWKS_FILE, join(scratch, 'jwks.json'));
    chmodSync(join(scratch, 'jwks.json'), 0o644);
    chmodSync(scratch, 0o755);
    for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
    env = {
      LOG_LEVEL: 'info',
      DATABASE_URL: db.url,
      NATS_URL: stack.NATS_URL,
      TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: namespace,
      EVENTS_STREAM: `IMAGE_${id.toUpperCase()}`,
      EVENTS_SUBJECT_PREFIX: `image${id}`,
      AUTH_JWKS_FILE: '/config/jwks.json',
      BFF_HOST: '127.0.0.1',
      BFF_PORT: String(ports.bff),
      SAGA_WORKER_HTTP_PORT: String(ports.sagaWorker),
      RELAY_HTTP_PORT: String(ports.relay),
      PROJECTOR_HTTP_PORT: String(ports.projector),
      // The test stack's OpenFGA (on loopback, reached over the host network): the BFF checks every
      // route there, the saga worker writes the owner's tuple.
      OPENFGA_API_URL: stack.OPENFGA_API_URL,
      OPENFGA_STORE_ID: stack.OPENFGA_STORE_ID,
      ...(stack.OPENFGA_API_TOKEN ? { OPENFGA_API_TOKEN: stack.OPENFGA_API_TOKEN } : {}),
    };
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const name of started) {
      const tail = podman.run(['logs', '--tail', '40', name], 'podman logs');
      process.stderr.write(`\n--- last lines of ${name} ---\n${tail}\n`);
    }
  });
  after(async () => {
    for (const name of started) podman.run(['rm', '-f', name], 'podman rm -f');
    await db?.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('the migration job migrates an empty database and exits 0', () => {
    const envArgs = Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
    const output = podman.run(
      ['run', '--rm', '--network', 'host', ...envArgs, image, 'dist/runtime/migrate.main.js'],
      'migration job',
    );
    assert.match(output, /"msg":"migrations done"/);
    assert.match(output, /0001-event-outbox\.sql/);
  });

  it('runs as a non-root user on Node 24, with production dependencies and compiled code only', () => {
    const probe = podman.run(
      [
        'run',
        '--rm',
        '--entrypoint',
        'sh',
        image,
        '-c',
        'id -u; node --version; echo $NODE_ENV; ls /app; ls /app/node_modules | grep -cx "typescript\\|mocha\\|tsx\\|eslint" || true; find /app/dist -name "*.ts" | wc -l',
      ],
      'probe the image',
    );
    const [uid, node, nodeEnv, ...rest] = probe.trim().split('\n');
    assert.equal(uid, '1000');
    assert.match(node ?? '', /^v24\./);
    assert.equal(nodeEnv, 'production');
    assert.deepEqual(rest.slice(0, 3).sort(), ['dist', 'node_modules', 'package.json']);
    assert.deepEqual(rest.slice(3), ['0', '0'], 'no dev dependency and no TypeScript source in the image');
  });

  it('each deployable in its own container: the BFF is ready and serves an increment, a saga completes, the read model shows the increment', async () => {
    await start('bff', 'dist/bff/bff.main.js');
    await start('saga-worker', 'dist/saga-worker/saga-worker.main.js');
    await start('relay', 'dist/relay/relay.main.js');
    await start('projector', 'dist/projector/projector.main.js');
    assert.equal((await fetch(`${bff()}/readyz`)).status, 200);
    for (const port of [ports.sagaWorker, ports.relay, ports.projector]) {
      await until(
        `worker on :${port} ready`,
        async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
      );
    }

    const founder = await devToken({ user: 'founder' });
    const created = await call(bff(), 'POST', '/v1/tenants', {
      token: founder,
      headers: { 'idempotency-key': `image-${id}` },
      body: { slug: `img-${id}`, name: 'Image test', plan: 'free' },
    });
    assert.equal(created.status, 202, created.text);
    const tenantId = String(created.json.tenantId);
    // The creator follows the onboarding with the same token, and owns the tenant once it completes.
    Object.assign(tenant, { id: tenantId, owner: founder });
    await until('the onboarding saga to complete', async () => {
      const status = await call(bff(), 'GET', `/v1/tenants/${tenantId}/onboarding`, { token: founder });
      return status.json.sagaStatus === 'completed';
    });

    const increment = await call(bff(), 'POST', `/v1/tenants/${tenantId}/counters/visits/increment`, {
      token: founder,
      headers: { 'idempotency-key': randomUUID() },
      body: { by: 3 },
    });
    assert.equal(increment.status, 200, increment.text);
    const read = await call(bff(), 'GET', `/v1/tenants/${tenantId}/counters/visits?minVersion=1`, { token: founder });
    assert.equal(read.headers.get('x-min-version-met'), 'true', 'the relay and the projector carried it over');
    assert.deepEqual(read.json, { tenantId, counterId: 'visits', value: 3, version: 1 });
  });

  it('SIGTERM: the BFF finishes a request in flight, then exits 0 within its grace period', async () => {
    // A read waiting for a version that never comes stays in flight for its 2 s wait.
    const inFlight = call(bff(), 'GET', `/v1/tenants/${tenant.id}/counters/none?minVersion=5`, {
      token: tenant.owner,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stopped = await stop('bff');
    const answer = await inFlight;
    assert.equal(answer.status, 200, 'the request in flight was answered');
    assert.equal(answer.headers.get('x-min-version-met'), 'false');
    assert.equal(stopped.code, 0);
    assert.ok(stopped.seconds < GRACE_SECONDS, `stopped in ${stopped.seconds} s`);
  });

  it('SIGTERM: the saga worker drains mid-onboarding and exits 0; the saga completes on its successor', async () => {
    await start('bff', 'dist/bff/bff.main.js');
    const founder = await devToken({ user: 'founder' });
    const created = await call(bff(), 'POST', '/v1/tenants', {
      token: founder,
      headers: { 'idempotency-key': `image-sigterm-${id}` },
      body: { slug: `img-s-${id}`, name: 'Image drain test', plan: 'pro' },
    });
    assert.equal(created.status, 202, created.text);
    const tenantId = String(created.json.tenantId);
    await until('the saga to be running a step', async () => {
      const status = await call(bff(), 'GET', `/v1/tenants/${tenantId}/onboarding`, { token: founder });
      return status.json.sagaStatus === 'running';
    });
    const stopped = await stop('saga-worker');
    assert.equal(stopped.code, 0);
    assert.ok(stopped.seconds < GRACE_SECONDS, `stopped in ${stopped.seconds} s`);
    await start('saga-worker', 'dist/saga-worker/saga-worker.main.js');
    await until('the onboarding saga to complete on the new worker', async () => {
      const status = await call(bff(), 'GET', `/v1/tenants/${tenantId}/onboarding`, { token: founder });
      return status.json.sagaStatus === 'completed';
    });
  });

  it('SIGTERM: the relay and the projector exit 0; after a restart every event is in the read model', async () => {
    const writes = Array.from({ length: 20 }, () =>
      call(bff(), 'POST', `/v1/tenants/${tenant.id}/counters/drained/increment`, {
        token: tenant.owner,
        headers: { 'idempotency-key': randomUUID() },
        body: { by: 1 },
      }),
    );
    const [relay, projector] = await Promise.all([stop('relay'), stop('projector')]);
    for (const result of await Promise.all(writes)) assert.equal(result.status, 200, result.text);
    assert.deepEqual([relay.code, projector.code], [0, 0]);
    assert.ok(Math.max(relay.seconds, projector.seconds) < GRACE_SECONDS);
    await start('relay', 'dist/relay/relay.main.js');
    await start('projector', 'dist/projector/projector.main.js');
    await until('every increment in the read model', async () => {
      const read = await call(bff(), 'GET', `/v1/tenants/${tenant.id}/counters/drained`, { token: tenant.owner });
      return read.json.value === 20 && read.json.version === 20;
    });
  });
});
