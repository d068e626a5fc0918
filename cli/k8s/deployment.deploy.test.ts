// The deployment tier: the chart, the Flux overlays and their secrets, checked offline and then on a
// real Kubernetes API server with simulated nodes. Each check passes on the repository and fails on
// a deliberately broken copy of it.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { repoRoot } from '../stack/settings.ts';
import { LOCAL_CLUSTER_VALUES } from './cluster.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import {
  applyCrds,
  buildOverlay,
  CHART,
  chartUnitTests,
  checkSecrets,
  dryRun,
  ensureNamespace,
  envValues,
  FLUX_ENVIRONMENTS,
  fluxOverlays,
  installChart,
  lintChart,
  renderChart,
  testSecrets,
  validateManifests,
} from './deployment-checks.ts';

const say = (line: string) => process.stderr.write(`    ${line}\n`);
const scratch = mkdtempSync(join(tmpdir(), 'deployment-'));
/** A copy of the chart with `edit` applied to one of its files. */
function brokenChart(file: string, edit: (text: string) => string): string {
  const dir = join(scratch, `chart-${Math.random().toString(36).slice(2, 8)}`);
  cpSync(CHART, dir, { recursive: true });
  writeFileSync(join(dir, file), edit(readFileSync(join(dir, file), 'utf8')));
  return dir;
}
/** A copy of the repository's flux/ (and .sops.yaml) in which `edit` changes one file. */
function brokenFlux(file: string, edit: (text: string) => string): string {
  const dir = join(scratch, `repo-${Math.random().toString(36).slice(2, 8)}`);
  cpSync(join(repoRoot, 'flux'), join(dir, 'flux'), { recursive: true });
  writeFileSync(join(dir, file), edit(existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : ''));
  return dir;
}
/** Every option the chart has switched on, so every template and CRD kind is rendered. */
const EVERYTHING = [
  'bff.ingress.enabled=true',
  'bff.ingress.host=api.example.com',
  'workers.saga-worker.keda.enabled=true',
  'keda.temporalEndpoint=temporal-frontend.temporal:7233',
  'serviceMonitor.enabled=true',
  'dashboards.enabled=true',
];

describe('deployment: the chart and the Flux overlays, offline', function () {
  this.timeout(300_000);
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('helm lint --strict passes with every environment, and fails on a broken template', () => {
    const lint = lintChart(say);
    assert.ok(lint.ok, lint.output);
    const broken = brokenChart('templates/configmap.yaml', (t) => t.replace('{{- range', '{{- rnge'));
    assert.equal(lintChart(say, broken).ok, false);
  });

  it('the helm-unittest suites pass, and fail when a template changes what they pin', () => {
    const tests = chartUnitTests(say);
    assert.ok(tests.ok, tests.output);
    assert.match(tests.output, /Tests:\s+\d+ passed/);
    const broken = brokenChart('templates/_helpers.tpl', (t) => t.replace('dist/runtime/probe.main.js', 'probe.js'));
    const failing = chartUnitTests(say, broken);
    assert.equal(failing.ok, false);
    assert.match(failing.output, /switches to exec probes/);
  });

  it('the chart rendered for every environment, and with every option on, validates strictly offline', () => {
    for (const env of FLUX_ENVIRONMENTS) {
      const result = validateManifests(say, renderChart(say, [envValues(env)]));
      assert.ok(result.ok, `${env}:\n${result.output}`);
    }
    const localCluster = renderChart(say, [LOCAL_CLUSTER_VALUES]);
    const local = validateManifests(say, localCluster);
    assert.ok(local.ok, `local-cluster:\n${local.output}`);
    const everything = validateManifests(say, renderChart(say, [envValues('staging')], EVERYTHING));
    assert.ok(everything.ok, everything.output);
    assert.match(everything.output, /Invalid: 0, Errors: 0, Skipped: 0/);
  });

  it('a rendered object with an unknown field fails the validation', () => {
    const broken = brokenChart('templates/_helpers.tpl', (t) =>
      t.replace('revisionHistoryLimit: 5', 'revisionHistoryLimit: 5\n  revisionHistoryLimits: 5'),
    );
    const result = validateManifests(say, renderChart(say, [envValues('staging')], [], broken));
    assert.equal(result.ok, false);
    assert.match(result.output, /revisionHistoryLimits/);
  });

  it('every Flux overlay builds with kustomize and validates strictly (Kubernetes and Flux schemas)', () => {
    const overlays = fluxOverlays();
    assert.ok(overlays.includes('flux/clusters/staging') && overlays.includes('flux/apps/production'), overlays.join());
    for (const overlay of overlays) {
      const result = validateManifests(say, buildOverlay(say, overlay));
      assert.ok(result.ok, `${overlay}:\n${result.output}`);
    }
  });

  it('a HelmRelease with a misspelled field fails the overlay validation', () => {
    const root = brokenFlux('flux/apps/base/release.yaml', (t) => t.replace('  interval: 10m', '  intervall: 10m'));
    const result = validateManifests(say, buildOverlay(say, 'flux/apps/staging', root));
    assert.equal(result.ok, false);
    assert.match(result.output, /intervall/);
  });

  it('every Secret under flux/ is SOPS-encrypted and decrypts with its environment key', () => {
    assert.deepEqual(checkSecrets(say), []);
  });

  it("a plain Secret, and a Secret that only another environment's key opens, both fail the check", () => {
    const plain = brokenFlux(
      'flux/apps/staging/plain-secret.yaml',
      () => 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: oops\nstringData:\n  password: hunter2\n',
    );
    assert.match(checkSecrets(say, plain).join('\n'), /plain-secret\.yaml: a Secret in plain text/);
    const swapped = brokenFlux('flux/apps/staging/secrets.enc.yaml', () =>
      readFileSync(join(repoRoot, 'flux/apps/production/secrets.enc.yaml'), 'utf8'),
    );
    assert.match(
      checkSecrets(say, swapped).join('\n'),
      /staging\/secrets\.enc\.yaml: does not decrypt with the staging test key/,
    );
  });
});

describe('deployment: a real API server with simulated nodes', function () {
  this.timeout(600_000);
  let cluster: ControlPlane;

  before(async () => {
    cluster = await startControlPlane({ dir: mkdtempSync(join(tmpdir(), 'control-plane-')), say, simulatedNodes: 2 });
    applyCrds(say, cluster);
  });
  after(async () => {
    await cluster?.stop();
    if (cluster) rmSync(cluster.dir, { recursive: true, force: true });
  });

  it('accepts every rendered object and every Flux overlay in a server-side dry-run', () => {
    for (const env of FLUX_ENVIRONMENTS) {
      const result = dryRun(cluster, renderChart(say, [envValues(env)], EVERYTHING));
      assert.ok(result.ok, `${env}:\n${result.output}`);
    }
    for (const overlay of fluxOverlays()) {
      const result = dryRun(cluster, buildOverlay(say, overlay));
      assert.ok(result.ok, `${overlay}:\n${result.output}`);
    }
  });

  it('refuses an object with an unknown field in the dry-run', () => {
    const root = brokenFlux('flux/apps/base/release.yaml', (t) => t.replace('  interval: 10m', '  intervall: 10m'));
    const result = dryRun(cluster, buildOverlay(say, 'flux/apps/staging', root));
    assert.equal(result.ok, false);
    assert.match(result.output, /intervall/);
  });

  it('helm upgrade --install --wait runs the chart to Available, migrations hook first; an unschedulable change fails --wait', () => {
    ensureNamespace(cluster, 'app');
    cluster.kubectl(['apply', '--namespace', 'app', '-f', '-'], testSecrets('staging'));
    const installed = installChart(say, cluster, {
      release: 'app',
      namespace: 'app',
      valueFiles: [envValues('staging')],
      timeout: '180s',
    });
    assert.ok(installed.ok, installed.output);
    const deployments = cluster.kubectl(['get', 'deployments', '--namespace', 'app', '-o', 'json']);
    const items = (
      JSON.parse(deployments) as { items: { metadata: { name: string }; status: { availableReplicas?: number } }[] }
    ).items;
    assert.deepEqual(items.map((d) => d.metadata.name).sort(), [
      'app-durable-workflow-backend-bff',
      'app-durable-workflow-backend-projector',
      'app-durable-workflow-backend-relay',
      'app-durable-workflow-backend-saga-worker',
    ]);
    for (const d of items) assert.ok((d.status.availableReplicas ?? 0) >= 1, `${d.metadata.name} available`);
    // The pre-install hook ran to completion (then was deleted, as its delete policy says).
    const events = cluster.kubectl(['get', 'events', '--namespace', 'app', '-o', 'json']);
    const jobEvents = (
      JSON.parse(events) as { items: { involvedObject: { kind: string; name: string }; reason: string }[] }
    ).items
      .filter(
        (e) => e.involvedObject.kind === 'Job' && e.involvedObject.name === 'app-durable-workflow-backend-migrations',
      )
      .map((e) => e.reason);
    assert.ok(jobEvents.includes('Completed'), `migration job events: ${jobEvents.join(', ')}`);

    const unschedulable = installChart(say, cluster, {
      release: 'app',
      namespace: 'app',
      valueFiles: [envValues('staging')],
      // More CPU than any node has: the new pods stay Pending, so --wait runs out of time.
      sets: ['bff.resources.requests.cpu=1000'],
      timeout: '20s',
    });
    assert.equal(unschedulable.ok, false);
    assert.match(unschedulable.output, /context deadline exceeded/);
  });
});
