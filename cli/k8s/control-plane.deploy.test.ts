// The local control plane must behave like the cluster our manifests and charts meet: a real API
// server, rollouts that finish on simulated nodes, strict server-side validation, a scheduler that
// leaves unplaceable pods pending, and a stop that leaves no process behind.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { isAlive } from '../stack/processes.ts';
import { KubectlError, startControlPlane, type ControlPlane } from './control-plane.ts';

function deployment(name: string, extra: { nodeSelector?: Record<string, string>; containerField?: object } = {}) {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...(extra.nodeSelector ? { nodeSelector: extra.nodeSelector } : {}),
          // Nothing pulls this image: kwok plays the pods' lifecycle.
          containers: [{ name: 'app', image: 'registry.invalid/app:1', ...extra.containerField }],
        },
      },
    },
  });
}

const DeploymentStatus = z.object({ status: z.object({ availableReplicas: z.number().optional() }) });
const PodList = z.object({
  items: z.array(
    z.object({
      spec: z.object({ nodeName: z.string().optional() }),
      status: z.object({
        conditions: z
          .array(z.object({ type: z.string(), status: z.string(), reason: z.string().optional() }))
          .optional(),
      }),
    }),
  ),
});

describe('local Kubernetes control plane (etcd, kube-apiserver, controllers, scheduler, kwok nodes)', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: ControlPlane;
  let failed = false;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'control-plane-'));
    try {
      cluster = await startControlPlane({ dir, say: (line) => console.log(`      ${line}`), simulatedNodes: 2 });
    } catch (error) {
      failed = true; // keep the logs
      throw error;
    }
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async () => {
    await cluster?.stop();
    if (failed) console.log(`      logs kept in ${join(dir, 'logs')}`);
    else rmSync(dir, { recursive: true, force: true });
  });

  it('answers ready and authenticates the kubeconfig user as a cluster admin', () => {
    assert.equal(cluster.kubectl(['get', '--raw', '/readyz']), 'ok');
    const review = z
      .object({ status: z.object({ userInfo: z.object({ groups: z.array(z.string()) }) }) })
      .parse(JSON.parse(cluster.kubectl(['auth', 'whoami', '-o', 'json'])));
    assert.ok(review.status.userInfo.groups.includes('system:masters'));
  });

  it('rolls a Deployment of 2 replicas out to Available on the simulated nodes', () => {
    cluster.kubectl(['apply', '-f', '-'], deployment('web'));
    cluster.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    const { status } = DeploymentStatus.parse(JSON.parse(cluster.kubectl(['get', 'deployment/web', '-o', 'json'])));
    assert.equal(status.availableReplicas, 2);
    const pods = PodList.parse(JSON.parse(cluster.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])));
    assert.equal(pods.items.length, 2);
    for (const pod of pods.items) assert.ok(cluster.nodes.includes(pod.spec.nodeName ?? ''), pod.spec.nodeName);
  });

  it('rejects an unknown field in a strict server-side dry run, and accepts the object without it', () => {
    const apply = ['apply', '--dry-run=server', '--validate=strict', '-f', '-'];
    assert.throws(
      () => cluster.kubectl(apply, deployment('typo', { containerField: { imagePullPolicyy: 'Never' } })),
      (error: unknown) =>
        error instanceof KubectlError &&
        error.exitCode === 1 &&
        error.output.includes('unknown field "spec.template.spec.containers[0].imagePullPolicyy"'),
    );
    assert.match(cluster.kubectl(apply, deployment('typo')), /created \(server dry run\)/);
    assert.equal(cluster.kubectl(['get', 'deployment/typo', '--ignore-not-found', '-o', 'name']), '');
  });

  it('never makes a Deployment Available when no node matches its pods', () => {
    cluster.kubectl(['apply', '-f', '-'], deployment('nowhere', { nodeSelector: { 'example.invalid/pool': 'none' } }));
    assert.throws(
      () => cluster.kubectl(['rollout', 'status', 'deployment/nowhere', '--timeout=10s']),
      (error: unknown) => error instanceof KubectlError && error.exitCode === 1,
    );
    const { status } = DeploymentStatus.parse(JSON.parse(cluster.kubectl(['get', 'deployment/nowhere', '-o', 'json'])));
    assert.equal(status.availableReplicas ?? 0, 0);
    // The scheduler looked at them and found no node, rather than never seeing them.
    const pods = PodList.parse(JSON.parse(cluster.kubectl(['get', 'pods', '-l', 'app=nowhere', '-o', 'json'])));
    assert.equal(pods.items.length, 2);
    for (const pod of pods.items) {
      assert.equal(pod.spec.nodeName, undefined);
      const scheduled = pod.status.conditions?.find((c) => c.type === 'PodScheduled');
      assert.deepEqual([scheduled?.status, scheduled?.reason], ['False', 'Unschedulable']);
    }
  });

  it('stops every process it started and forgets them', async () => {
    assert.equal(cluster.processes.length, 5);
    assert.ok(cluster.processes.every((p) => isAlive(p.pid)));
    await cluster.stop();
    assert.deepEqual(
      cluster.processes.filter((p) => isAlive(p.pid)).map((p) => p.name),
      [],
    );
    assert.equal(existsSync(join(dir, 'control-plane.json')), false);
  });
});
