// A real Kubernetes control plane on loopback, with simulated nodes, so manifests, Helm releases and
// rollouts meet a real API server, admission, controllers and scheduler without a kubelet or a
// container runtime: etcd (Debian's etcd-server), the pinned kube-apiserver, kube-controller-manager
// and kube-scheduler, and kwok playing the nodes and their pods. Everything listens on 127.0.0.1 on
// free ports; the pids (with their start times) go to <dir>/control-plane.json so any process can
// later stop exactly these processes and no other. Flags proven here: docs in the shared notes
// (kubernetes-here.md) and kwok's own stage files.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { isAlive, sleep, spawnDetached, StackError, stopPid, tail } from '../stack/processes.ts';
import { aptInstall, onPath } from '../stack/tools.ts';
import { ensureGoBinary, GO_TOOLS, toolCacheDir } from '../tools/go-tools.ts';

type Say = (line: string) => void;

/** kwok manages the nodes carrying this annotation (kwok's own convention). */
export const SIMULATED_NODE_ANNOTATION = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;
const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';
const STATE_FILE = 'control-plane.json';
const READY_TIMEOUT_MS = 90_000;

// kwok's upstream stages for fast nodes and pods, read from the module the kwok binary was built
// from (same pin): nodes turn Ready at once and heartbeat through Leases, pods turn Ready once
// scheduled, Job pods complete, deleted pods go away.
const KWOK_STAGES = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'pod/fast/pod-ready.yaml',
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
];

const RecordedProcessSchema = z.object({ name: z.string(), pid: z.number().int(), startTime: z.string() });
const StateSchema = z.object({ server: z.string(), processes: z.array(RecordedProcessSchema) });
/** A process this control plane started; the start time tells it apart from a later process reusing its pid. */
export type RecordedProcess = z.infer<typeof RecordedProcessSchema>;

export interface ControlPlane {
  /** State folder: etcd data, keys and certificates, logs, kubeconfig, pid record. */
  dir: string;
  /** A kubeconfig whose user holds a system:masters token. */
  kubeconfig: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** The simulated nodes' names. */
  nodes: string[];
  /** What was started, in start order. */
  processes: readonly RecordedProcess[];
  /** Runs the pinned kubectl against this control plane; throws KubectlError on a non-zero exit. */
  kubectl(args: string[], input?: string): string;
  /** Stops exactly the processes it started; keeps the state folder. */
  stop(): Promise<void>;
}

/** kubectl exited non-zero (or could not start: exitCode null); `output` holds its stdout and stderr. */
export class KubectlError extends StackError {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(message);
  }
}

/**
 * Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok with `simulatedNodes`
 * (default 1) Ready nodes, all on 127.0.0.1. Resolves once the API server is ready, the default service
 * account exists and every node is Ready; on failure it stops what it started and throws a StackError
 * with the failing component's log tail.
 * @example const cp = await startControlPlane({ dir: '.local/k8s', say: console.log }); cp.kubectl(['get', 'nodes']);
 */
export async function startControlPlane(options: {
  dir: string;
  say: Say;
  simulatedNodes?: number;
}): Promise<ControlPlane> {
  const { say } = options;
  const dir = resolve(options.dir);
  const nodeCount = options.simulatedNodes ?? 1;
  if (!Number.isInteger(nodeCount) || nodeCount < 0)
    throw new StackError(`simulatedNodes must be ≥ 0, not ${nodeCount}`);
  const running = readState(dir)?.processes.filter(isOurs) ?? [];
  if (running.length > 0) {
    throw new StackError(
      `a control plane from ${dir} is still running (${running.map((p) => `${p.name} ${p.pid}`).join(', ')}); ` +
        'stop it first (stopControlPlane)',
    );
  }
  const started = Date.now();
  const paths = {
    logs: join(dir, 'logs'),
    pki: join(dir, 'pki'),
    kubeconfig: join(dir, 'kubeconfig'),
    servingCert: join(dir, 'pki', 'apiserver.crt'), // written by kube-apiserver itself (--cert-dir)
    ca: join(dir, 'pki', 'ca.crt'),
    saKey: join(dir, 'pki', 'service-account.key'),
    saPub: join(dir, 'pki', 'service-account.pub'),
    tokens: join(dir, 'pki', 'tokens.csv'),
    kwokConfig: join(dir, 'kwok', 'stages.yaml'),
  };
  for (const folder of [paths.logs, paths.pki, join(dir, 'etcd'), join(dir, 'kwok')]) {
    mkdirSync(folder, { recursive: true });
  }
  const bin = {
    etcd: etcdBinary(say),
    apiserver: ensureGoBinary('kube-apiserver', say),
    controllerManager: ensureGoBinary('kube-controller-manager', say),
    scheduler: ensureGoBinary('kube-scheduler', say),
    kubectl: ensureGoBinary('kubectl', say),
    kwok: nodeCount > 0 ? ensureGoBinary('kwok', say) : '',
  };
  if (nodeCount > 0) writeFileSync(paths.kwokConfig, kwokStages());

  // Service-account tokens are signed with a key pair kept across restarts so issued tokens stay valid.
  if (!existsSync(paths.saKey)) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(paths.saKey, pair.privateKey.export({ type: 'sec1', format: 'pem' }), { mode: 0o600 });
    writeFileSync(paths.saPub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  }
  const token = randomBytes(24).toString('hex');
  writeFileSync(paths.tokens, `${token},admin,admin,system:masters\n`, { mode: 0o600 });
  const [etcdPort, etcdPeerPort, apiPort] = await freePorts(3);
  const server = `https://127.0.0.1:${apiPort}`;

  const processes: RecordedProcess[] = [];
  const state = () => ({ server, processes });
  const launch = (name: string, binary: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
    const pid = spawnDetached(binary, args, { logFile: join(paths.logs, `${name}.log`), env, cwd: dir });
    const startTime = startTimeOf(pid);
    if (startTime === undefined) throw new StackError(`${name} exited at once; see ${join(paths.logs, `${name}.log`)}`);
    const recorded = { name, pid, startTime };
    processes.push(recorded);
    writeFileSync(join(dir, STATE_FILE), JSON.stringify(state(), null, 2));
    return recorded;
  };
  const kubectl = (args: string[], input?: string) => runKubectl(bin.kubectl, dir, paths.kubeconfig, args, input);
  const phase = (what: string, since: number) => say(`  ✓ ${what} (${seconds(Date.now() - since)} s)`);
  const nodes = Array.from({ length: nodeCount }, (_, i) => `sim-node-${i + 1}`);

  try {
    say(`• starting a Kubernetes control plane on ${server} (state in ${dir})`);
    let since = Date.now();
    const etcd = launch('etcd', bin.etcd, etcdArgs(dir, etcdPort!, etcdPeerPort!), {
      ...process.env,
      // etcd 3.4 runs on arm64 only when told to (amd64 needs nothing).
      ...(process.arch === 'arm64' ? { ETCD_UNSUPPORTED_ARCH: 'arm64' } : {}),
    });
    await waitUntil(etcd, paths.logs, 'it answers /health', () => etcdHealthy(etcdPort!));
    phase('etcd', since);

    since = Date.now();
    const apiserver = launch('kube-apiserver', bin.apiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      '--endpoint-reconciler-type=none', // a loopback advertise address is refused otherwise
      `--cert-dir=${paths.pki}`, // it generates its own self-signed serving certificate there
      `--token-auth-file=${paths.tokens}`,
      '--authorization-mode=Node,RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${paths.saPub}`,
      `--service-account-signing-key-file=${paths.saKey}`,
      `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
      '--profiling=false',
      // A watch from resourceVersion 0 becomes a streaming list, which needs etcd ≥ 3.4.31 (Debian 12 has
      // 3.4.23): kwok's watches would fail and it would fall back to relists backing off up to 30 s.
      '--feature-gates=WatchList=false',
    ]);
    await waitUntil(apiserver, paths.logs, 'it answers /readyz', () =>
      apiserverReady(apiPort!, paths.servingCert, token),
    );
    writeFileSync(paths.ca, caCertificates(readFileSync(paths.servingCert, 'utf8')));
    writeFileSync(paths.kubeconfig, kubeconfigYaml(server, paths.ca, token), { mode: 0o600 });
    phase('kube-apiserver ready', since);

    since = Date.now();
    const common = [`--kubeconfig=${paths.kubeconfig}`, '--leader-elect=false', '--secure-port=0'];
    const controllerManager = launch('kube-controller-manager', bin.controllerManager, [
      ...common,
      '--controllers=*,-node-ipam-controller', // no pod CIDRs to hand out
      `--service-account-private-key-file=${paths.saKey}`,
      `--root-ca-file=${paths.ca}`,
      `--flex-volume-plugin-dir=${join(dir, 'flexvolume')}`, // else it creates /usr/libexec/kubernetes/…
    ]);
    launch('kube-scheduler', bin.scheduler, common);
    // Pods are refused until their namespace's service account exists: the controllers' first visible work.
    await waitUntil(controllerManager, paths.logs, 'the default service account exists', async () =>
      Boolean(kubectl(['get', 'serviceaccount', 'default', '--namespace=default', '--ignore-not-found', '-o', 'name'])),
    );
    phase('kube-controller-manager and kube-scheduler', since);

    if (nodeCount > 0) {
      since = Date.now();
      // Nodes kept from an earlier run may still read Ready, so their leases go: only kwok brings them back.
      // (It only creates leases, and one left over would fail it until its next renewal, 10–20 s later.)
      kubectl(['delete', 'leases', '--namespace=kube-node-lease', '--ignore-not-found', ...nodes]);
      const kwok = launch(
        'kwok',
        bin.kwok,
        [
          `--kubeconfig=${paths.kubeconfig}`,
          `--config=${paths.kwokConfig}`,
          `--manage-nodes-with-annotation-selector=${SIMULATED_NODE_ANNOTATION.key}=${SIMULATED_NODE_ANNOTATION.value}`,
          '--node-ip=127.0.0.1',
          '--cidr=10.244.0.0/16',
          '--node-lease-duration-seconds=40', // the heartbeat-with-lease stage relies on leases
        ],
        { ...process.env, KWOK_WORKDIR: join(dir, 'kwok') }, // else it also loads ~/.kwok/kwok.yaml
      );
      kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: nodes.map(nodeObject) }));
      await waitUntil(kwok, paths.logs, `${nodeCount} simulated node(s) are Ready`, async () => {
        const ready = readyNodes(kubectl(['get', 'nodes', '-o', 'json']));
        const leased = kubectl(['get', 'leases', '--namespace=kube-node-lease', '-o', 'name']).split('\n');
        return nodes.every((n) => ready.includes(n) && leased.includes(`lease.coordination.k8s.io/${n}`));
      });
      phase(`kwok with ${nodeCount} Ready node(s)`, since);
    }

    // kube-scheduler has no readiness of its own to wait for: it must at least still run.
    const dead = processes.find((p) => !isOurs(p));
    if (dead) {
      const log = join(paths.logs, `${dead.name}.log`);
      throw new StackError(`${dead.name} exited during startup; ${log} ends:\n${tail(log, 20)}`);
    }
  } catch (error) {
    say(`! startup failed; stopping what was started (logs kept in ${paths.logs})`);
    await stopProcesses(processes);
    rmSync(join(dir, STATE_FILE), { force: true });
    throw error;
  }

  say(`✓ Kubernetes control plane ready in ${seconds(Date.now() - started)} s; KUBECONFIG=${paths.kubeconfig}`);
  return {
    dir,
    kubeconfig: paths.kubeconfig,
    server,
    nodes,
    processes,
    kubectl,
    stop: () => stopControlPlane(dir),
  };
}

/** Stops the processes recorded in `<dir>/control-plane.json` (only those still running as started), then forgets them. */
/** The control plane running from `dir`, for another process (`npm run k8s -- status`); undefined when none runs. */
export function attachControlPlane(dir: string, say: Say): ControlPlane | undefined {
  const state = readState(resolve(dir));
  if (!state || !state.processes.every(isOurs)) return undefined;
  const kubeconfig = join(resolve(dir), 'kubeconfig');
  const kubectl = ensureGoBinary('kubectl', say);
  return {
    dir: resolve(dir),
    kubeconfig,
    server: state.server,
    nodes: [],
    processes: state.processes,
    kubectl: (args, input) => runKubectl(kubectl, resolve(dir), kubeconfig, args, input),
    stop: () => stopControlPlane(dir),
  };
}

export async function stopControlPlane(dir: string): Promise<void> {
  const state = readState(resolve(dir));
  if (!state) return;
  await stopProcesses(state.processes);
  rmSync(join(resolve(dir), STATE_FILE), { force: true });
}

function readState(dir: string): z.infer<typeof StateSchema> | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = StateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new StackError(`${file} is not a control-plane record: ${parsed.error.message}`);
  return parsed.data;
}

/** Reverse start order: clients first, etcd last. */
async function stopProcesses(processes: readonly RecordedProcess[]): Promise<void> {
  for (const p of [...processes].reverse()) if (isOurs(p)) await stopPid(p.pid);
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined once the process is gone. */
export function startTimeOf(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // The command name (field 2) may hold spaces; fields after it start at field 3.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** Whether the recorded process still runs as started (not a later process reusing its pid). */
export function isOurs(p: RecordedProcess): boolean {
  return isAlive(p.pid) && startTimeOf(p.pid) === p.startTime;
}

function etcdBinary(say: Say): string {
  const found = onPath('etcd');
  if (found) return found;
  aptInstall(['etcd-server'], say, 'or put an etcd 3.4+ binary on PATH');
  const installed = onPath('etcd');
  if (!installed) throw new StackError('etcd-server was installed but etcd is not on PATH');
  return installed;
}

function etcdArgs(dir: string, port: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=control-plane',
    '--logger=zap', // 3.4's default logger is deprecated and says so
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=control-plane=${peer}`,
  ];
}

function kubeconfigYaml(server: string, caFile: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'local', context: { cluster: 'local', user: 'admin', namespace: 'default' } }],
    'current-context': 'local',
  });
}

/** The CA certificates of the serving chain kube-apiserver wrote (leaf first, then its CA). */
function caCertificates(chainPem: string): string {
  const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const cas = blocks.filter((pem) => new X509Certificate(pem).ca);
  if (cas.length === 0) throw new StackError('kube-apiserver wrote a serving certificate without its CA');
  return cas.join('\n') + '\n';
}

function kwokStages(): string {
  // GOMODCACHE as go-tools.ts sets it; the kwok build downloaded this module there.
  const { module, version } = GO_TOOLS.kwok;
  const root = join(toolCacheDir(), 'go', 'pkg', 'mod', `${module}@${version}`, 'kustomize', 'stage');
  const missing = KWOK_STAGES.filter((stage) => !existsSync(join(root, stage)));
  if (missing.length > 0) {
    throw new StackError(
      `kwok's stage files are missing from the Go module cache (${root}: ${missing.join(', ')}); ` +
        `restore them with: GOMODCACHE=${join(toolCacheDir(), 'go', 'pkg', 'mod')} go mod download ${module}@${version}`,
    );
  }
  return KWOK_STAGES.map((stage) => readFileSync(join(root, stage), 'utf8').trim()).join('\n---\n') + '\n';
}

function nodeObject(name: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [SIMULATED_NODE_ANNOTATION.key]: SIMULATED_NODE_ANNOTATION.value },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
      },
    },
  };
}

const NodeListSchema = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string() }),
      status: z
        .object({ conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional() })
        .optional(),
    }),
  ),
});

function readyNodes(nodeListJson: string): string[] {
  return NodeListSchema.parse(JSON.parse(nodeListJson))
    .items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => n.metadata.name);
}

function runKubectl(binary: string, dir: string, kubeconfig: string, args: string[], input?: string): string {
  const result = spawnSync(
    binary,
    [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(dir, 'kubectl-cache')}`, ...args],
    {
      encoding: 'utf8',
      input,
      maxBuffer: 64 << 20,
    },
  );
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  if (result.error) throw new KubectlError(`kubectl ${args.join(' ')}: ${result.error.message}`, null, output);
  if (result.status !== 0) {
    throw new KubectlError(
      `kubectl ${args.join(' ')} failed (exit ${result.status}):\n${output}`,
      result.status,
      output,
    );
  }
  return result.stdout;
}

/**
 * Polls `probe` until it holds; fails at once when `process` exits, or at the deadline, with the tail
 * of its log. A probe that throws is a real failure (it only returns false for "not yet").
 */
export async function waitUntil(
  p: RecordedProcess,
  logs: string,
  what: string,
  probe: () => Promise<boolean>,
): Promise<void> {
  const log = join(logs, `${p.name}.log`);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (!isOurs(p))
      throw new StackError(`${p.name} exited while waiting until ${what}; ${log} ends:\n${tail(log, 20)}`);
    if (await probe()) return;
    if (Date.now() > deadline) {
      throw new StackError(
        `${p.name}: gave up after ${READY_TIMEOUT_MS / 1000} s waiting until ${what}; ${log} ends:\n${tail(log, 20)}`,
      );
    }
    await sleep(200);
  }
}

async function etcdHealthy(port: number): Promise<boolean> {
  if (!(await acceptsConnections(port))) return false;
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5_000) });
  return response.ok;
}

/** /readyz with the admin token, verifying the serving certificate the API server generated. */
async function apiserverReady(port: number, caFile: string, token: string): Promise<boolean> {
  // It writes its certificate before it listens: once the port accepts, the file is complete.
  if (!(await acceptsConnections(port))) return false;
  const ca = readFileSync(caFile);
  return new Promise((done, fail) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/readyz', ca, headers: { authorization: `Bearer ${token}` }, timeout: 5_000 },
      (response) => {
        response.resume();
        done(response.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy(new StackError(`kube-apiserver /readyz on port ${port} timed out`)));
    req.on('error', fail);
    req.end();
  });
}

/** Whether something listens on the loopback port; a refused connection means not yet, other errors are real. */
function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((done, fail) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' ? done(false) : fail(error)));
  });
}

/** Ports the kernel hands out on 127.0.0.1, held together so they differ, then released for the servers. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((done, fail) => {
        server.once('error', fail);
        server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, done);
      });
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((done) => (s.listening ? s.close(() => done()) : done()))));
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
