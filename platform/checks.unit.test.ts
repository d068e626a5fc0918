// The platform model's validator must fail on what it forbids: given the real model (sound), when one
// thing is broken — a reference, the agreement with the code, a task queue nobody polls, a config
// key an environment does not provide, a name, a secret in plain text — then the check names it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';
import { platformDrift } from '../cli/platform-command.ts';
import { checkModel } from './checks.ts';
import { codeFacts } from './facts.ts';
import { renderPlatform } from './generate.ts';
import { loadModel, ModelError, type PlatformModel } from './model.ts';

const root = join(import.meta.dirname, '..');
const modelDir = join(root, 'platform', 'model');
const facts = codeFacts();
const model = loadModel(modelDir);
const broken = (change: (m: PlatformModel) => void) => {
  const copy = structuredClone(model);
  change(copy);
  return checkModel(copy, facts);
};
const find = <T extends { metadata: { name: string } }>(docs: T[], name: string) =>
  docs.find((d) => d.metadata.name === name)!;

describe('platform model: checks', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'platform-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('the model as committed is sound and its generated files are current', () => {
    assert.deepEqual(checkModel(model, facts), []);
    assert.deepEqual(platformDrift(renderPlatform(model)), []);
  });

  it('fails a reference that does not resolve', () => {
    const problems = broken((m) => {
      find(m.workflows, 'outbox-relay').spec.deployable = 'relays';
      find(m.environments, 'staging').spec.topology = 'kubernets';
    });
    assert.ok(problems.includes('Workflow/outbox-relay: deployable relays is not in the model'), problems.join('\n'));
    assert.ok(problems.includes('Environment/staging: topology kubernets is not in the model'));
  });

  it('fails a workflow the code exports but the model does not describe, and one it describes but the code lacks', () => {
    const problems = broken((m) => {
      m.workflows = m.workflows.filter((w) => w.metadata.name !== 'smoke');
      find(m.workflows, 'projection').spec.type = 'projections';
    });
    assert.ok(problems.includes('workflows/index.ts: exports smokeWorkflow, which no Workflow document describes'));
    assert.ok(problems.includes('Workflow/projection: type projections is not exported by workflows/index.ts'));
  });

  it('fails a topology in which no process polls a task queue a workflow uses', () => {
    const problems = broken((m) => {
      const topology = find(m.topologies, 'split-workers');
      topology.spec.processes[1]!.deployables = ['saga-worker', 'projector'];
    });
    assert.ok(
      problems.includes(
        'Topology/split-workers: no process polls outbox-relay, so workflow outbox-relay would never run',
      ),
      problems.join('\n'),
    );
  });

  it('fails an environment that does not provide a key a deployable requires, checked by its real config schema', () => {
    const noNats = broken((m) => delete find(m.environments, 'staging').spec.secrets.NATS_URL);
    assert.ok(noNats.includes('Environment/staging: relay would not start: NATS_URL is required (nats://host:port)'));
    // The BFF's rule that exactly one of two keys is set lives in a refinement of its schema.
    const noJwks = broken((m) => delete find(m.environments, 'staging').spec.config.AUTH_JWKS_URL);
    assert.ok(
      noJwks.some((p) => /^Environment\/staging: bff would not start: AUTH_JWKS_URL set exactly one of/.test(p)),
      noJwks.join('\n'),
    );
  });

  it('fails a per-process secret key that leaves a process without it, or names a process the topology lacks', () => {
    const problems = broken((m) => {
      const nats = find(m.environments, 'production').spec.secrets.NATS_URL!;
      delete nats.keys!.relay;
      nats.keys!.scheduler = 'scheduler-url';
    });
    assert.ok(
      problems.includes('Environment/production: relay would not start: NATS_URL is required (nats://host:port)'),
      problems.join('\n'),
    );
    assert.ok(
      problems.includes('Environment/production: gives NATS_URL a key for scheduler, which is not a process'),
      problems.join('\n'),
    );
  });

  it('fails a production environment that switches fault injection on (its environment name is given to every deployable)', () => {
    const problems = broken((m) => (find(m.environments, 'production').spec.config.FAULT_INJECTION = 'enabled'));
    assert.ok(
      problems.some((p) =>
        /^Environment\/production: saga-worker would not start: FAULT_INJECTION fault injection is for the local stack and tests: it is refused in production/.test(
          p,
        ),
      ),
      problems.join('\n'),
    );
    assert.deepEqual(
      broken((m) => (find(m.environments, 'staging').spec.config.FAULT_INJECTION = 'enabled')),
      [],
      'staging may run faults (a chaos drill); production may not',
    );
  });

  it('fails a config key the code reads but the model does not declare, and the reverse', () => {
    const problems = broken((m) => {
      const relay = find(m.deployables, 'relay');
      relay.spec.config = relay.spec.config.filter((c) => c.key !== 'RELAY_BATCH_SIZE');
      relay.spec.config.push({ key: 'RELAY_TURBO', secret: false, description: 'no such setting' });
    });
    assert.ok(
      problems.includes(
        'Deployable/relay: reads RELAY_BATCH_SIZE (its config schema), which the model does not declare',
      ),
    );
    assert.ok(problems.includes('Deployable/relay: declares RELAY_TURBO, which its config schema does not read'));
  });

  it('refuses secrets in plain text', () => {
    const problems = broken((m) => {
      const staging = find(m.environments, 'staging');
      staging.spec.config.DATABASE_URL = 'postgres://app:hunter2@db:5432/app';
    });
    assert.ok(
      problems.includes(
        'Environment/staging: DATABASE_URL is a secret: give it in secrets (a Secret reference), never as a plain value',
      ),
    );
    assert.ok(
      problems.includes(
        'Environment/staging: DATABASE_URL holds a URL with a password in plain text: move it to a Secret',
      ),
    );
  });

  it('refuses a name that is not DNS-1123, naming the file and the field', () => {
    const dir = join(scratch, 'bad-name');
    cpSync(modelDir, dir, { recursive: true });
    const file = join(dir, 'topologies', 'split-workers.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('name: split-workers', 'name: Split_Workers'));
    assert.throws(
      () => loadModel(dir),
      (error: unknown) =>
        error instanceof ModelError &&
        /split-workers\.yaml: metadata\.name: must be a DNS-1123 label/.test(error.message),
    );
  });

  it('`npm run platform -- check` on a broken model names the broken reference and exits non-zero', function () {
    this.timeout(60_000);
    const dir = join(scratch, 'broken-reference');
    cpSync(modelDir, dir, { recursive: true });
    const file = join(dir, 'environments', 'production.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('topology: kubernetes', 'topology: kubernetes-xl'));
    const run = spawnSync(
      process.execPath,
      [join(root, 'tools', 'bootstrap.mjs'), 'platform', 'check', '--model', dir],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /Environment\/production: topology kubernetes-xl is not in the model/);
  });

  it('the drift check reports a generated file that differs from the model', () => {
    const files = renderPlatform(model);
    const [path, content] = [...files].find(([p]) => p.endsWith('values.yaml'))!;
    const copy = join(scratch, 'drift');
    cpSync(join(root, 'helm'), join(copy, 'helm'), { recursive: true });
    cpSync(join(root, 'flux'), join(copy, 'flux'), { recursive: true });
    cpSync(join(root, 'platform'), join(copy, 'platform'), { recursive: true });
    writeFileSync(join(copy, path), `${content}# edited by hand\n`);
    assert.deepEqual(platformDrift(files, copy), [path]);
  });
});
