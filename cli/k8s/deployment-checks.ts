// What proves the deployment before a cluster sees it: the chart lints and its unit tests pass,
// every environment's rendered chart and every Flux overlay validate strictly against offline
// Kubernetes and CRD schemas, every Secret under flux/ is SOPS-encrypted and decrypts with its
// environment's key, and a real API server accepts every object (server-side dry-run) and runs the
// chart to Available on simulated nodes. `npm run k8s -- check` runs them all; the deployment test
// tier (cli/k8s/deployment.deploy.test.ts) runs each, and shows each fails on a broken input.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { StackError } from '../stack/processes.ts';
import { repoRoot } from '../stack/settings.ts';
import { ensureGoBinary, type GoBinary } from '../tools/go-tools.ts';
import type { ControlPlane } from './control-plane.ts';
import { ensureOfflineSchemas, kubeconformArgs } from './schemas.ts';

type Say = (line: string) => void;

export const CHART = join(repoRoot, 'helm', 'durable-workflow-backend');
export const KUBERNETES_VERSION = '1.37.2';
/** Environments Flux deploys (their values are generated into flux/apps/<env>/values.yaml). */
export const FLUX_ENVIRONMENTS = ['staging', 'production'] as const;
export type FluxEnvironment = (typeof FLUX_ENVIRONMENTS)[number];

/** The outcome of one external tool run: its exit status and everything it printed. */
export interface ToolRun {
  ok: boolean;
  output: string;
}

function tool(binary: GoBinary, args: string[], say: Say, options: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const run = spawnSync(ensureGoBinary(binary, say), args, {
    cwd: repoRoot,
    encoding: 'utf8',
    input: options.input,
    env: options.env ?? process.env,
    maxBuffer: 64 << 20,
  });
  if (run.error) throw new StackError(`${binary}: ${run.error.message}`);
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

/** `helm lint --strict` with each environment's values. */
export function lintChart(say: Say, chart = CHART): ToolRun {
  const runs = FLUX_ENVIRONMENTS.map((env) =>
    tool('helm', ['lint', '--strict', '--kube-version', KUBERNETES_VERSION, chart, '-f', envValues(env)], say),
  );
  return { ok: runs.every((r) => r.ok), output: runs.map((r) => r.output).join('\n') };
}

/** The chart's helm-unittest suites (helm/durable-workflow-backend/tests). */
export function chartUnitTests(say: Say, chart = CHART): ToolRun {
  return tool('helm-unittest', ['--color=false', chart], say);
}

export const envValues = (env: FluxEnvironment) => join(repoRoot, 'flux', 'apps', env, 'values.yaml');

/** The chart rendered for an environment (or with extra --set values), as a multi-document YAML. */
export function renderChart(say: Say, valueFiles: string[], sets: string[] = [], chart = CHART): string {
  const args = ['template', 'app', chart, '--namespace', 'app', '--kube-version', KUBERNETES_VERSION];
  for (const file of valueFiles) args.push('-f', file);
  for (const set of sets) args.push('--set', set);
  const run = tool('helm', args, say);
  if (!run.ok) throw new StackError(`helm template failed:\n${run.output}`);
  return run.output;
}

/** Strict offline validation of manifests (Kubernetes schemas plus the Flux, CNPG, KEDA, ServiceMonitor CRDs). */
export function validateManifests(say: Say, manifests: string): ToolRun {
  const schemas = ensureOfflineSchemas(say);
  return tool('kubeconform', [...kubeconformArgs(schemas), '-'], say, { input: manifests });
}

/** The age identity that decrypts an environment's secrets in tests (flux/test-keys/<env>.agekey). */
export const testKey = (env: FluxEnvironment) => join(repoRoot, 'flux', 'test-keys', `${env}.agekey`);

/** Every SOPS file under flux/ (`*.enc.yaml`), repository-relative. */
export function encryptedFiles(root = repoRoot): string[] {
  return (readdirSync(join(root, 'flux'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join('flux', f))
    .filter((f) => {
      const docs = parseAllDocuments(readFileSync(join(root, f), 'utf8')).map((d) => d.toJS() as { kind?: string });
      return f.endsWith('.enc.yaml') || docs.some((d) => d?.kind === 'Secret');
    });
}

/** The environment a flux/ path belongs to, by its folder. */
export function environmentOf(path: string): FluxEnvironment | undefined {
  return FLUX_ENVIRONMENTS.find((env) => path.split('/').includes(env));
}

/** sops decrypt of one file with an environment's test key. */
export function decrypt(say: Say, file: string, env: FluxEnvironment): ToolRun {
  return tool('sops', ['--decrypt', file], say, { env: { ...process.env, SOPS_AGE_KEY_FILE: testKey(env) } });
}

/**
 * Every Secret under flux/ is SOPS-encrypted — only data/stringData, every value of them — for its
 * environment's recipient, and decrypts with that environment's test key. Returns the problems.
 */
export function checkSecrets(say: Say, root = repoRoot): string[] {
  const problems: string[] = [];
  for (const file of encryptedFiles(root)) {
    const env = environmentOf(file);
    if (!env) {
      problems.push(`${file}: a Secret outside an environment folder (flux/*/staging|production/)`);
      continue;
    }
    for (const doc of parseAllDocuments(readFileSync(join(root, file), 'utf8'))) {
      const secret = doc.toJS() as { kind?: string; sops?: unknown; data?: object; stringData?: object } | null;
      if (!secret || secret.kind !== 'Secret') continue;
      if (!secret.sops) {
        problems.push(
          `${file}: a Secret in plain text (no sops metadata): encrypt it with \`sops --encrypt --in-place\``,
        );
        continue;
      }
      for (const [key, value] of Object.entries({ ...secret.data, ...secret.stringData })) {
        if (typeof value !== 'string' || !value.startsWith('ENC[')) problems.push(`${file}: ${key} is not encrypted`);
      }
    }
    const decrypted = decrypt(say, join(root, file), env);
    if (!decrypted.ok) problems.push(`${file}: does not decrypt with the ${env} test key:\n${decrypted.output.trim()}`);
  }
  return problems;
}

/** kustomize build of a flux/ folder, its SOPS files decrypted first (strict schemas refuse a `sops:` key). */
export function buildOverlay(say: Say, path: string, root = repoRoot): string {
  const copy = mkdtempSync(join(tmpdir(), 'flux-overlay-'));
  try {
    cpSync(join(root, 'flux'), join(copy, 'flux'), { recursive: true });
    for (const file of encryptedFiles(root)) {
      const env = environmentOf(file);
      if (!env) continue;
      const decrypted = decrypt(say, join(root, file), env);
      if (!decrypted.ok) throw new StackError(`${file} does not decrypt:\n${decrypted.output}`);
      writeFileSync(join(copy, file), decrypted.output.replace(/\n?$/, '\n'));
    }
    const run = tool('kustomize', ['build', join(copy, path)], say);
    if (!run.ok) throw new StackError(`kustomize build ${path} failed:\n${run.output}`);
    return run.output;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** Every kustomize folder under flux/ (those with a kustomization.yaml). */
export function fluxOverlays(root = repoRoot): string[] {
  return (readdirSync(join(root, 'flux'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('kustomization.yaml'))
    .map((f) => relative(root, join(root, 'flux', f, '..')))
    .sort();
}

/** The CRDs every dry-run needs (Flux, CNPG, KEDA, ServiceMonitor), applied server-side and Established. */
export function applyCrds(say: Say, cluster: ControlPlane): void {
  for (const crds of ensureOfflineSchemas(say).crds) {
    cluster.kubectl(['apply', '--server-side', '-f', crds.crdsDir]);
  }
  cluster.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
}

/** A server-side dry-run of manifests with strict field validation; namespaces are created first. */
export function dryRun(cluster: ControlPlane, manifests: string): ToolRun {
  const namespaces = new Set<string>();
  for (const doc of parseAllDocuments(manifests)) {
    const object = doc.toJS() as { metadata?: { namespace?: string } } | null;
    if (object?.metadata?.namespace) namespaces.add(object.metadata.namespace);
  }
  for (const namespace of namespaces) ensureNamespace(cluster, namespace);
  try {
    const output = cluster.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], manifests);
    return { ok: true, output };
  } catch (error) {
    return { ok: false, output: (error as { output?: string }).output ?? String(error) };
  }
}

/** Creates the namespace (server-side apply: a no-op when it exists). */
export function ensureNamespace(cluster: ControlPlane, namespace: string): void {
  cluster.kubectl(['apply', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`);
}

/** `helm upgrade --install --wait` of the chart onto the cluster; ok once every Deployment is Available. */
export function installChart(
  say: Say,
  cluster: ControlPlane,
  options: {
    release: string;
    namespace: string;
    valueFiles: string[];
    /** `--set-string` values (quantities stay strings). */
    sets?: string[];
    timeout: string;
  },
): ToolRun {
  const args = ['upgrade', '--install', options.release, CHART, '--namespace', options.namespace, '--create-namespace'];
  args.push('--kubeconfig', cluster.kubeconfig, '--wait', '--timeout', options.timeout);
  for (const file of options.valueFiles) args.push('-f', file);
  for (const set of options.sets ?? []) args.push('--set-string', set);
  return tool('helm', args, say);
}

/** Values that let the chart run on simulated nodes: the secrets it references exist as plain test Secrets. */
export function testSecrets(env: FluxEnvironment): string {
  const values = readFileSync(envValues(env), 'utf8');
  const refs = new Map<string, Set<string>>();
  const doc = parseAllDocuments(values)[0]?.toJS() as {
    secretEnv?: Record<string, { secretName: string; key?: string; keys?: Record<string, string> }>;
  };
  for (const ref of Object.values(doc.secretEnv ?? {})) {
    const keys = refs.get(ref.secretName) ?? new Set<string>();
    for (const key of [ref.key, ...Object.values(ref.keys ?? {})]) if (key) keys.add(key);
    refs.set(ref.secretName, keys);
  }
  return [...refs]
    .map(
      ([name, keys]) =>
        `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\nstringData:\n${[...keys].map((k) => `  ${k}: test-value\n`).join('')}`,
    )
    .join('---\n');
}
