// `npm run contracts` (write) and `npm run contracts -- --check` (the drift gate). Both run the event
// schema compatibility gate (contracts/compatibility.ts) against the committed files first: a breaking
// change is reported, never written over the committed schema it breaks.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, type Dirent } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { checkCompatibility } from '../contracts/compatibility.ts';
import { EVENT_CONTRACTS, type EventContract } from '../contracts/events.ts';
import { contractDrift, GENERATED_DIR, renderContracts } from '../contracts/generate.ts';
import { HTTP_ROUTES } from '../contracts/http-api.ts';
import { eventVersions, UPCASTERS, type Upcaster } from '../contracts/upcasters.ts';
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

/**
 * Returns the compatibility problems and drift lines (empty when in sync); with `write` and no
 * compatibility problem, rewrites the generated folder first. `events` and `upcasters` default to
 * the real registries (tests pass changed ones).
 */
export function syncContracts(options: {
  write: boolean;
  root?: string;
  events?: readonly EventContract[];
  upcasters?: readonly Upcaster[];
}): string[] {
  const root = options.root ?? repoRoot;
  const events = options.events ?? EVENT_CONTRACTS;
  const upcasters = options.upcasters ?? UPCASTERS;
  const { problems, held } = checkCompatibility(events, upcasters, readGenerated(root));
  const generated = renderContracts(HTTP_ROUTES, eventVersions(events, upcasters));
  if (options.write && problems.length === 0) {
    rmSync(join(root, GENERATED_DIR), { recursive: true, force: true });
    for (const [path, content] of generated) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    }
  }
  return [...problems, ...contractDrift(generated, readGenerated(root), held)];
}
