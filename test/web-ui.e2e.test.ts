// The Temporal Web UI as an operator uses it: headless Chromium finds a compensated onboarding saga
// by its TenantId search attribute and sees its compensation activities. The screenshot is kept in
// test-artifacts/ for a person to look at.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { chromium, type Browser } from 'playwright-core';
import { armFault } from '../services/tenant/faults.ts';
import { tenantOnboarding, type OnboardingInput } from '../workflows/tenant-onboarding/tenant-onboarding.workflow.ts';
import { testStack } from './support/env.ts';
import { until } from './support/pipeline.ts';
import { repoRoot } from './support/processes.ts';
import { startOnboardingHarness, type OnboardingHarness } from './support/onboarding.ts';
import { WORKFLOW_IDS } from '../contracts/workflow-names.ts';

const ARTIFACTS_DIR = join(repoRoot, 'test-artifacts');

describe('Temporal Web UI: a compensated saga, found by TenantId (headless Chromium)', function () {
  this.timeout(180_000);
  let harness: OnboardingHarness;
  let browser: Browser;

  before(async () => {
    harness = await startOnboardingHarness('webui');
    browser = await chromium.launch({
      executablePath: testStack().CHROMIUM_PATH,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage', '--disable-gpu'],
    });
  });
  after(async () => {
    await browser?.close();
    await harness?.stop();
  });

  it('lists the saga for its TenantId, and its page shows the compensation activities', async () => {
    const id = `t${randomUUID().slice(0, 8)}`;
    const input: OnboardingInput = {
      tenantId: id,
      slug: `webui-${id}`,
      name: `Web UI ${id}`,
      plan: 'pro',
      ownerUserId: 'owner-1',
    };
    await armFault(harness.pool, { slug: input.slug, step: 'apply-quotas', mode: 'fail', times: 1 });
    const workflowId = WORKFLOW_IDS.onboarding(id);
    const { worker } = harness;
    const handle = await worker.client.workflow.start(tenantOnboarding, {
      taskQueue: worker.taskQueue,
      workflowId,
      args: [input],
    });
    await handle.result().catch(() => undefined);
    const query = `TenantId="${id}"`;
    await until('the saga to be visible by TenantId', async () => {
      for await (const execution of worker.client.workflow.list({ query }))
        if (execution.workflowId === workflowId) return true;
      return false;
    });

    const page = await browser.newPage({ viewport: { width: 1600, height: 1400 } });
    try {
      const { TEMPORAL_UI_URL, TEMPORAL_NAMESPACE } = testStack();
      await page.goto(
        `${TEMPORAL_UI_URL}/namespaces/${TEMPORAL_NAMESPACE}/workflows?query=${encodeURIComponent(query)}`,
      );
      const row = page.getByRole('link', { name: workflowId });
      await row.first().waitFor({ timeout: 30_000 });
      assert.equal(
        await page.getByRole('link', { name: /^tenant-onboarding\// }).count(),
        1,
        'the query finds exactly this saga',
      );
      await row.first().click();
      await page.getByText('Undo: release the tenant and give its slug back').first().waitFor({ timeout: 30_000 });
      for (const compensation of [
        "Undo: remove the owner's membership",
        "Undo: delete the tenant's NATS stream",
        "Undo: drop the tenant's Postgres schema",
      ]) {
        assert.ok(await page.getByText(compensation).first().isVisible(), `${compensation} is shown`);
      }
      mkdirSync(ARTIFACTS_DIR, { recursive: true });
      const screenshot = join(ARTIFACTS_DIR, 'web-ui-compensated-saga.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      assert.ok(statSync(screenshot).size > 10_000, `a real screenshot in ${screenshot}`);
    } finally {
      await page.close();
    }
  });
});
