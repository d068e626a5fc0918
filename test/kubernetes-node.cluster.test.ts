// The chart on a real Kubernetes node (kubelet + containerd + runc), with the image of `npm run
// image` and the platform model's local-cluster environment, on the test stack's servers: the pods
// get Ready through their probes and serve; then the cluster is broken on purpose — a rolling
// upgrade under load, deleted pods, scaled singleton workers, a failing migration — and nothing is
// lost or doubled.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { after, afterEach, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { ensurePodman, type Podman } from '../cli/image/image-command.ts';
import {
  appPods,
  importImages,
  installApp,
  saveImage,
  startLocalCluster,
  type LocalCluster,
} from '../cli/k8s/cluster.ts';
import { ensureSearchAttributes } from '../cli/stack/temporal.ts';
import { ensureGoBinary } from '../cli/tools/go-tools.ts';
import { WORKFLOW_IDS } from '../contracts/workflow-names.ts';
import { connectNats, type NatsConnection } from '../runtime/connections.ts';
import { createDatabasePool, type DatabasePool } from '../services/kernel/database.ts';
import { devToken, freePort } from './support/bff.ts';
import { createFreshDatabase, type FreshDatabase } from './support/database.ts';
import { testStack } from './support/env.ts';
import { call } from './support/http.ts';
import { readModelsAndFold, storedMessageIds } from './support/pipeline.ts';
import { until } from './support/processes.ts';

const say = (line: string) => process.stderr.write(`    ${line}\n`);

describe('the chart on a real Kubernetes node', function () {
  this.timeout(1_200_000);
  const id = randomUUID().slice(0, 8);
  const scratch = mkdtempSync(join(tmpdir(), 'cluster-test-'));
  let cluster: LocalCluster;
  let podman: Podman;
  let db: FreshDatabase;
  let pool: DatabasePool;
  let nats: NatsConnection;
  let jsm: JetStreamManager;
  let temporal: Client;
  let connection: Connection;
  let bff: string;
  const stream = `CLUSTER_${id.toUpperCase()}`;
  const namespace = `cluster-${id}`;
  /** The tenant the first scenario onboards, and its creator's (now its owner's) token. */
  const tenant = { id: '', owner: '' };

  const install = (sets: string[] = [], timeout = '300s') =>
    installApp(say, cluster, {
      endpoints: {
        databaseUrl: db.url,
        serviceDatabaseUrl: db.url,
        natsUrl: testStack().NATS_URL,
        temporalAddress: testStack().TEMPORAL_ADDRESS,
        temporalNamespace: namespace,
        openfga: {
          url: testStack().OPENFGA_API_URL,
          storeId: testStack().OPENFGA_STORE_ID,
          token: testStack().OPENFGA_API_TOKEN,
        },
        traces: { otlpEndpoint: testStack().OTEL_EXPORTER_OTLP_ENDPOINT },
      },
      jwksFile: testStack().AUTH_JWKS_FILE,
      bffPort: Number(new URL(bff).port),
      sets: [`config.EVENTS_STREAM=${stream}`, `config.EVENTS_SUBJECT_PREFIX=cluster${id}`, ...sets],
      timeout,
    });
  const kubectl = (args: string[]) => cluster.control.kubectl(['--namespace', 'app', ...args]);

  /** Increments from `clients` concurrent callers until stopped; a transport error is retried with the same key. */
  function load(clients = 4) {
    let running = true;
    const outcome = { sent: 0, applied: 0, httpErrors: [] as string[], retries: 0 };
    const client = async () => {
      while (running) {
        const key = randomUUID();
        outcome.sent++;
        for (;;) {
          try {
            const response = await call(bff, 'POST', `/v1/tenants/${tenant.id}/counters/load/increment`, {
              token: tenant.owner,
              headers: { 'idempotency-key': key },
              body: { by: 1 },
            });
            if (response.status === 200) outcome.applied++;
            else outcome.httpErrors.push(`${response.status} ${response.text}`);
            break;
          } catch {
            // Connection refused or reset while a pod is replaced: the same key makes the retry safe.
            outcome.retries++;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      }
    };
    const done = Promise.all(Array.from({ length: clients }, client));
    return {
      outcome,
      async stop() {
        running = false;
        await done;
        return outcome;
      },
    };
  }

  /** The read models equal the fold of the outbox, and JetStream holds each event exactly once. */
  async function nothingLostOrDoubled() {
    await until(
      'the read models to equal the fold of the outbox',
      async () => {
        const { actual, fold } = await readModelsAndFold(pool);
        return JSON.stringify(actual) === JSON.stringify(fold);
      },
      120_000,
    );
    const outbox = await pool.anyFirst(
      sql.type(z.object({ id: z.string() }))`select event_id::text as id from event_outbox`,
    );
    await until(
      'every event in JetStream',
      async () => (await storedMessageIds(jsm, stream)).length >= outbox.length,
      60_000,
    );
    assert.deepEqual([...(await storedMessageIds(jsm, stream))].sort(), [...outbox].sort(), 'one message per event');
  }

  /** Watches the app's pods and records the exit code of every container that terminates. */
  function watchExits(): { codes: Map<string, number>; stop(): void } {
    const codes = new Map<string, number>();
    const watcher: ChildProcess = spawn(
      ensureGoBinary('kubectl', say),
      ['--kubeconfig', cluster.control.kubeconfig, '--namespace', 'app', 'get', 'pods', '--watch', '-o', 'json'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let buffer = '';
    watcher.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      // kubectl prints one pretty JSON object per change; split at top-level object boundaries.
      for (;;) {
        const end = buffer.indexOf('\n}\n');
        if (end < 0) break;
        const text = buffer.slice(0, end + 2);
        buffer = buffer.slice(end + 3);
        const pod = JSON.parse(text) as {
          metadata: { name: string };
          status: { containerStatuses?: { state?: { terminated?: { exitCode: number } } }[] };
        };
        for (const status of pod.status.containerStatuses ?? []) {
          const exit = status.state?.terminated?.exitCode;
          if (exit !== undefined) codes.set(pod.metadata.name, exit);
        }
      }
    });
    return { codes, stop: () => watcher.kill() };
  }

  before(async () => {
    podman = ensurePodman(say);
    bff = `http://127.0.0.1:${await freePort()}`;
    db = await createFreshDatabase(testStack().DATABASE_URL, 'cluster');
    connection = await Connection.connect({ address: testStack().TEMPORAL_ADDRESS });
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await until(
      'the namespace',
      async () => (await ensureSearchAttributes(testStack().TEMPORAL_ADDRESS, namespace), true),
    );
    temporal = new Client({ connection, namespace });
    nats = await connectNats(testStack().NATS_URL, 'cluster-test');
    jsm = await jetstreamManager(nats);
    cluster = await startLocalCluster(join(scratch, 'k8s'), say);
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'failed' || !cluster) return;
    // What an operator would look at first, so a failure in CI explains itself.
    for (const args of [
      ['get', 'deployments,replicasets,pods', '-o', 'wide'],
      ['get', 'events', '--sort-by=.lastTimestamp'],
    ]) {
      process.stderr.write(`\n--- kubectl ${args.join(' ')} ---\n${kubectl(args)}\n`);
    }
  });
  after(async () => {
    await cluster?.node.stop();
    await cluster?.control.stop();
    await pool?.end();
    await nats?.drain();
    await connection?.close();
    await db?.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('installs with the migrations hook first; every pod gets Ready through its probes; the BFF serves; a saga and an increment reach the read model', async () => {
    const installed = install();
    assert.ok(installed.ok, installed.output);
    pool = await createDatabasePool(db.url, { maximumPoolSize: 4 });
    const pods = appPods(cluster.control);
    assert.deepEqual(pods.map((p) => p.component).sort(), ['bff', 'projector', 'relay', 'saga-worker']);
    assert.ok(
      pods.every((p) => p.ready),
      JSON.stringify(pods),
    );
    assert.equal((await fetch(`${bff}/readyz`)).status, 200);

    const founder = await devToken({ user: 'founder' });
    const created = await call(bff, 'POST', '/v1/tenants', {
      token: founder,
      headers: { 'idempotency-key': `cluster-${id}` },
      body: { slug: `k8s-${id}`, name: 'On a real node', plan: 'pro' },
    });
    assert.equal(created.status, 202, created.text);
    tenant.id = String(created.json.tenantId);
    // The creator follows the onboarding with the same token, and owns the tenant once it completes.
    tenant.owner = founder;
    await until('the onboarding saga to complete', async () => {
      const status = await call(bff, 'GET', `/v1/tenants/${tenant.id}/onboarding`, { token: tenant.owner });
      return status.json.sagaStatus === 'completed';
    });
    const increment = await call(bff, 'POST', `/v1/tenants/${tenant.id}/counters/first/increment`, {
      token: tenant.owner,
      headers: { 'idempotency-key': randomUUID() },
      body: { by: 2 },
    });
    assert.equal(increment.status, 200, increment.text);
    await until('the read model to show it', async () => {
      const read = await call(bff, 'GET', `/v1/tenants/${tenant.id}/counters/first`, { token: tenant.owner });
      return read.json.value === 2;
    });
  });

  it('a config change rolls every Deployment under load: no request fails, nothing lost or doubled, old pods exit 0', async () => {
    const before = new Map(appPods(cluster.control).map((p) => [p.component, p.name]));
    const exits = watchExits();
    const running = load();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const upgraded = install(['config.LOG_LEVEL=debug']);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const outcome = await running.stop();
    exits.stop();
    assert.ok(upgraded.ok, upgraded.output);
    const after = appPods(cluster.control);
    for (const pod of after) assert.notEqual(before.get(pod.component), pod.name, `${pod.component} rolled`);
    assert.deepEqual(outcome.httpErrors, [], `${outcome.sent} sent, ${outcome.retries} transport retries`);
    assert.equal(outcome.applied, outcome.sent);
    for (const old of before.values()) assert.equal(exits.codes.get(old), 0, `${old} exited ${exits.codes.get(old)}`);
    await nothingLostOrDoubled();
    const counter = await call(bff, 'GET', `/v1/tenants/${tenant.id}/counters/load?minVersion=${outcome.applied}`, {
      token: tenant.owner,
    });
    assert.equal(counter.json.value, outcome.applied, 'every acknowledged increment applied exactly once');
  });

  it('deleting the saga worker mid-onboarding and the relay and projector under load loses nothing', async () => {
    const founder = await devToken({ user: 'founder' });
    const sagas = await Promise.all(
      [1, 2, 3].map((n) =>
        call(bff, 'POST', '/v1/tenants', {
          token: founder,
          headers: { 'idempotency-key': `cluster-${id}-${n}` },
          body: { slug: `k8s-${id}-${n}`, name: `Deleted pods ${n}`, plan: 'free' },
        }),
      ),
    );
    const running = load();
    for (const component of ['saga-worker', 'relay', 'projector']) {
      kubectl(['delete', 'pod', '-l', `app.kubernetes.io/component=${component}`, '--wait=false']);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
    }
    await until('every pod Ready again', async () => {
      const pods = appPods(cluster.control);
      return pods.length === 4 && pods.every((p) => p.ready);
    });
    const outcome = await running.stop();
    assert.deepEqual(outcome.httpErrors, []);
    for (const saga of sagas) {
      const tenantId = String(saga.json.tenantId);
      await until(`onboarding of ${tenantId}`, async () => {
        const status = await call(bff, 'GET', `/v1/tenants/${tenantId}/onboarding`, { token: founder });
        return status.json.sagaStatus === 'completed';
      });
    }
    await nothingLostOrDoubled();
  });

  it('three relay and three projector replicas under load still run one relay and one workflow per projection', async () => {
    const running = load();
    kubectl(['scale', 'deployment', 'app-durable-workflow-backend-relay', '--replicas=3']);
    kubectl(['scale', 'deployment', 'app-durable-workflow-backend-projector', '--replicas=3']);
    await until('six worker replicas Ready', async () => {
      const pods = appPods(cluster.control).filter((p) => p.component === 'relay' || p.component === 'projector');
      return pods.length === 6 && pods.every((p) => p.ready);
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const outcome = await running.stop();
    assert.deepEqual(outcome.httpErrors, []);
    for (const workflowId of [
      WORKFLOW_IDS.relay,
      WORKFLOW_IDS.projection('counters'),
      WORKFLOW_IDS.projection('tenants'),
    ]) {
      const runs: string[] = [];
      for await (const execution of temporal.workflow.list({
        query: `WorkflowId = '${workflowId}' AND ExecutionStatus = 'Running'`,
      })) {
        runs.push(execution.runId);
      }
      assert.equal(runs.length, 1, `${workflowId}: ${runs.length} running`);
    }
    await nothingLostOrDoubled();
  });

  it('a failing migration stops the upgrade at its hook and the running version keeps serving', async () => {
    const broken = `${cluster.image.split(':')[0]}:broken-migration-${id}`;
    const context = join(scratch, 'broken-image');
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, '9999-broken-on-purpose.sql'), 'select * from a_table_that_does_not_exist;\n');
    writeFileSync(
      join(context, 'Containerfile'),
      `FROM ${cluster.image}\nCOPY 9999-broken-on-purpose.sql /app/dist/services/zz-broken/migrations/\n`,
    );
    podman.run(['build', '--pull=never', '-t', broken, context], 'podman build (broken migration)');
    importImages(cluster.node, [saveImage(podman, broken, join(scratch, 'images'))]);
    const images = () =>
      kubectl(['get', 'deployments', '-o', 'jsonpath={.items[*].spec.template.spec.containers[0].image}']);
    const running = images();

    const upgraded = install([`image.tag=${broken.split(':')[1]}`], '120s');
    assert.equal(upgraded.ok, false, upgraded.output);
    assert.match(upgraded.output, /pre-upgrade hooks failed|job .*failed|BackoffLimitExceeded/i);
    assert.equal(images(), running, 'every Deployment still runs the previous image');
    assert.doesNotMatch(running, /broken-migration/);
    const jobEvents = kubectl(['get', 'events', '--field-selector', 'involvedObject.kind=Job', '-o', 'json']);
    assert.match(jobEvents, /BackoffLimitExceeded/, 'the migration job failed');
    assert.equal((await fetch(`${bff}/readyz`)).status, 200);
    const write = await call(bff, 'POST', `/v1/tenants/${tenant.id}/counters/after-failed-upgrade/increment`, {
      token: tenant.owner,
      headers: { 'idempotency-key': randomUUID() },
      body: { by: 1 },
    });
    assert.equal(write.status, 200, write.text);
  });
});
