// README's Layout table and AGENTS.md's module map are the short form of agent/codemap.yml: the same
// modules, with the same paths and owners. A module added to one and not the others fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { loadAgentFiles } from '../cli/gates/agent-files.ts';

const root = join(import.meta.dirname, '..');
const { codemap } = loadAgentFiles(root);

/** The rows between <!-- modules:start --> and <!-- modules:end --> as "module | paths | owner". */
function moduleTable(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const block = /<!-- modules:start -->\n([\s\S]*?)<!-- modules:end -->/.exec(text)?.[1];
  assert.ok(block, `${file} has no <!-- modules:start --> … <!-- modules:end --> table`);
  return block
    .split('\n')
    .slice(2) // header and separator
    .filter((line) => line.startsWith('|'))
    .map((line) => {
      const [module, paths, owner] = line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
      const list = (paths ?? '').split(',').map((p) => p.trim().replace(/^`|`$/g, ''));
      return `${module} | ${list.join(', ')} | ${owner}`;
    });
}

describe('the module tables in README.md and AGENTS.md', () => {
  const expected = Object.entries(codemap.modules).map(
    ([name, spec]) => `${name} | ${spec.paths.join(', ')} | ${spec.owner}`,
  );
  for (const file of ['README.md', 'AGENTS.md']) {
    it(`${file} lists every module of agent/codemap.yml with its paths and owner, and nothing else`, () => {
      assert.deepEqual(moduleTable(file), expected);
    });
  }
});
