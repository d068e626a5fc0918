// `npm run contracts` (write) and `npm run contracts -- --check` (the drift gate).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, type Dirent } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { EVENT_CONTRACTS } from '../contracts/events.ts';
import { contractDrift, GENERATED_DIR, renderContracts } from '../contracts/generate.ts';
import { HTTP_ROUTES } from '../contracts/http-api.ts';
import { repoRoot } from './stack/settings.ts';

export function readGenerated(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(root, path), readFileSync(path, 'utf8'));
    }
  };
  walk(join(root, GENERATED_DIR));
  return files;
}

/** Returns the drift lines (empty when in sync); with `write`, rewrites the generated folder first. */
export function syncContracts(options: { write: boolean; root?: string }): string[] {
  const root = options.root ?? repoRoot;
  const generated = renderContracts(HTTP_ROUTES, EVENT_CONTRACTS);
  if (options.write) {
    rmSync(join(root, GENERATED_DIR), { recursive: true, force: true });
    for (const [path, content] of generated) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    }
  }
  return contractDrift(generated, readGenerated(root));
}
