// A real node must run the app image the way a cluster would: kubelet registers it Ready, a hostNetwork
// pod from the image (imported from an OCI archive, no registry) passes its exec readiness probe and
// serves on loopback, `kubectl delete` removes it, and stopping the node, even with a pod still running,
// leaves no process and no mount behind.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { buildAppImage, ensurePodman } from '../image/image-command.ts';
import { isAlive } from '../stack/processes.ts';
import { freePorts, startControlPlane, type ControlPlane } from './control-plane.ts';
import { startRealNode, type RealNode } from './node.ts';

const say = (line: string) => console.log(`      ${line}`);

/** A tiny HTTP server in the app image on the host network, Ready once it answers (exec probe). */
function serverPod(name: string, image: string, port: number): string {
  // PID 1 of its PID namespace ignores SIGTERM unless it handles it: then deletion waits the grace period.
  const serve = `process.on('SIGTERM',()=>process.exit(0));require('http').createServer((q,r)=>r.end('ok')).listen(${port},'127.0.0.1')`;
  const probe = `require('http').get('http://127.0.0.1:${port}',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))`;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: name } },
    spec: {
      hostNetwork: true,
      terminationGracePeriodSeconds: 10,
      containers: [
        {
          name: 'app',
          image,
          imagePullPolicy: 'Never', // nothing to pull from: the node imported it
          command: ['node', '-e', serve],
          readinessProbe: { exec: { command: ['node', '-e', probe] }, periodSeconds: 1 },
        },
      ],
    },
  });
}

async function get(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5_000) });
  return response.text();
}

function refused(error: unknown): boolean {
  return error instanceof TypeError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED';
}

/** Running processes whose command line contains `text` (zombies have none). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(text);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH')
          return false; // exited meanwhile
        throw error;
      }
    })
    .map(Number);
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((mount) => mount === dir || mount.startsWith(`${dir}/`));
}

const NodeJson = z.object({
  status: z.object({
    conditions: z.array(z.object({ type: z.string(), status: z.string() })),
    nodeInfo: z.object({ kubeletVersion: z.string(), containerRuntimeVersion: z.string() }),
  }),
});
const PodJson = z.object({
  spec: z.object({ nodeName: z.string() }),
  status: z.object({ containerStatuses: z.array(z.object({ image: z.string(), ready: z.boolean() })) }),
});

describe('a real node (kubelet, containerd, runc) on the local control plane', function () {
  this.timeout(120_000);
  let dir: string;
  let image: string;
  let cluster: ControlPlane;
  let node: RealNode;
  let failed = false;

  before(async function () {
    this.timeout(900_000); // a changed source tree rebuilds the app image: minutes
    dir = mkdtempSync(join(tmpdir(), 'real-node-'));
    try {
      const podman = ensurePodman(say);
      image = buildAppImage(podman, say).name;
      const archive = join(dir, 'app.tar');
      podman.run(['save', '--format', 'oci-archive', '-o', archive, image], 'podman save');
      cluster = await startControlPlane({ dir: join(dir, 'control-plane'), say, simulatedNodes: 0 });
      node = await startRealNode(cluster, { dir: join(dir, 'node'), say, images: [archive] });
    } catch (error) {
      failed = true; // keep the logs
      throw error;
    }
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async () => {
    try {
      await node?.stop();
    } finally {
      await cluster?.stop();
    }
    // Never delete through a mount that stop could not remove.
    if (failed || mountsUnder(dir).length > 0) say(`logs kept in ${dir} (node/logs, node/pod-logs)`);
    else rmSync(dir, { recursive: true, force: true });
  });

  it('registers a Ready node running the pinned kubelet on containerd', () => {
    const { status } = NodeJson.parse(JSON.parse(cluster.kubectl(['get', 'node', node.name, '-o', 'json'])));
    assert.equal(status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(status.nodeInfo.kubeletVersion, 'v1.37.2');
    assert.match(status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
  });

  it('runs a hostNetwork pod from the app image to Ready, serving on 127.0.0.1, and deletes it', async () => {
    const [port] = await freePorts(1);
    const started = Date.now();
    cluster.kubectl(['apply', '-f', '-'], serverPod('hello', image, port!));
    cluster.kubectl(['wait', 'pod/hello', '--for=condition=Ready', '--timeout=90s']);
    say(`pod Ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const pod = PodJson.parse(JSON.parse(cluster.kubectl(['get', 'pod/hello', '-o', 'json'])));
    assert.equal(pod.spec.nodeName, node.name);
    assert.deepEqual(
      pod.status.containerStatuses.map((c) => [c.image, c.ready]),
      [[image, true]],
    );
    assert.equal(await get(port!), 'ok');

    cluster.kubectl(['delete', 'pod/hello', '--wait=true', '--timeout=60s']);
    assert.equal(cluster.kubectl(['get', 'pod/hello', '--ignore-not-found', '-o', 'name']), '');
    await assert.rejects(get(port!), refused);
  });

  it('stops with a pod still running and leaves no process and no mount under its folder', async () => {
    const [port] = await freePorts(1);
    cluster.kubectl(['apply', '-f', '-'], serverPod('still-running', image, port!));
    cluster.kubectl(['wait', 'pod/still-running', '--for=condition=Ready', '--timeout=90s']);
    const server = processesMentioning(`.listen(${port},`);
    const ours = processesMentioning(node.dir); // containerd, kubelet and the pod's shim name the folder
    assert.ok(server.length > 0 && ours.length >= 3, `server ${server.join(',')}; node ${ours.join(',')}`);

    await node.stop();

    assert.deepEqual([...server, ...ours].filter(isAlive), []);
    assert.deepEqual(processesMentioning(node.dir), []);
    assert.deepEqual(mountsUnder(node.dir), []);
    await assert.rejects(get(port!), refused);
  });
});
