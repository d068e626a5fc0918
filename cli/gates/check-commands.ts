// `npm run boundaries` and `npm run codemap`: the two gates that read agent/codemap.yml, over the
// repository's files. Each prints its findings and fails when there is one.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Say } from '../entry.ts';
import { repoRoot } from '../stack/settings.ts';
import { loadAgentFiles } from './agent-files.ts';
import { checkBoundaries } from './boundaries.ts';
import { checkCoverage } from './coverage.ts';
import { packageScripts, repositoryFiles } from './gates-command.ts';

export function runBoundariesCheck(say: Say): number {
  const { codemap } = loadAgentFiles(repoRoot);
  const files = repositoryFiles();
  const violations = checkBoundaries(
    codemap,
    files,
    (file) => readFileSync(join(repoRoot, file), 'utf8'),
    (file) => existsSync(join(repoRoot, file)),
  );
  for (const v of violations) say(`✗ ${v.file}:${v.line}: ${v.message}`);
  say(
    violations.length === 0
      ? `✓ every import of ${files.length} files follows agent/codemap.yml; no cycle between modules`
      : `✗ ${violations.length} import(s) break agent/codemap.yml`,
  );
  return violations.length === 0 ? 0 : 1;
}

export function runCodemapCheck(say: Say): number {
  const files = repositoryFiles();
  const problems = checkCoverage(loadAgentFiles(repoRoot), files, packageScripts());
  for (const p of problems) say(`✗ ${p.where}: ${p.message}`);
  say(
    problems.length === 0
      ? `✓ agent/codemap.yml, routing.yml and gates.yml describe all ${files.length} files`
      : `✗ ${problems.length} problem(s) in the agent files`,
  );
  return problems.length === 0 ? 0 : 1;
}
