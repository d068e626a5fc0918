// The lint gate must really fail on what it forbids: run ESLint with the project config on
// in-memory sources placed at workflow and service paths. (Imports are the boundaries gate's:
// cli/gates/boundaries.unit.test.ts.)
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

describe('lint', function () {
  this.timeout(60_000);

  it('keeps process state out of workflows/', async () => {
    const code = 'export function probe(): string | undefined {\n  return process.env.HOME;\n}\n';
    assert.deepEqual(await ruleIds(code, 'workflows/smoke/lint-probe.ts'), ['no-restricted-globals']);
  });

  it('allows process outside workflows/', async () => {
    const code = 'export function probe(): string | undefined {\n  return process.env.HOME;\n}\n';
    assert.deepEqual(await ruleIds(code, 'services/kernel/lint-probe.ts'), []);
  });

  it('reports a floating promise', async () => {
    const code = 'async function work(): Promise<void> {}\nexport function start(): void {\n  work();\n}\n';
    assert.deepEqual(await ruleIds(code, 'services/kernel/lint-probe.ts'), ['@typescript-eslint/no-floating-promises']);
  });
});
