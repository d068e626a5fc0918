// `npm run platform -- check | generate [--model <dir>]`: the platform model (platform/model/).
// `check` validates it — shape (zod), references, agreement with the code — and that every file
// generated from it is current; `generate` (re)writes those files.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkModel } from '../platform/checks.ts';
import { codeFacts } from '../platform/facts.ts';
import { renderPlatform } from '../platform/generate.ts';
import { loadModel, ModelError } from '../platform/model.ts';
import type { Say } from './entry.ts';
import { repoRoot } from './stack/settings.ts';

const USAGE = `usage: npm run platform -- check | generate [--model <dir>]
  check     validate the model (shape, references, the code it describes) and that the generated files are current
  generate  write the files generated from the model (Helm values and schema, Flux values, kind schemas, topologies, dashboard)`;

/** Files that differ from what the model generates (missing ones included). */
export function platformDrift(files: Map<string, string>, root = repoRoot): string[] {
  return [...files]
    .filter(([path, content]) => {
      const file = join(root, path);
      return !existsSync(file) || readFileSync(file, 'utf8') !== content;
    })
    .map(([path]) => path);
}

export async function runPlatformCommand(args: string[], say: Say): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { model: { type: 'string' } }, strict: true });
  } catch (error) {
    say(`✗ ${(error as Error).message}\n${USAGE}`);
    return 64;
  }
  const [action] = parsed.positionals;
  if (action !== 'check' && action !== 'generate') {
    say(USAGE);
    return action === undefined ? 0 : 64;
  }
  const dir = resolve(parsed.values.model ?? join(repoRoot, 'platform', 'model'));
  let model;
  try {
    model = loadModel(dir);
  } catch (error) {
    if (!(error instanceof ModelError)) throw error;
    say(`✗ the platform model in ${dir} does not parse:\n  ${error.message.split('\n').join('\n  ')}`);
    return 1;
  }
  const problems = checkModel(model, codeFacts());
  if (problems.length > 0) {
    say(`✗ the platform model has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    return 1;
  }
  const files = renderPlatform(model);
  if (action === 'generate') {
    for (const [path, content] of files) {
      mkdirSync(dirname(join(repoRoot, path)), { recursive: true });
      writeFileSync(join(repoRoot, path), content);
    }
    say(`✓ wrote ${files.size} files generated from the model`);
    return 0;
  }
  const counts = Object.entries(model).map(([kind, docs]) => `${(docs as unknown[]).length} ${kind}`);
  say(`✓ the platform model is sound: ${counts.join(', ')}`);
  const drift = platformDrift(files);
  if (drift.length > 0) {
    say(
      `✗ generated files differ from the model:\n  ${drift.join('\n  ')}\n  run \`npm run platform -- generate\` and commit the result`,
    );
    return 1;
  }
  say(`✓ the ${files.size} generated files match the model`);
  return 0;
}
