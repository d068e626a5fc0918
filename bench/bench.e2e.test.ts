// `npm test` runs every benchmark once at a tiny size against the test stack — through the CLI, in
// its own process, as a person runs it — to prove the bench still works: every row has a project
// measure, its baseline from the same run, and a ratio. The numbers themselves are not asserted
// (speed is measured in bench/, not in tests).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { repoRoot } from '../test/support/processes.ts';
import type { BenchReport } from './report.ts';

describe('bench: every benchmark once at tiny size', function () {
  this.timeout(600_000);

  it('`npm run bench -- --tiny` writes a row per comparison, each with its baseline and ratio, as JSON, markdown and the growth plot', () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-test-'));
    // The test run's env points DATABASE_URL / NATS_URL / TEMPORAL_ADDRESS at the test stack.
    const run = spawnSync(
      process.execPath,
      [join(repoRoot, 'tools', 'bootstrap.mjs'), 'bench', '--tiny', '--test', '--out', out],
      {
        cwd: repoRoot,
        env: process.env,
        encoding: 'utf8',
        timeout: 540_000,
      },
    );
    assert.equal(run.status, 0, `${run.stderr}\n${run.stdout}`);
    const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchReport;
    const groups = new Set(report.rows.map((r) => r.group));
    for (const group of [
      'command',
      'authz',
      'peer',
      'relay',
      'freshness',
      'rebuild',
      'growth',
      'sagas',
      'idempotency',
      'memory',
    ]) {
      assert.ok(groups.has(group), `a ${group} row`);
    }
    for (const r of report.rows) {
      const [project, baseline] = [r.project[r.compare], r.baseline[r.compare]];
      assert.ok(Number.isFinite(project) && project! > 0, `${r.name}: project ${project}`);
      assert.ok(Number.isFinite(baseline) && baseline! > 0, `${r.name}: baseline ${baseline}`);
      assert.ok(Math.abs(r.ratio - project! / baseline!) < 1e-9, `${r.name}: ratio is project ÷ baseline`);
    }
    for (const file of ['latest.md', 'growth.svg']) assert.ok(existsSync(join(out, file)), file);
    assert.match(
      run.stdout,
      /\| what \| project path \| baseline \(same run\) \| ratio \| note \|/,
      'prints the table',
    );
    assert.ok(
      report.growth.every((p) => p.usesIndex),
      'the outbox reader uses its index at every size',
    );
  });
});
