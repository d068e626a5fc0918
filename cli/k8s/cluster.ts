// A one-node Kubernetes cluster on this machine, with the app installed by its own chart: the
// control plane (cli/k8s/control-plane.ts), a real node (kubelet + containerd + runc,
// cli/k8s/node.ts) that imports the app image from an OCI archive (no registry), and
// `helm upgrade --install` with the platform model's `local-cluster` environment — pods on the host
// network reaching the local stack's Postgres, NATS and Temporal on loopback.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { buildAppImage, ensurePodman, type Podman } from '../image/image-command.ts';
import { run } from '../stack/processes.ts';
import { repoRoot, type ServerEndpoints } from '../stack/settings.ts';
import { attachControlPlane, startControlPlane, stopControlPlane, type ControlPlane } from './control-plane.ts';
import { ensureNamespace, installChart, type ToolRun } from './deployment-checks.ts';
import { startRealNode, stopRealNode, type RealNode } from './node.ts';

type Say = (line: string) => void;

/** The generated values of the platform model's local-cluster environment. */
export const LOCAL_CLUSTER_VALUES = join(repoRoot, 'platform', 'generated', 'values-local-cluster.yaml');
export const RELEASE = 'app';
export const NAMESPACE = 'app';

export interface LocalCluster {
  dir: string;
  control: ControlPlane;
  node: RealNode;
  /** The app image tag the node runs. */
  image: string;
  /** Where the BFF pod listens on the host network. */
  bffUrl: string;
}

/** The BFF's port in the local-cluster environment (platform/model/environments/local-cluster.yaml). */
export function localClusterBffPort(): number {
  const values = z
    .object({ bff: z.object({ port: z.number() }) })
    .parse(parse(readFileSync(LOCAL_CLUSTER_VALUES, 'utf8')));
  return values.bff.port;
}

/** Saves the app image as an OCI archive in `dir` (reused when the tag did not change). */
export function saveImage(podman: Podman, image: string, dir: string): string {
  const archive = join(dir, `${image.replace(/[^\w.-]+/g, '_')}.tar`);
  if (!existsSync(archive)) {
    mkdirSync(dir, { recursive: true });
    podman.run(['save', '--format', 'oci-archive', '-o', `${archive}.partial`, image], 'podman save');
    run('mv', [`${archive}.partial`, archive], 'mv');
  }
  return archive;
}

/** Imports more OCI archives into a running node's containerd (what the CRI plugin runs pods from). */
export function importImages(node: RealNode, archives: string[]): void {
  for (const archive of archives) {
    run(
      'ctr',
      ['--address', node.containerdSocket, '--namespace', 'k8s.io', 'images', 'import', archive],
      'ctr import',
    );
  }
}

/** The cluster running from `dir` (started by another process), if any. */
export function attachLocalCluster(dir: string, say: Say): ControlPlane | undefined {
  return attachControlPlane(join(dir, 'control-plane'), say);
}

/** Starts the control plane and the real node in `dir`, with the app image imported. */
export async function startLocalCluster(dir: string, say: Say): Promise<LocalCluster> {
  const podman = ensurePodman(say);
  const image = buildAppImage(podman, say).name;
  const archive = saveImage(podman, image, join(dir, 'images'));
  const control = await startControlPlane({ dir: join(dir, 'control-plane'), say, simulatedNodes: 0 });
  try {
    const node = await startRealNode(control, { dir: join(dir, 'node'), say, images: [archive] });
    return { dir, control, node, image, bffUrl: `http://127.0.0.1:${localClusterBffPort()}` };
  } catch (error) {
    await control.stop();
    throw error;
  }
}

/** Stops exactly what startLocalCluster started (node first), whichever process started it. */
export async function stopLocalCluster(dir: string, say: Say): Promise<void> {
  await stopRealNode(join(dir, 'node'), say);
  await stopControlPlane(join(dir, 'control-plane'));
}

/**
 * Installs (or upgrades) the app with the chart and the local-cluster values: the servers' endpoints
 * as a Secret, the local dev JWKS as a file, the exact image tag the node imported.
 */
export function installApp(
  say: Say,
  cluster: Pick<LocalCluster, 'control' | 'image' | 'dir'>,
  options: { endpoints: ServerEndpoints; jwksFile: string; sets?: string[]; timeout?: string; bffPort?: number },
): ToolRun {
  ensureNamespace(cluster.control, NAMESPACE);
  const { openfga } = options.endpoints;
  if (!openfga) throw new Error('the local stack has no OpenFGA endpoint (run `npm run up` first)');
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'local-stack', namespace: NAMESPACE },
    stringData: {
      'database-url': options.endpoints.databaseUrl,
      'nats-url': options.endpoints.natsUrl,
      ...(openfga.token ? { 'openfga-api-token': openfga.token } : {}),
    },
  };
  cluster.control.kubectl(['apply', '-f', '-'], JSON.stringify(secret));
  const [repository, tag] = splitImage(cluster.image);
  const files = join(cluster.dir, 'values-install.json');
  writeFileSync(
    files,
    JSON.stringify({
      image: { repository, tag, pullPolicy: 'IfNotPresent' },
      files: { 'jwks.json': readFileSync(options.jwksFile, 'utf8') },
      config: {
        TEMPORAL_ADDRESS: options.endpoints.temporalAddress,
        TEMPORAL_NAMESPACE: options.endpoints.temporalNamespace,
        OPENFGA_API_URL: openfga.url,
        OPENFGA_STORE_ID: openfga.storeId,
      },
      secretEnv: {
        DATABASE_URL: { secretName: 'local-stack', key: 'database-url' },
        NATS_URL: { secretName: 'local-stack', key: 'nats-url' },
        ...(openfga.token ? { OPENFGA_API_TOKEN: { secretName: 'local-stack', key: 'openfga-api-token' } } : {}),
      },
      ...(options.bffPort ? { bff: { port: options.bffPort } } : {}),
    }),
  );
  return installChart(say, cluster.control, {
    release: RELEASE,
    namespace: NAMESPACE,
    valueFiles: [LOCAL_CLUSTER_VALUES, files],
    sets: options.sets ?? [],
    timeout: options.timeout ?? '300s',
  });
}

function splitImage(image: string): [string, string] {
  const at = image.lastIndexOf(':');
  return [image.slice(0, at), image.slice(at + 1)];
}

export interface PodStatus {
  name: string;
  component: string;
  phase: string;
  ready: boolean;
  restarts: number;
}

const podList = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string(), labels: z.record(z.string(), z.string()).optional() }),
      status: z.object({
        phase: z.string().optional(),
        containerStatuses: z.array(z.object({ ready: z.boolean(), restartCount: z.number() })).optional(),
      }),
    }),
  ),
});

/** The app's pods as the API server sees them. */
export function appPods(control: ControlPlane): PodStatus[] {
  const list = podList.parse(JSON.parse(control.kubectl(['get', 'pods', '--namespace', NAMESPACE, '-o', 'json'])));
  return list.items.map((pod) => ({
    name: pod.metadata.name,
    component: pod.metadata.labels?.['app.kubernetes.io/component'] ?? '',
    phase: pod.status.phase ?? 'Unknown',
    ready:
      (pod.status.containerStatuses ?? []).every((c) => c.ready) && (pod.status.containerStatuses ?? []).length > 0,
    restarts: (pod.status.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0),
  }));
}
