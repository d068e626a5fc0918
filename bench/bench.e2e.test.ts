// `npm test` runs every benchmark once at a tiny size against the test stack, to prove the bench
// still works: every row has a project measure, its baseline from the same run, and a ratio. The
// numbers themselves are not asserted (DESIGN §7: speed is measured in bench/, not in tests).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'mocha';
import { ensurePostgresBinaries } from '../cli/stack/tools.ts';
import { testStack } from '../test/support/env.ts';
import { runBench } from './run.ts';

describe('bench: every benchmark once at tiny size', function () {
  this.timeout(600_000);

  it('produces a row per comparison, each with its baseline and ratio, and writes JSON, markdown and the growth plot', async () => {
    const stack = testStack();
    const out = mkdtempSync(join(tmpdir(), 'bench-test-'));
    const lines: string[] = [];
    const report = await runBench(
      'tiny',
      {
        serverUrl: stack.DATABASE_URL,
        natsUrl: stack.NATS_URL,
        temporalAddress: stack.TEMPORAL_ADDRESS,
        pgBin: dirname(realpathSync(join(ensurePostgresBinaries(() => undefined), 'pg_ctl'))),
        keys: { jwks: stack.AUTH_JWKS_FILE, privateJwk: stack.DEV_PRIVATE_JWK_FILE },
      },
      out,
      (line) => lines.push(line),
    );
    const groups = new Set(report.rows.map((r) => r.group));
    for (const group of ['command', 'peer', 'relay', 'freshness', 'rebuild', 'growth', 'sagas', 'idempotency', 'memory']) {
      assert.ok(groups.has(group), `a ${group} row (${lines.join('\n')})`);
    }
    for (const r of report.rows) {
      const [project, baseline] = [r.project[r.compare], r.baseline[r.compare]];
      assert.ok(Number.isFinite(project) && project! > 0, `${r.name}: project ${project}`);
      assert.ok(Number.isFinite(baseline) && baseline! > 0, `${r.name}: baseline ${baseline}`);
      assert.ok(Math.abs(r.ratio - project! / baseline!) < 1e-9, `${r.name}: ratio is project ÷ baseline`);
    }
    for (const file of ['latest.json', 'latest.md', 'growth.svg']) assert.ok(existsSync(join(out, file)), file);
    assert.equal((JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as { rows: unknown[] }).rows.length, report.rows.length);
    assert.ok(report.growth.every((p) => p.usesIndex), 'the outbox reader uses its index at every size');
  });
});
