// Pinned Go tools built from the Go module proxy into a machine-wide cache, so every clone and every
// CI run on this machine reuses them: the first build pays minutes, later ones find the binary.
// Modules whose go.mod carries `replace` directives cannot be `go install`ed; they are built from a
// small generated wrapper module that requires the tool at its pin and copies its replaces
// (see docs/tools.md).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { run, StackError } from '../stack/processes.ts';

type Say = (line: string) => void;

const KUBERNETES = 'v1.37.2';

interface GoTool {
  /** Module whose version is pinned. */
  module: string;
  version: string;
  /** Binary name → Go package that builds it. */
  binaries: Record<string, string>;
  /** Build through a wrapper module that copies the tool's `replace` directives. */
  wrapper?: {
    /** Version for `./staging/src/<module>` replaces (Kubernetes' staging repositories). */
    staging?: string;
    /** Extra replace lines that the tool's own go.mod does not carry. */
    replace?: string[];
  };
  /** Module paths missing from the checksum database (GONOSUMDB is scoped to exactly these). */
  noSumDb?: string[];
  /** Linker flags, e.g. the version a binary reports; part of the cached binary's name. */
  ldflags?: { flags: string; tag: string };
}

/** Every Go tool the project uses, pinned. Names are the binaries. */
export const GO_TOOLS = {
  kubeconform: {
    module: 'github.com/yannh/kubeconform',
    version: 'v0.8.0',
    binaries: { kubeconform: 'github.com/yannh/kubeconform/cmd/kubeconform' },
  },
  helm: { module: 'helm.sh/helm/v3', version: 'v3.22.0', binaries: { helm: 'helm.sh/helm/v3/cmd/helm' } },
  kustomize: {
    module: 'sigs.k8s.io/kustomize/kustomize/v5',
    version: 'v5.8.2', // v5.8.3 needs Go 1.27
    binaries: { kustomize: 'sigs.k8s.io/kustomize/kustomize/v5' },
  },
  sops: {
    module: 'github.com/getsops/sops/v3',
    version: 'v3.13.3',
    binaries: { sops: 'github.com/getsops/sops/v3/cmd/sops' },
  },
  kwok: { module: 'sigs.k8s.io/kwok', version: 'v0.8.0', binaries: { kwok: 'sigs.k8s.io/kwok/cmd/kwok' } },
  // CRDs from Go API types (cli/k8s/schemas.ts); its go.mod has no replaces, so `go install` works.
  'controller-gen': {
    module: 'sigs.k8s.io/controller-tools',
    version: 'v0.23.0',
    binaries: { 'controller-gen': 'sigs.k8s.io/controller-tools/cmd/controller-gen' },
  },
  'helm-unittest': {
    module: 'github.com/helm-unittest/helm-unittest',
    version: 'v1.1.2',
    binaries: { 'helm-unittest': 'github.com/helm-unittest/helm-unittest/cmd/helm-unittest' },
    wrapper: {},
  },
  kubernetes: {
    module: 'k8s.io/kubernetes',
    version: KUBERNETES,
    binaries: {
      'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
      'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
      'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
      kubectl: 'k8s.io/kubernetes/cmd/kubectl',
      kubelet: 'k8s.io/kubernetes/cmd/kubelet',
    },
    wrapper: { staging: KUBERNETES.replace(/^v1\./, 'v0.') },
    // Built from a module, the binaries would report v0.0.0-master, which charts' kubeVersion refuse.
    ldflags: {
      tag: 'versioned',
      flags: [
        `k8s.io/component-base/version.gitVersion=${KUBERNETES}`,
        'k8s.io/component-base/version.gitMajor=1',
        `k8s.io/component-base/version.gitMinor=${KUBERNETES.split('.')[1]}`,
        'k8s.io/component-base/version.gitTreeState=clean',
        `k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES}`,
        'k8s.io/client-go/pkg/version.gitMajor=1',
        `k8s.io/client-go/pkg/version.gitMinor=${KUBERNETES.split('.')[1]}`,
      ]
        .map((flag) => `-X ${flag}`)
        .join(' '),
    },
  },
  // The authorization server of the local stack (cli/stack/openfga.ts); its go.mod has no replaces.
  openfga: {
    module: 'github.com/openfga/openfga',
    version: 'v1.22.1',
    binaries: { openfga: 'github.com/openfga/openfga/cmd/openfga' },
  },
  // The trace viewer of the local stack (cli/stack/jaeger.ts): Jaeger v2, an OpenTelemetry Collector
  // distribution; its go.mod replaces sarama, so it is built through a wrapper. Every module of its
  // go.sum verifies against sum.golang.org (checked at v1.76.0), so GONOSUMDB stays unset.
  jaeger: {
    module: 'github.com/jaegertracing/jaeger',
    version: 'v1.76.0',
    binaries: { jaeger: 'github.com/jaegertracing/jaeger/cmd/jaeger' },
    wrapper: {},
  },
  tctl: {
    module: 'github.com/temporalio/tctl',
    version: 'v1.18.0', // `go install …@v1.18.0` fails: the proxy refuses the version list
    binaries: { tctl: 'github.com/temporalio/tctl/cmd/tctl' },
    wrapper: {},
  },
} satisfies Record<string, GoTool>;

export type GoToolName = keyof typeof GO_TOOLS;
export type GoBinary = { [K in GoToolName]: keyof (typeof GO_TOOLS)[K]['binaries'] }[GoToolName];

/** The machine-wide cache: `DWB_TOOL_CACHE`, else `$XDG_CACHE_HOME` or `~/.cache`, `durable-workflow-backend/`. */
export function toolCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DWB_TOOL_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'durable-workflow-backend');
}

function toolOf(binary: GoBinary): [GoToolName, GoTool] {
  for (const [name, tool] of Object.entries(GO_TOOLS) as [GoToolName, GoTool][]) {
    if (binary in tool.binaries) return [name, tool];
  }
  throw new StackError(`unknown Go tool ${binary}`);
}

/** Where a pinned binary lives in the cache (whether or not it is built yet). */
export function goBinaryPath(binary: GoBinary, env: NodeJS.ProcessEnv = process.env): string {
  const [, tool] = toolOf(binary);
  return join(toolCacheDir(env), 'bin', `${binary}-${tool.version}${tool.ldflags ? `-${tool.ldflags.tag}` : ''}`);
}

/** The Go environment of every build here: the machine-wide module and build caches, no toolchain download. */
export function goEnv(cache = toolCacheDir(), tool?: Pick<GoTool, 'noSumDb'>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOTOOLCHAIN: 'local',
    GOPATH: join(cache, 'go'),
    GOMODCACHE: join(cache, 'go', 'pkg', 'mod'),
    GOCACHE: join(cache, 'go', 'build-cache'),
    GOFLAGS: '-buildvcs=false -trimpath',
    CGO_ENABLED: '0',
    ...(tool?.noSumDb ? { GONOSUMDB: tool.noSumDb.join(',') } : {}),
  };
}

/** The `replace` directives of a go.mod, with staging paths turned into pinned module versions. */
export function wrapperReplaces(goMod: string, staging?: string): string[] {
  const lines: string[] = [];
  const block = /^replace\s*\(\s*$([\s\S]*?)^\)\s*$/gm;
  for (const match of goMod.matchAll(block)) lines.push(...(match[1] ?? '').split('\n'));
  for (const match of goMod.matchAll(/^replace\s+([^(\s].*)$/gm)) lines.push(match[1] ?? '');
  const out: string[] = [];
  for (const raw of lines) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (!line) continue;
    const [left, right] = line.split('=>').map((s) => s.trim());
    if (!left || !right) continue;
    if (right.startsWith('./') || right.startsWith('../')) {
      const path = right.replace(/^\.\/staging\/src\//, '');
      if (!staging || path === right) throw new StackError(`cannot pin local replace "${line}"`);
      out.push(`${left.split(/\s+/)[0]} => ${path} ${staging}`);
    } else {
      out.push(`${left} => ${right}`);
    }
  }
  return out;
}

function withLock<T>(dir: string, body: () => T): T {
  const lock = `${dir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(readFileSyncSafe(join(lock, 'pid')));
      if (holder && !pidAlive(holder)) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new StackError(`timed out waiting for the build lock ${lock}`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    }
  }
  try {
    return body();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function readFileSyncSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The `go` command: on PATH, $GO, or where Debian and the official tarball put it. */
export function goBin(): string {
  const candidates = [process.env.GO, '/usr/local/go/bin/go', '/usr/lib/go/bin/go'].filter(Boolean) as string[];
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) candidates.unshift(join(dir, 'go'));
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new StackError('Go 1.26+ is needed to build the pinned tools (go not found on PATH)');
  return found;
}

function build(name: GoToolName, tool: GoTool, say: Say): void {
  const cache = toolCacheDir();
  const binDir = join(cache, 'bin');
  mkdirSync(binDir, { recursive: true });
  const env = goEnv(cache, tool);
  const go = goBin();
  const missing = Object.keys(tool.binaries).filter((b) => !existsSync(goBinaryPath(b as GoBinary)));
  if (missing.length === 0) return;
  const started = Date.now();
  say(
    `• building ${missing.join(', ')} ${tool.version} from the Go module proxy (cached in ${cache}; minutes the first time)`,
  );
  let cwd: string | undefined;
  if (tool.wrapper) {
    cwd = join(cache, 'wrappers', `${name}-${tool.version}`);
    mkdirSync(cwd, { recursive: true });
    const info = JSON.parse(
      run(go, ['mod', 'download', '-json', `${tool.module}@${tool.version}`], `go mod download ${tool.module}`, {
        env,
        cwd: binDir,
      }),
    ) as { GoMod: string };
    const replaces = [
      ...wrapperReplaces(readFileSync(info.GoMod, 'utf8'), tool.wrapper.staging),
      ...(tool.wrapper.replace ?? []),
    ];
    writeFileSync(
      join(cwd, 'go.mod'),
      `module local.invalid/wrapper/${name}\n\ngo 1.26\n\nrequire ${tool.module} ${tool.version}\n\n` +
        (replaces.length ? `replace (\n${replaces.map((r) => `\t${r}`).join('\n')}\n)\n` : ''),
    );
    const imports = Object.values(tool.binaries)
      .map((p) => `\t_ "${p}"`)
      .join('\n');
    writeFileSync(join(cwd, 'tools.go'), `//go:build tools\n\npackage tools\n\nimport (\n${imports}\n)\n`);
    run(go, ['mod', 'tidy'], `go mod tidy for ${name}`, { env, cwd, maxBuffer: 64 << 20 });
  }
  for (const binary of missing) {
    const pkg = tool.binaries[binary]!;
    const target = goBinaryPath(binary as GoBinary);
    const partial = `${target}.partial-${process.pid}`;
    if (cwd) {
      const flags = tool.ldflags ? ['-ldflags', tool.ldflags.flags] : [];
      run(go, ['build', ...flags, '-o', partial, pkg], `go build ${pkg}`, { env, cwd, maxBuffer: 64 << 20 });
    } else {
      const gobin = join(cache, 'go', `gobin-${process.pid}`);
      run(go, ['install', `${pkg}@${tool.version}`], `go install ${pkg}@${tool.version}`, {
        env: { ...env, GOBIN: gobin },
        cwd: binDir,
        maxBuffer: 64 << 20,
      });
      renameSync(
        join(
          gobin,
          pkg
            .split('/')
            .filter((p) => !/^v\d+$/.test(p))
            .pop()!,
        ),
        partial,
      );
      rmSync(gobin, { recursive: true, force: true });
    }
    renameSync(partial, target);
  }
  say(`✓ ${missing.join(', ')} ${tool.version} built in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** The path of a pinned Go binary, building it (and its siblings from the same module) when missing. */
export function ensureGoBinary(binary: GoBinary, say: Say): string {
  const target = goBinaryPath(binary);
  if (existsSync(target)) return target;
  const [name, tool] = toolOf(binary);
  withLock(join(toolCacheDir(), 'locks', name), () => build(name, tool, say));
  if (!existsSync(target)) throw new StackError(`${binary} was built but ${target} is missing`);
  return target;
}

/** Builds every tool in `names` (all when empty) that is not in the cache yet. */
export function ensureGoTools(names: GoToolName[], say: Say): void {
  mkdirSync(join(toolCacheDir(), 'locks'), { recursive: true });
  for (const name of names.length ? names : (Object.keys(GO_TOOLS) as GoToolName[])) {
    const first = Object.keys(GO_TOOLS[name].binaries)[0] as GoBinary;
    ensureGoBinary(first, say);
  }
}
