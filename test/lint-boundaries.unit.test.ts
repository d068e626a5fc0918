// The lint gate must really fail on what it forbids: run ESLint with the project config on
// in-memory sources placed at workflow and non-workflow paths.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, it } from 'mocha';

const root = join(import.meta.dirname, '..');
const eslint = new ESLint({ cwd: root });

async function ruleIds(code: string, relativePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, relativePath) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

describe('lint boundaries', function () {
  this.timeout(60_000);

  it('keeps Node builtins and I/O libraries out of workflows/', async () => {
    const code = [
      "import { readFileSync } from 'node:fs';",
      "import pg from 'pg';",
      "import { createDatabasePool } from '../../services/kernel/database.ts';",
      'export const leak = [readFileSync, pg, createDatabasePool];',
    ].join('\n');
    const ids = await ruleIds(code, 'workflows/smoke/lint-probe.ts');
    assert.deepEqual(ids, ['no-restricted-imports', 'no-restricted-imports', 'no-restricted-imports']);
  });

  it('allows type-only imports of activities in workflows/', async () => {
    const code = [
      "import type { SmokeActivities } from '../../activities/smoke/smoke.activities.ts';",
      'export type Probe = SmokeActivities;',
    ].join('\n');
    assert.deepEqual(await ruleIds(code, 'workflows/smoke/lint-probe.ts'), []);
  });

  it('allows the same imports outside workflows/', async () => {
    const code = "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n";
    assert.deepEqual(await ruleIds(code, 'services/kernel/lint-probe.ts'), []);
  });

  it('reports a floating promise', async () => {
    const code = 'async function work(): Promise<void> {}\nexport function start(): void {\n  work();\n}\n';
    assert.deepEqual(await ruleIds(code, 'services/kernel/lint-probe.ts'), ['@typescript-eslint/no-floating-promises']);
  });
});
