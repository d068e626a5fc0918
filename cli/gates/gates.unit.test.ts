// The gates that read agent/ must fail on what they forbid: deliberately broken inputs (probe
// files that exist only in memory, a codemap or routing with one thing wrong) make each of them
// report it, and the routing picks the gates the acceptance criteria name.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { loadAgentFiles, modulesOf, selectGates, type AgentFiles } from './agent-files.ts';
import { checkBoundaries } from './boundaries.ts';
import { checkCoverage } from './coverage.ts';
import { packageScripts, report, repositoryFiles, runGates } from './gates-command.ts';

const root = join(import.meta.dirname, '..', '..');
const agent = loadAgentFiles(root);
const files = repositoryFiles();
const scripts = packageScripts(root);
const copy = (): AgentFiles => structuredClone(agent);

/** Boundary violations of the repository with `probes` (path → source) added. */
function boundariesWith(probes: Record<string, string>, codemap = agent.codemap) {
  const all = [...files, ...Object.keys(probes)];
  return checkBoundaries(
    codemap,
    all,
    (file) => probes[file] ?? readFileSync(join(root, file), 'utf8'),
    (file) => file in probes || existsSync(join(root, file)),
  );
}

describe('boundaries gate', function () {
  this.timeout(30_000);

  it('passes on the repository as it is', () => {
    assert.deepEqual(boundariesWith({}), []);
  });

  it('fails a service that imports koa, the Temporal client, NATS or the BFF', () => {
    const probe = 'services/kernel/probe.ts';
    const violations = boundariesWith({
      [probe]: [
        "import Koa from 'koa';",
        "import { Client } from '@temporalio/client';",
        "import { connect } from '@nats-io/transport-node';",
        "import { createBffApp } from '../../bff/bff.app.ts';",
        'export const leak = [Koa, Client, connect, createBffApp];',
      ].join('\n'),
    });
    assert.deepEqual(
      violations.map((v) => `${v.file}:${v.line}`),
      [1, 2, 3, 4].map((line) => `${probe}:${line}`),
    );
    assert.match(violations[0]!.message, /module kernel may not use koa/);
    assert.match(violations[1]!.message, /may not use @temporalio\/client/);
    assert.match(violations[2]!.message, /may not use @nats-io\/transport-node/);
    assert.match(violations[3]!.message, /module kernel imports values from bff/);
  });

  it('fails a workflow that imports an activity module by value, and accepts the same import as a type', () => {
    const byValue = boundariesWith({
      'workflows/smoke/probe.ts':
        "import { createSmokeActivities } from '../../activities/smoke/smoke.activities.ts';\nexport const a = createSmokeActivities;\n",
    });
    assert.equal(byValue.length, 1);
    assert.match(byValue[0]!.message, /module workflows imports values from activities .*use `import type`/);
    const asType = boundariesWith({
      'workflows/smoke/probe.ts':
        "import type { SmokeActivities } from '../../activities/smoke/smoke.activities.ts';\nexport type A = SmokeActivities;\n",
    });
    assert.deepEqual(asType, []);
  });

  it('fails Node builtins and I/O libraries in workflow code', () => {
    const violations = boundariesWith({
      'workflows/smoke/probe.ts':
        "import { readFileSync } from 'node:fs';\nimport pg from 'pg';\nexport const x = [readFileSync, pg];\n",
    });
    assert.deepEqual(
      violations.map((v) => v.message),
      [
        'module workflows may not use node:fs (packages: only @temporalio/workflow, @temporalio/common, @opentelemetry/api)',
        'module workflows may not use pg (packages: only @temporalio/workflow, @temporalio/common, @opentelemetry/api)',
      ],
    );
  });

  it('fails a deployable that imports another deployable, even where the codemap would allow it', () => {
    const codemap = copy().codemap;
    codemap.modules.relay!.may_import.push('bff');
    const violations = boundariesWith(
      { 'relay/probe.ts': "import { createBffApp } from '../bff/bff.app.ts';\nexport const x = createBffApp;\n" },
      codemap,
    );
    assert.equal(violations.length, 1);
    assert.match(violations[0]!.message, /never import each other/);
  });

  it('fails an import cycle between modules', () => {
    const codemap = copy().codemap;
    for (const layer of codemap.layers) layer.modules = layer.modules.filter((m) => m !== 'cli'); // leave the layer rule out
    codemap.modules.runtime!.may_import.push('cli');
    const violations = boundariesWith(
      { 'runtime/probe.ts': "import { say } from '../cli/entry.ts';\nexport const x = say;\n" },
      codemap,
    );
    assert.equal(violations.length, 1);
    assert.match(violations[0]!.message, /^import cycle between modules .*runtime → cli/);
    assert.match(violations[0]!.message, /runtime\/probe\.ts:1/, 'names the import that closes the cycle');
  });
});

describe('codemap gate', function () {
  this.timeout(30_000);

  it('passes on the repository as it is', () => {
    assert.deepEqual(checkCoverage(agent, files, scripts), []);
  });

  it('fails a file outside every module', () => {
    const problems = checkCoverage(agent, [...files, 'stray/probe.ts'], scripts);
    assert.deepEqual(
      problems.map((p) => `${p.where}: ${p.message}`),
      [
        'stray/probe.ts: belongs to no module in agent/codemap.yml',
        'stray/probe.ts: matches no route in agent/routing.yml: a change there would run no gates',
      ],
    );
  });

  it('fails a routing rule that names a missing gate, or a role that does not own the files', () => {
    const broken = copy();
    broken.routing.routes[0]!.gates.push('no-such-gate');
    broken.routing.routes[1]!.role = 'api';
    const problems = checkCoverage(broken, files, scripts).map((p) => p.message);
    assert.ok(problems.includes('names gate no-such-gate, which agent/gates.yml does not define'), problems.join('\n'));
    assert.ok(problems.some((m) => /routed to role api, but its module kernel is owned by domain/.test(m)));
  });

  it('fails a module path that matches nothing and a gate whose script does not exist', () => {
    const broken = copy();
    broken.codemap.modules.kernel!.paths.push('services/kernal/**');
    broken.gates.gates.lint!.script = 'lint:nowhere';
    const problems = checkCoverage(broken, files, scripts).map((p) => `${p.where}: ${p.message}`);
    assert.ok(problems.includes('modules.kernel: path services/kernal/** matches no file'), problems.join('\n'));
    assert.ok(problems.includes('gates.lint: runs npm script lint:nowhere, which package.json does not define'));
  });

  it('fails an allowance that points against the layer order', () => {
    const broken = copy();
    broken.codemap.modules.kernel!.may_import.push('bff');
    const problems = checkCoverage(broken, files, scripts).map((p) => p.message);
    assert.ok(problems.includes('may import bff, from a later layer ("deployables")'), problems.join('\n'));
  });
});

describe('routing', () => {
  it('names the owner of a path and picks its gates', () => {
    const cases: [string, string, string, string[]][] = [
      ['services/counter/counter.domain.ts', 'counter-service', 'domain', ['integration', 'workflow', 'e2e']],
      ['workflows/smoke/smoke.workflow.ts', 'workflows', 'workflows', ['integration', 'workflow']],
      ['bff/bff.app.ts', 'bff', 'api', ['contracts-drift', 'e2e']],
      ['contracts/errors.ts', 'contracts', 'api', ['contracts-drift', 'integration', 'workflow', 'e2e']],
    ];
    for (const [path, module, owner, tiers] of cases) {
      const [found] = modulesOf(agent.codemap, path);
      assert.equal(found, module, path);
      assert.equal(agent.codemap.modules[found]!.owner, owner, path);
      const gates = selectGates(agent, [path]);
      for (const gate of ['format', 'codemap', 'typecheck', 'lint', 'boundaries', 'unit', ...tiers]) {
        assert.ok(gates.includes(gate), `${path} → ${gates.join(', ')} lacks ${gate}`);
      }
    }
    assert.deepEqual(selectGates(agent, ['workflows/smoke/smoke.workflow.ts']).includes('e2e'), false);
    assert.deepEqual(selectGates(agent, ['docs/reset-runbook.md']), ['format', 'codemap', 'unit']);
  });

  it('`npm run gates -- --paths … --list` prints the module, its owner and the routed gates', () => {
    const run = spawnSync(
      process.execPath,
      [join(root, 'tools', 'bootstrap.mjs'), 'gates', '--paths', 'services/counter/counter.domain.ts', '--list'],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /services\/counter\/counter\.domain\.ts: module counter-service, owned by domain/);
    assert.match(
      run.stderr,
      /gates routed: format, typecheck, lint, boundaries, codemap, unit, integration, workflow, e2e, fuzz, chaos\n/,
    );
  });

  it('runs only the selected gates, reports each with its time, and a failing gate fails the run only when required', () => {
    const trial = copy();
    trial.gates.gates = {
      codemap: agent.gates.gates.codemap!,
      advisory: {
        script: 'no-such-script',
        proves: 'a gate whose failure is reported, not fatal',
        required: false,
        stack: false,
      },
    };
    const lines: string[] = [];
    const run = runGates(trial, ['codemap', 'advisory'], process.env, (line) => lines.push(line));
    assert.deepEqual(
      run.results.map((r) => [r.gate, r.ok]),
      [
        ['codemap', true],
        ['advisory', false],
      ],
    );
    assert.equal(
      report(run, (line) => lines.push(line)),
      true,
    );
    assert.match(lines.join('\n'), /advisory +failed \(not required\) +\d+\.\d s/);
    run.results[1]!.required = true;
    assert.equal(
      report(run, () => undefined),
      false,
    );
  });
});
