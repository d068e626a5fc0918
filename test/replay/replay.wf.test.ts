// The replay suite: every committed history fixture must replay against the current workflow code
// without a determinism error. This is the guard for deploys: a change that would break running
// workflows fails here, before it reaches a worker (see docs/versioning.md).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, DefaultLogger, Worker, type ReplayResult, type WorkflowBundle } from '@temporalio/worker';
import { before, describe, it } from 'mocha';
import { Resource } from '@opentelemetry/resources';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import * as workflows from '../../workflows/index.ts';
import { TASK_QUEUES } from '../../contracts/workflow-names.ts';
import { WORKFLOW_INTERCEPTORS } from '../../runtime/workflow-bundles.ts';
import { loadFixtures, type Fixture } from './fixtures.ts';

const bundle = (entry: string) =>
  bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL(entry, import.meta.url)),
    // As the saga worker runs them: traced by the OpenTelemetry interceptors, which must not change a replay.
    workflowInterceptorModules: WORKFLOW_INTERCEPTORS[TASK_QUEUES.sagas],
    logger: new DefaultLogger('WARN'),
  });

async function replayAll(workflowBundle: WorkflowBundle, fixtures: Fixture[]): Promise<Map<string, ReplayResult>> {
  const results = new Map<string, ReplayResult>();
  const histories = fixtures.map((f) => ({ workflowId: f.file, history: f.history }));
  for await (const result of Worker.runReplayHistories(
    { workflowBundle, sinks: { exporter: makeWorkflowExporter(new NoopSpanProcessor(), Resource.empty()) } },
    histories,
  ))
    results.set(result.workflowId, result);
  return results;
}

const fixtures = loadFixtures();

describe('workflow replay: every committed history replays against the current code', function () {
  this.timeout(180_000);
  let results: Map<string, ReplayResult>;

  before(async () => {
    results = await replayAll(await bundle('../../workflows/index.ts'), fixtures);
  });

  for (const fixture of fixtures) {
    it(`${fixture.file}`, () => {
      const result = results.get(fixture.file);
      assert.ok(result, 'replayed');
      assert.equal(result.error, undefined, `${fixture.file}: ${String(result.error)}`);
    });
  }

  it('covers every workflow the workers run, and every onboarding path', () => {
    const types = new Set(fixtures.map((f) => f.workflowType));
    for (const name of Object.keys(workflows)) assert.ok(types.has(name), `no fixture for workflow ${name}`);
    const onboarding = new Set(fixtures.filter((f) => f.workflowType === 'tenantOnboarding').map((f) => f.scenario));
    for (const path of [
      'happy-free',
      'happy-pro',
      'enterprise-approved',
      'approval-timed-out',
      'cancelled',
      'compensated-early',
      'compensated-late',
      'compensation-failed',
    ]) {
      assert.ok(onboarding.has(path), `no onboarding fixture for ${path}`);
    }
    for (const type of ['outboxRelay', 'projection']) {
      assert.ok(
        fixtures.some((f) => f.workflowType === type && f.scenario.endsWith('continued-as-new')),
        `no continue-as-new fixture for ${type}`,
      );
    }
  });

  it('the saga patches: v1 (before all), v2 (ensure-provisioned), v3 (attributes on status change) and v4 (OpenFGA tuples) all replay', () => {
    const patchesIn = (fixture: Fixture) =>
      (fixture.history.events ?? []).flatMap((event) =>
        Object.values(event.markerRecordedEventAttributes?.details ?? {}).flatMap((details) =>
          (details.payloads ?? []).map(
            (p) => (JSON.parse(Buffer.from(p.data ?? new Uint8Array()).toString('utf8')) as { id: string }).id,
          ),
        ),
      );
    const happy = (label: string) =>
      fixtures.filter(
        (f) => f.workflowType === 'tenantOnboarding' && f.scenario.startsWith('happy-') && f.label === label,
      );
    assert.ok(
      happy('v1').length >= 2 && happy('v2').length >= 2,
      'happy-path fixtures from before and after the patch',
    );
    for (const f of happy('v1')) assert.deepEqual(patchesIn(f), [], `${f.file} predates the patch`);
    for (const f of happy('v2'))
      assert.deepEqual(patchesIn(f), ['ensure-provisioned-before-pivot'], `${f.file} ran the patched code`);
    for (const f of [...happy('v1'), ...happy('v2')]) assert.equal(results.get(f.file)?.error, undefined);

    // v3: search attributes upserted when the saga's status changes, not at every step.
    const upserts = (fixture: Fixture) =>
      (fixture.history.events ?? []).filter((event) => event.upsertWorkflowSearchAttributesEventAttributes).length;
    assert.ok(happy('v3').length >= 2, 'happy-path fixtures of v3');
    for (const f of happy('v3')) {
      assert.deepEqual(
        patchesIn(f),
        ['saga-attributes-on-status-change', 'ensure-provisioned-before-pivot'],
        `${f.file} ran both patches`,
      );
      const before = happy('v2').find((v2) => v2.scenario === f.scenario)!;
      assert.ok(upserts(f) < upserts(before), `${f.file}: ${upserts(f)} upserts, v2 had ${upserts(before)}`);
      assert.equal(results.get(f.file)?.error, undefined);
    }

    // v4 (issue 16): the owner's tuple in OpenFGA is a step of its own (grant-owner), and offboarding
    // revokes every tuple (revoke-access); histories from before either patch still replay.
    assert.ok(happy('v4').length >= 2, 'happy-path fixtures of v4');
    for (const f of happy('v4')) {
      assert.ok(patchesIn(f).includes('grant-owner-tuple'), `${f.file} ran the grant-owner patch`);
      assert.equal(results.get(f.file)?.error, undefined);
    }
    const offboarding = (label: string) =>
      fixtures.filter((f) => f.workflowType === 'tenantOffboarding' && f.label === label);
    assert.ok(offboarding('v1').length >= 1 && offboarding('v4').length >= 1, 'offboarding before and after the patch');
    for (const f of offboarding('v1')) assert.deepEqual(patchesIn(f), [], `${f.file} predates the patch`);
    for (const f of offboarding('v4')) assert.deepEqual(patchesIn(f), ['revoke-access-tuples'], f.file);
    for (const f of [...offboarding('v1'), ...offboarding('v4')]) assert.equal(results.get(f.file)?.error, undefined);
  });

  it('fails on a changed workflow: a reordered onboarding step is a determinism error', async () => {
    const onboarding = fixtures.filter((f) => f.workflowType === 'tenantOnboarding' && f.scenario.startsWith('happy-'));
    assert.ok(onboarding.length > 0);
    const broken = await replayAll(await bundle('./variants/index.ts'), onboarding);
    for (const fixture of onboarding) {
      const error = broken.get(fixture.file)?.error;
      assert.ok(
        error instanceof DeterminismViolationError,
        `${fixture.file} replayed against the reordered saga: ${String(error)}`,
      );
      assert.match(error.message, /createTenantSchema|createTenantNatsResources|[Nn]ondetermin/);
    }
  });
});
