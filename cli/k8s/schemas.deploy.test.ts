// The offline schemas must make kubeconform strict without a network: given a manifest the API server
// accepts, it passes; given the same manifest with one optional field misspelled, it fails as invalid
// (not as "schema missing"). One pair per kind the deployment renders, built-in and custom.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { ensureGoTools, goBinaryPath } from '../tools/go-tools.ts';
import { CRD_SETS, ensureOfflineSchemas, kubeconformArgs, type OfflineSchemas } from './schemas.ts';

const say = (line: string) => console.log(`      ${line}`);

const KubeconformOutput = z.object({
  resources: z.array(
    z.object({
      kind: z.string(),
      name: z.string(),
      status: z.enum(['statusValid', 'statusInvalid', 'statusError', 'statusSkipped', 'statusEmpty']),
      msg: z.string(),
    }),
  ),
});
type Checked = z.infer<typeof KubeconformOutput>['resources'][number];

type Manifest = Record<string, unknown>;

/** A kind the deployment renders: a manifest the API server accepts and an optional field to misspell. */
interface Case {
  manifest: Manifest;
  /** Path of the object holding `field`, e.g. ['spec']. */
  at: string[];
  field: string;
  misspelled: string;
}

const meta = { name: 'app', namespace: 'apps' };
const CASES: Record<string, Case> = {
  'Deployment (apps/v1)': {
    manifest: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta,
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'app' } },
        template: {
          metadata: { labels: { app: 'app' } },
          spec: { containers: [{ name: 'app', image: 'app:1', imagePullPolicy: 'IfNotPresent' }] },
        },
      },
    },
    at: ['spec', 'template', 'spec', 'containers', '0'],
    field: 'imagePullPolicy',
    misspelled: 'imagePullPolcy',
  },
  'HelmRelease (helm.toolkit.fluxcd.io/v2)': {
    manifest: {
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: meta,
      spec: {
        interval: '10m',
        targetNamespace: 'apps',
        chart: { spec: { chart: 'app', version: '0.1.0', sourceRef: { kind: 'HelmRepository', name: 'app' } } },
        values: { replicaCount: 2, keda: { enabled: true } },
      },
    },
    at: ['spec'],
    field: 'targetNamespace',
    misspelled: 'targetNamespce',
  },
  'Kustomization (kustomize.toolkit.fluxcd.io/v1)': {
    manifest: {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: meta,
      spec: {
        interval: '10m',
        path: './flux/apps',
        prune: true,
        wait: true,
        sourceRef: { kind: 'GitRepository', name: 'app' },
        decryption: { provider: 'sops', secretRef: { name: 'sops-age' } },
      },
    },
    at: ['spec'],
    field: 'wait',
    misspelled: 'wiat',
  },
  'GitRepository (source.toolkit.fluxcd.io/v1)': {
    manifest: {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: meta,
      spec: { interval: '1m', url: 'https://example.invalid/app.git', ref: { branch: 'main' } },
    },
    at: ['spec', 'ref'],
    field: 'branch',
    misspelled: 'brnach',
  },
  'HelmRepository (source.toolkit.fluxcd.io/v1)': {
    manifest: {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'HelmRepository',
      metadata: meta,
      spec: { interval: '1h', url: 'oci://example.invalid/charts', type: 'oci' },
    },
    at: ['spec'],
    field: 'type',
    misspelled: 'typ',
  },
  'OCIRepository (source.toolkit.fluxcd.io/v1)': {
    manifest: {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: meta,
      spec: { interval: '5m', url: 'oci://example.invalid/manifests/app', ref: { tag: '0.1.0' } },
    },
    at: ['spec', 'ref'],
    field: 'tag',
    misspelled: 'tags',
  },
  'Cluster (postgresql.cnpg.io/v1)': {
    manifest: {
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Cluster',
      metadata: meta,
      spec: {
        instances: 2,
        storage: { size: '1Gi' },
        bootstrap: { initdb: { database: 'app', owner: 'app' } },
      },
    },
    at: ['spec', 'bootstrap', 'initdb'],
    field: 'owner',
    misspelled: 'ownr',
  },
  'ScaledObject (keda.sh/v1alpha1)': {
    manifest: {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: meta,
      spec: {
        scaleTargetRef: { name: 'saga-worker' },
        minReplicaCount: 1,
        maxReplicaCount: 10,
        triggers: [
          {
            type: 'temporal',
            metadata: { namespace: 'default', taskQueue: 'sagas', targetQueueSize: '5' },
            authenticationRef: { name: 'temporal' },
          },
        ],
      },
    },
    at: ['spec'],
    field: 'maxReplicaCount',
    misspelled: 'maxReplicasCount',
  },
  'TriggerAuthentication (keda.sh/v1alpha1)': {
    manifest: {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'TriggerAuthentication',
      metadata: meta,
      spec: { secretTargetRef: [{ parameter: 'apiKey', name: 'temporal', key: 'api-key' }] },
    },
    at: ['spec', 'secretTargetRef', '0'],
    field: 'parameter',
    misspelled: 'paramter',
  },
  'ServiceMonitor (monitoring.coreos.com/v1)': {
    manifest: {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: meta,
      spec: {
        selector: { matchLabels: { app: 'app' } },
        endpoints: [{ port: 'metrics', path: '/metrics', interval: '30s' }],
      },
    },
    at: ['spec', 'endpoints', '0'],
    field: 'interval',
    misspelled: 'intervall',
  },
};

/** `manifest` with the key `from` of the object at `at` renamed to `to`. */
function renamed(manifest: Manifest, at: string[], from: string, to: string): Manifest {
  const copy = structuredClone(manifest);
  const holder = at.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], copy) as Manifest;
  assert.ok(from in holder, `${at.join('.')} has no ${from}`);
  holder[to] = holder[from];
  delete holder[from];
  return copy;
}

describe('offline kubeconform schemas', function () {
  let schemas: OfflineSchemas;
  let kubeconform: string;
  let dir: string;

  /** kubeconform's verdict on `documents`, each resource with its status. */
  function check(...documents: Manifest[]): { exit: number | null; resources: Checked[] } {
    const file = join(dir, `manifest-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, documents.map((d) => stringify(d)).join('---\n'));
    const args = [...kubeconformArgs(schemas), '-output', 'json', '-verbose', file];
    const result = spawnSync(kubeconform, args, { encoding: 'utf8' });
    assert.equal(result.error, undefined);
    return { exit: result.status, resources: KubeconformOutput.parse(JSON.parse(result.stdout)).resources };
  }

  before(function () {
    this.timeout(30 * 60_000); // cold: pip, Go modules, controller-gen; warm: well under a second
    const started = Date.now();
    schemas = ensureOfflineSchemas(say);
    ensureGoTools(['kubeconform'], say);
    kubeconform = goBinaryPath('kubeconform');
    say(`schemas ready in ${Date.now() - started} ms`);
    dir = mkdtempSync(join(tmpdir(), 'k8s-schemas-'));
  });

  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('names only local schema locations', () => {
    const locations = kubeconformArgs(schemas).filter((_, i, all) => all[i - 1] === '-schema-location');
    assert.equal(locations.length, 1 + Object.keys(CRD_SETS).length);
    for (const location of locations) assert.ok(location.startsWith('/'), location);
  });

  it('fails a kind it has no schema for instead of fetching one', () => {
    const { exit, resources } = check({ apiVersion: 'example.invalid/v1', kind: 'Widget', metadata: meta });
    assert.equal(exit, 1);
    assert.equal(resources[0]?.status, 'statusError');
  });

  for (const [name, c] of Object.entries(CASES)) {
    describe(name, () => {
      it('passes when valid', () => {
        const { exit, resources } = check(c.manifest);
        assert.deepEqual(
          resources.map((r) => [r.status, r.msg]),
          [['statusValid', '']],
        );
        assert.equal(exit, 0);
      });

      it(`fails as invalid with ${[...c.at, c.misspelled].join('.')} (strict)`, () => {
        const { exit, resources } = check(renamed(c.manifest, c.at, c.field, c.misspelled));
        assert.equal(resources[0]?.status, 'statusInvalid', resources[0]?.msg);
        assert.match(resources[0]?.msg ?? '', new RegExp(`'${c.misspelled}' not allowed`));
        assert.equal(exit, 1);
      });
    });
  }

  it('ships the CRDs as valid CustomResourceDefinitions of the kinds listed', () => {
    for (const [set, { crdsDir }] of Object.keys(CRD_SETS).map((n, i) => [n, schemas.crds[i]!] as const)) {
      const files = readdirSync(crdsDir).map((f) => join(crdsDir, f));
      const kinds = files.map((f) => {
        const crd = parse(readFileSync(f, 'utf8')) as { spec: { group: string; names: { kind: string } } };
        return `${crd.spec.group}/${crd.spec.names.kind}`;
      });
      assert.deepEqual(kinds.sort(), [...CRD_SETS[set as keyof typeof CRD_SETS].kinds].sort());
      const result = spawnSync(kubeconform, [...kubeconformArgs(schemas), ...files], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stdout + result.stderr);
    }
  });
});
