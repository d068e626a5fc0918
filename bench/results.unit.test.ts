// The README's Performance table is the committed bench/results/latest.md, not a hand-edited copy.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { README_BLOCK } from './report.ts';

describe('bench results in the README', () => {
  it('the Performance table equals bench/results/latest.md (npm run bench writes both)', () => {
    const root = join(import.meta.dirname, '..');
    const block = README_BLOCK.exec(readFileSync(join(root, 'README.md'), 'utf8'));
    assert.ok(block, 'README.md has the bench-results block');
    assert.equal(block[2], readFileSync(join(root, 'bench', 'results', 'latest.md'), 'utf8'));
  });
});
