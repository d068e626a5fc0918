// A prebuilt workflow bundle is used only when it is what `npm run build` made from the sources as
// they are: given a built tree, when a workflow source, the bundle or the manifest changes, then the
// bundle is refused with a message that says what to do.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'mocha';
import { bundleDir, bundleInputsHash, checkedBundle, sha256, StaleBundleError } from './workflow-bundles.ts';

const repoRoot = join(import.meta.dirname, '..');

describe('prebuilt workflow bundles', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'bundles-'));
  let root: string;
  let dist: string;

  beforeEach(() => {
    root = mkdtempSync(join(scratch, 'checkout-'));
    for (const dir of ['workflows', 'contracts']) cpSync(join(repoRoot, dir), join(root, dir), { recursive: true });
    cpSync(join(repoRoot, 'package-lock.json'), join(root, 'package-lock.json'));
    dist = join(root, 'dist');
    mkdirSync(bundleDir(dist), { recursive: true });
    const code = 'bundle code';
    writeFileSync(join(bundleDir(dist), 'projector.js'), code);
    const manifest = {
      taskQueue: 'projector',
      entry: 'workflows/queues/projector.ts',
      inputsHash: bundleInputsHash(root),
      codeSha256: sha256(code),
      sdkVersion: 'test',
    };
    writeFileSync(join(bundleDir(dist), 'projector.json'), JSON.stringify(manifest));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('uses a bundle built from the sources beside it', () => {
    assert.equal(checkedBundle(dist, 'projector').codePath, join(bundleDir(dist), 'projector.js'));
  });

  it('refuses a bundle when a workflow source changed after the build, saying to rebuild', () => {
    appendFileSync(join(root, 'workflows', 'projections', 'projection.workflow.ts'), '\n// edited after the build\n');
    assert.throws(
      () => checkedBundle(dist, 'projector'),
      (error: unknown) =>
        error instanceof StaleBundleError &&
        /was built from other sources than those in .*workflows/.test(error.message) &&
        /npm run build/.test(error.message),
    );
  });

  it('refuses a bundle when a contract the workflows import changed', () => {
    appendFileSync(join(root, 'contracts', 'workflow-names.ts'), '\nexport const ADDED = 1;\n');
    assert.throws(() => checkedBundle(dist, 'projector'), StaleBundleError);
  });

  it('refuses a damaged bundle and a missing one', () => {
    appendFileSync(join(bundleDir(dist), 'projector.js'), 'tampered');
    assert.throws(() => checkedBundle(dist, 'projector'), /does not match its manifest/);
    assert.throws(() => checkedBundle(dist, 'outbox-relay'), /no workflow bundle for task queue outbox-relay/);
  });

  it('in an image, where no sources sit beside dist/, checks the bundle against its manifest only', () => {
    rmSync(join(root, 'workflows'), { recursive: true });
    assert.equal(checkedBundle(dist, 'projector').manifest.entry, 'workflows/queues/projector.ts');
  });
});
