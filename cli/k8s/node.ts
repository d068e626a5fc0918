// A real node for the local control plane (control-plane.ts), so the app image meets a real kubelet,
// containerd and runc: pods are admitted, probed, started and killed as in a cluster. No registry:
// images arrive as OCI archives imported into containerd, the pause image is built here. Only
// hostNetwork pods run (the workplace rule: test traffic stays on loopback); the CNI config is
// loopback-only, so the runtime reports its network ready (else the node stays NotReady and tainted)
// without touching the host's interfaces or iptables.
// containerd has its own root, state, socket and runc root under the node folder, never the system's
// /var/lib/containerd or /run/containerd. Settings proven on this kind of machine: shared notes
// (kubernetes-here.md). Some host state is not configurable in kubelet 1.37 / containerd 1.6 (the
// device-plugin socket folder, /var/log/containers, shim sockets in /run/containerd/s, kernel
// tunables, `k8s.io` cgroups): start records what existed, stop removes what it added and restores
// the tunables, so one real node runs per machine at a time.
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import type { Say } from '../entry.ts';
import { ensurePodman } from '../image/image-command.ts';
import { run, sleep, spawnDetached, StackError, stopPid } from '../stack/processes.ts';
import { aptInstall, onPath } from '../stack/tools.ts';
import { ensureGoBinary } from '../tools/go-tools.ts';
import { freePorts, isOurs, startTimeOf, waitUntil, type ControlPlane, type RecordedProcess } from './control-plane.ts';
import { ensurePauseImage } from './pause/pause-image.ts';

const STATE_FILE = 'node.json';
/** The containerd namespace the CRI plugin keeps Kubernetes' images and containers in. */
const NAMESPACE = 'k8s.io';
const CNI_BIN_DIR = '/usr/lib/cni'; // Debian's containernetworking-plugins
const TASKS_GONE_TIMEOUT_MS = 20_000;

// Host paths kubelet 1.37 and containerd 1.6 use whatever their configuration says.
const DEVICE_PLUGINS = '/var/lib/kubelet/device-plugins'; // pluginapi.KubeletSocket is a constant
const DEVICE_PLUGIN_FILES = ['kubelet.sock', 'kubelet_internal_checkpoint'];
const LOG_LINKS = '/var/log/containers'; // kuberuntime's legacy log symlinks
const SHIM_SOCKETS = '/run/containerd/s'; // runtime/v2/shim: socketRoot is defaults.DefaultStateDir
// kubelet's setupKernelTunables writes these (protectKernelDefaults would refuse to start instead).
const KERNEL_TUNABLES = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];

const StateSchema = z.object({
  name: z.string(),
  socket: z.string(),
  processes: z.array(z.object({ name: z.string(), pid: z.number().int(), startTime: z.string() })),
  /** Host paths that did not exist before start (parents first), and the tunables' values before start. */
  host: z.object({ created: z.array(z.string()), tunables: z.record(z.string(), z.string()) }),
});
type State = z.infer<typeof StateSchema>;

export interface RealNode {
  /** The Node object's name. */
  name: string;
  /** State folder: containerd, kubelet, logs (logs/), pod logs (pod-logs/), pid record. */
  dir: string;
  /** containerd's socket, for `ctr --address <socket> --namespace k8s.io`. */
  containerdSocket: string;
  /** containerd and kubelet as started. */
  processes: readonly RecordedProcess[];
  /** Stops kubelet and containerd, kills the pods' containers and shims, unmounts, restores host state. */
  stop(): Promise<void>;
}

/** Why a real node could not start, or could not be stopped without leftovers. */
export class RealNodeError extends StackError {
  constructor(
    message: string,
    readonly code: 'not-root' | 'another-kubelet' | 'still-running' | 'path-too-long' | 'cri-failed' | 'leftovers',
  ) {
    super(message);
  }
}

/**
 * Starts containerd and a kubelet registering node `name` (default `real-node`) with `cluster`, after
 * importing the pause image and `images` (OCI archives) into containerd. Resolves once the node is Ready
 * and untainted; on failure it stops what it started and throws. Needs root.
 * @example const node = await startRealNode(cp, { dir: '.local/node', say: console.log, images: ['app.tar'] });
 */
export async function startRealNode(
  cluster: ControlPlane,
  options: { dir: string; say: Say; images: string[]; name?: string },
): Promise<RealNode> {
  const { say } = options;
  const dir = resolve(options.dir);
  const name = options.name ?? 'real-node';
  if (process.getuid?.() !== 0) throw new RealNodeError('a real node needs root (kubelet, runc, mounts)', 'not-root');
  const previous = readState(dir);
  const running = previous?.processes.filter(isOurs) ?? [];
  if (running.length > 0) {
    throw new RealNodeError(
      `a node from ${dir} is still running (${running.map((p) => `${p.name} ${p.pid}`).join(', ')}); stop it first`,
      'still-running',
    );
  }
  if (previous) await stopRealNode(dir, say); // a crashed run's containers, mounts and host changes
  const others = kubeletPids();
  if (others.length > 0) {
    throw new RealNodeError(
      `another kubelet runs on this machine (pid ${others.join(', ')}); kubelet's device-plugin socket and kernel ` +
        'tunables are machine-wide, so one node at a time',
      'another-kubelet',
    );
  }
  const missing = options.images.filter((archive) => !existsSync(archive));
  if (missing.length > 0) throw new StackError(`no such image archive: ${missing.join(', ')}`);
  const started = Date.now();
  const paths = nodePaths(dir);
  // unix socket paths are limited to 107 bytes; containerd also listens on <socket>.ttrpc
  if (Buffer.byteLength(`${paths.socket}.ttrpc`) > 107) {
    throw new RealNodeError(`${dir} is too long a path for containerd's socket; use a shorter folder`, 'path-too-long');
  }
  for (const folder of [paths.logs, paths.images, paths.cni, paths.containerd, paths.kubelet, paths.podLogs]) {
    mkdirSync(folder, { recursive: true });
  }
  const bin = { ...runtimeBinaries(say), kubelet: ensureGoBinary('kubelet', say) };
  const podman = ensurePodman(say);
  const pause = ensurePauseImage(podman, say);
  const pauseArchive = join(paths.images, `${pause.replace(/[^\w.-]+/g, '_')}.tar`);
  if (!existsSync(pauseArchive)) {
    podman.run(['save', '--format', 'oci-archive', '-o', pauseArchive, pause], 'podman save (pause)');
  }

  const state: State = { name, socket: paths.socket, processes: [], host: recordHost() };
  const save = () => writeFileSync(join(dir, STATE_FILE), JSON.stringify(state, null, 2));
  save();
  const launch = (processName: string, binary: string, args: string[]) => {
    const pid = spawnDetached(binary, args, { logFile: join(paths.logs, `${processName}.log`), cwd: dir });
    const startTime = startTimeOf(pid);
    if (startTime === undefined) throw new StackError(`${processName} exited at once; see ${paths.logs}`);
    const recorded = { name: processName, pid, startTime };
    state.processes.push(recorded);
    save();
    return recorded;
  };
  const ctr = (args: string[], what: string) => runCtr(bin.ctr, paths.socket, args, what);
  const phase = (what: string, since: number) => say(`  ✓ ${what} (${seconds(Date.now() - since)} s)`);

  try {
    say(`• starting a real node ${name} (containerd, kubelet; state in ${dir})`);
    let since = Date.now();
    writeFileSync(paths.containerdConfig, containerdConfig(paths, pause, bin.runc));
    // Loopback only: the runtime reports its network ready; pods other than hostNetwork get no interface.
    writeFileSync(
      join(paths.cni, '10-loopback.conflist'),
      JSON.stringify({ cniVersion: '1.0.0', name: 'loopback-only', plugins: [{ type: 'loopback' }] }),
    );
    rmSync(paths.socket, { force: true });
    const containerd = launch('containerd', bin.containerd, [`--config=${paths.containerdConfig}`]);
    await waitUntil(containerd, paths.logs, 'its CRI plugin serves', async () => {
      if (!existsSync(paths.socket)) return false;
      const cri = ctr(['plugins', 'ls'], 'ctr plugins ls')
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .find(([type, id]) => type === 'io.containerd.grpc.v1' && id === 'cri');
      if (cri?.at(-1) === 'ok') return true;
      throw new RealNodeError(
        `containerd's CRI plugin did not load (${cri?.at(-1) ?? 'missing'}); see ${join(paths.logs, 'containerd.log')}`,
        'cri-failed',
      );
    });
    phase('containerd', since);

    since = Date.now();
    for (const archive of [pauseArchive, ...options.images]) {
      const one = Date.now();
      ctr(['images', 'import', archive], `ctr images import ${archive}`);
      phase(`imported ${basename(archive)}`, one);
    }
    if (options.images.length > 0) phase(`${options.images.length + 1} image(s) imported`, since);

    since = Date.now();
    const [kubeletPort] = await freePorts(1);
    writeFileSync(paths.kubeletConfig, kubeletConfig(paths, kubeletPort!));
    // A Node object (and lease) left from an earlier kubelet may still read Ready: only ours may say so.
    cluster.kubectl(['delete', 'node', name, '--ignore-not-found']);
    cluster.kubectl(['delete', 'lease', name, '--namespace=kube-node-lease', '--ignore-not-found']);
    const kubelet = launch('kubelet', bin.kubelet, [
      `--config=${paths.kubeletConfig}`,
      // The control plane's system:masters token: acceptable for a local test cluster only; a real node
      // gets its own client certificate (system:node:<name>) through TLS bootstrap.
      `--kubeconfig=${cluster.kubeconfig}`,
      `--root-dir=${paths.kubeletRoot}`,
      `--cert-dir=${join(paths.kubelet, 'pki')}`, // its self-signed serving certificate
      `--hostname-override=${name}`,
    ]);
    await waitUntil(kubelet, paths.logs, `node ${name} is Ready and untainted`, async () =>
      readyAndUntainted(cluster.kubectl(['get', 'node', name, '--ignore-not-found', '-o', 'json'])),
    );
    phase(`kubelet: node ${name} Ready`, since);
  } catch (error) {
    say(`! node startup failed; stopping what was started (logs kept in ${paths.logs})`);
    await stopRealNode(dir, say);
    throw error;
  }

  say(`✓ real node ${name} ready in ${seconds(Date.now() - started)} s`);
  return {
    name,
    dir,
    containerdSocket: paths.socket,
    processes: state.processes,
    stop: () => stopRealNode(dir, say),
  };
}

/**
 * Stops the node recorded in `<dir>/node.json`: kubelet, then the pods' containers (through containerd,
 * else runc) and their shims, then containerd; unmounts everything under `dir`, removes what start added
 * on the host and restores the kernel tunables. Throws RealNodeError('leftovers') naming what remains.
 */
export async function stopRealNode(dir: string, say: Say = () => {}): Promise<void> {
  const root = resolve(dir);
  const state = readState(root);
  if (!state) return;
  const paths = nodePaths(root);
  const problems: string[] = [];
  const attempt = (what: string, action: () => unknown) => {
    try {
      action();
    } catch (error) {
      if (!(error instanceof StackError || isErrno(error))) throw error;
      problems.push(`${what}: ${error.message}`);
    }
  };
  const find = (name: string) => state.processes.find((p) => p.name === name && isOurs(p));

  const kubelet = find('kubelet');
  if (kubelet) await stopPid(kubelet.pid);
  const containerd = find('containerd');
  if (containerd) {
    // Killed tasks are deleted by the CRI plugin itself (it unmounts their root filesystems and their
    // shims exit). A kill may race that deletion and fail: only the tasks still listed afterwards count,
    // and the runc sweep below removes those.
    const ctr = (args: string[]) => runCtr(onPath('ctr') ?? 'ctr', state.socket, args, `ctr ${args.join(' ')}`);
    const tasks = () => ctr(['tasks', 'ls', '--quiet']).split('\n').filter(Boolean);
    try {
      for (const id of tasks()) {
        try {
          ctr(['tasks', 'kill', '--all', '--signal=SIGKILL', id]);
        } catch (error) {
          if (!(error instanceof StackError)) throw error; // else it raced the deletion: the listing below decides
        }
      }
      const deadline = Date.now() + TASKS_GONE_TIMEOUT_MS;
      while (tasks().length > 0 && Date.now() < deadline) await sleep(200);
      const left = tasks();
      if (left.length > 0)
        say(`! containerd still lists ${left.length} task(s) after SIGKILL; removing them with runc`);
    } catch (error) {
      if (!(error instanceof StackError)) throw error;
      say(`! containerd did not answer (${error.message}); removing the containers with runc`);
    }
    await stopPid(containerd.pid);
  }

  // What containerd did not clean up (it crashed, or a task outlived the wait): runc's containers, then shims.
  const runc = onPath('runc') ?? 'runc';
  const bundles = join(paths.containerdState, 'io.containerd.runtime.v2.task', NAMESPACE);
  const ids = new Set([...runcContainers(runc, paths.runcRoot), ...(existsSync(bundles) ? readdirSync(bundles) : [])]);
  for (const id of runcContainers(runc, paths.runcRoot)) {
    attempt(`runc delete ${id}`, () => run(runc, ['--root', paths.runcRoot, 'delete', '--force', id], 'runc delete'));
  }
  for (const pid of shimPids(state.socket)) await stopPid(pid, 2_000);
  for (const id of ids) rmSync(shimSocket(state.socket, id), { force: true });

  for (const mount of mountsUnder(root).reverse()) attempt(`umount ${mount}`, () => run('umount', [mount], 'umount'));
  attempt('host cleanup', () => restoreHost(state, paths.podLogs, say));

  const leftovers = [
    ...state.processes.filter(isOurs).map((p) => `${p.name} (pid ${p.pid})`),
    ...shimPids(state.socket).map((pid) => `containerd-shim-runc-v2 (pid ${pid})`),
    ...runcContainers(runc, paths.runcRoot).map((id) => `runc container ${id}`),
    ...mountsUnder(root).map((mount) => `mount ${mount}`),
  ];
  if (leftovers.length > 0 || problems.length > 0) {
    throw new RealNodeError(
      `stopping the node in ${root} left: ${leftovers.join(', ') || 'nothing running'}\n${problems.join('\n')}`,
      'leftovers',
    );
  }
  rmSync(join(root, STATE_FILE), { force: true });
}

function nodePaths(dir: string) {
  const containerd = join(dir, 'containerd');
  const kubelet = join(dir, 'kubelet');
  return {
    logs: join(dir, 'logs'),
    images: join(dir, 'images'),
    cni: join(dir, 'cni'),
    podLogs: join(dir, 'pod-logs'),
    containerd,
    containerdConfig: join(containerd, 'config.toml'),
    containerdState: join(containerd, 'state'),
    socket: join(containerd, 'containerd.sock'),
    runcRoot: join(containerd, 'runc', NAMESPACE), // runc's state root for the namespace's containers
    kubelet,
    kubeletConfig: join(kubelet, 'config.yaml'),
    kubeletRoot: join(kubelet, 'root'),
  };
}
type NodePaths = ReturnType<typeof nodePaths>;

function readState(dir: string): State | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = StateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new StackError(`${file} is not a node record: ${parsed.error.message}`);
  return parsed.data;
}

/** containerd (with ctr and its runc shim), runc and the loopback CNI plugin, from Debian when missing. */
function runtimeBinaries(say: Say): { containerd: string; ctr: string; runc: string } {
  const wanted = { containerd: 'containerd', ctr: 'containerd', 'containerd-shim-runc-v2': 'containerd', runc: 'runc' };
  const packages = new Set(Object.entries(wanted).flatMap(([binary, pkg]) => (onPath(binary) ? [] : [pkg])));
  if (!existsSync(join(CNI_BIN_DIR, 'loopback'))) packages.add('containernetworking-plugins');
  if (packages.size > 0) aptInstall([...packages], say, 'or install containerd, runc and the CNI plugins yourself');
  const found = (binary: string) => {
    const path = onPath(binary);
    if (!path) throw new StackError(`${binary} is not on PATH after installing its Debian package`);
    return path;
  };
  found('containerd-shim-runc-v2');
  return { containerd: found('containerd'), ctr: found('ctr'), runc: found('runc') };
}

function containerdConfig(paths: NodePaths, sandboxImage: string, runc: string): string {
  const q = (value: string) => JSON.stringify(value); // a TOML basic string
  return `# Written by cli/k8s/node.ts: a containerd of its own, nothing under /var/lib/containerd or /run/containerd.
version = 2
root = ${q(join(paths.containerd, 'root'))}
state = ${q(paths.containerdState)}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = ${q(paths.socket)}

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(join(paths.containerd, 'opt'))}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(sandboxImage)}
  # No CAP_SYS_RESOURCE here: without this, runc fails with "can't get final child's PID".
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    snapshotter = "overlayfs"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = ${q(runc)}
        Root = ${q(join(paths.containerd, 'runc'))}
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(CNI_BIN_DIR)}
    conf_dir = ${q(paths.cni)}
`;
}

function kubeletConfig(paths: NodePaths, port: number): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: `unix://${paths.socket}`,
    address: '127.0.0.1',
    port,
    readOnlyPort: 0,
    healthzPort: 0,
    // This machine: cgroup v1 with a v2 mount beside it, cgroupfs, swap allowed.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    failSwapOn: false,
    oomScoreAdj: 0, // lowering it needs CAP_SYS_RESOURCE
    makeIPTablesUtilChains: false, // no KUBE-FIREWALL chains in the host's iptables
    podLogsDir: paths.podLogs,
    volumePluginDir: join(paths.kubelet, 'volume-plugins'),
    // A test node keeps its imported images (nothing could pull them back) and evicts nothing.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {},
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true } },
    authorization: { mode: 'Webhook' },
  });
}

const NodeSchema = z.object({
  spec: z.object({ taints: z.array(z.object({ key: z.string(), effect: z.string() })).optional() }),
  status: z.object({ conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional() }).optional(),
});

/** Ready, and without the not-ready taint the node lifecycle controller adds at registration. */
function readyAndUntainted(nodeJson: string): boolean {
  if (!nodeJson.trim()) return false;
  const node = NodeSchema.parse(JSON.parse(nodeJson));
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return ready && (node.spec.taints ?? []).length === 0;
}

function runCtr(ctr: string, socket: string, args: string[], what: string): string {
  return run(ctr, ['--address', socket, '--namespace', NAMESPACE, ...args], what, { maxBuffer: 64 << 20 });
}

function runcContainers(runc: string, root: string): string[] {
  if (!existsSync(root)) return [];
  return run(runc, ['--root', root, 'list', '--quiet'], 'runc list').split('\n').filter(Boolean);
}

/** containerd 1.6 names a shim's socket after its containerd address, namespace and container id. */
function shimSocket(containerdSocket: string, id: string): string {
  return join(
    SHIM_SOCKETS,
    createHash('sha256')
      .update(join(containerdSocket, NAMESPACE, id))
      .digest('hex'),
  );
}

/** The command line of every running process (zombies have none). */
function commandLines(): { pid: number; argv: string[] }[] {
  const out: { pid: number; argv: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch (error) {
      if (isErrno(error) && (error.code === 'ENOENT' || error.code === 'ESRCH')) continue; // exited meanwhile
      throw error;
    }
    if (cmdline) out.push({ pid: Number(entry), argv: cmdline.split('\0').filter(Boolean) });
  }
  return out;
}

function shimPids(containerdSocket: string): number[] {
  return commandLines()
    .filter(({ argv }) => basename(argv[0] ?? '') === 'containerd-shim-runc-v2')
    .filter(({ argv }) => argv[argv.indexOf('-address') + 1] === containerdSocket)
    .map(({ pid }) => pid);
}

/** Any kubelet on the machine: ours is `kubelet-v1.37.2-versioned`, a packaged one `kubelet`. */
function kubeletPids(): number[] {
  return commandLines()
    .filter(({ argv }) => basename(argv[0] ?? '').startsWith('kubelet'))
    .map(({ pid }) => pid);
}

/** Mount points at or under `dir`, in mount order (unmount in reverse). */
function mountsUnder(dir: string): string[] {
  // Octal escapes stand for spaces, tabs, newlines and backslashes in /proc/mounts.
  const unescape = (field: string) =>
    field.replace(/\\([0-7]{3})/g, (_, code: string) => String.fromCharCode(parseInt(code, 8)));
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => unescape(line.split(' ')[1] ?? ''))
    .filter((mount) => mount === dir || mount.startsWith(`${dir}/`));
}

/** The host paths a node may create, parents first: kubelet's and containerd's fixed folders, `k8s.io` cgroups. */
function hostPaths(): string[] {
  const cgroups = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([, mount, type]) => mount?.startsWith('/sys/fs/cgroup') && (type === 'cgroup' || type === 'cgroup2'))
    .map(([, mount]) => join(mount!, NAMESPACE)); // runc puts pods at /<namespace>/<id> when kubelet gives no parent
  return ['/var/lib/kubelet', DEVICE_PLUGINS, LOG_LINKS, '/run/containerd', SHIM_SOCKETS, ...cgroups];
}

function recordHost(): State['host'] {
  const tunables: Record<string, string> = {};
  for (const key of KERNEL_TUNABLES) tunables[key] = readFileSync(join('/proc/sys', key), 'utf8').trim();
  return { created: hostPaths().filter((path) => !existsSync(path)), tunables };
}

/** Removes what this node added on the host; folders another process has since put things in stay. */
function restoreHost(state: State, podLogs: string, say: Say): void {
  if (existsSync(LOG_LINKS)) {
    for (const link of readdirSync(LOG_LINKS)) {
      const path = join(LOG_LINKS, link);
      if (lstatSync(path).isSymbolicLink() && readlinkSync(path).startsWith(`${podLogs}/`)) rmSync(path);
    }
  }
  const otherKubelet = kubeletPids().length > 0; // then the socket and the tunables are its own now
  if (otherKubelet) say(`! another kubelet runs: ${DEVICE_PLUGINS} and the kernel tunables stay as they are`);
  if (!otherKubelet) {
    for (const file of DEVICE_PLUGIN_FILES) rmSync(join(DEVICE_PLUGINS, file), { force: true });
    for (const [key, value] of Object.entries(state.host.tunables)) {
      const path = join('/proc/sys', key);
      if (readFileSync(path, 'utf8').trim() !== value) writeFileSync(path, value);
    }
  }
  for (const path of [...state.host.created].reverse()) {
    if (otherKubelet && (path === DEVICE_PLUGINS || path === '/var/lib/kubelet')) continue;
    try {
      rmdirSync(path);
    } catch (error) {
      if (!isErrno(error)) throw error;
      if (error.code === 'ENOENT') continue;
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EBUSY') throw error;
      say(`! ${path} was created by this node but is in use now; kept`);
    }
  }
}

function isErrno(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
