// The pod sandbox ("pause") image of a node that has no registry to pull registry.k8s.io/pause from:
// pause.c compiled static with the host's gcc and copied into an image FROM scratch (about 700 KB),
// built with podman and tagged by a hash of its recipe, so an unchanged recipe is a lookup.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Say } from '../../entry.ts';
import { IMAGE_NAME, type Podman } from '../../image/image-command.ts';
import { run, StackError } from '../../stack/processes.ts';
import { aptInstall, onPath } from '../../stack/tools.ts';

const SOURCE = fileURLToPath(new URL('./pause.c', import.meta.url));
const GCC_ARGS = ['-static', '-Os', '-s', '-Wall', '-Wextra', '-Werror'];
// 65535: the unprivileged user upstream's pause image runs as.
const CONTAINERFILE = 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n';

/**
 * The pause image's tag (`localhost/durable-workflow-backend-pause:<recipe hash>`), building it when
 * podman's store lacks it; installs gcc and libc6-dev (static libc) when missing.
 */
export function ensurePauseImage(podman: Podman, say: Say): string {
  const source = readFileSync(SOURCE, 'utf8');
  const recipe = createHash('sha256').update(JSON.stringify({ source, GCC_ARGS, CONTAINERFILE })).digest('hex');
  const tag = `${IMAGE_NAME}-pause:${recipe.slice(0, 12)}`;
  if (podman.exists(tag)) return tag;
  ensureStaticGcc(say);
  const work = mkdtempSync(join(tmpdir(), 'pause-image-'));
  try {
    run('gcc', [...GCC_ARGS, '-o', join(work, 'pause'), SOURCE], 'gcc (pause)');
    writeFileSync(join(work, 'Containerfile'), CONTAINERFILE);
    podman.run(['build', '--pull=never', '-t', tag, work], 'podman build (pause)');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  say(`✓ pause image ${tag} built`);
  return tag;
}

function ensureStaticGcc(say: Say): void {
  if (!onPath('gcc')) aptInstall(['gcc', 'libc6-dev'], say, 'or install gcc with a static libc');
  // gcc prints the bare name back when it has no such file: then static linking would fail.
  const libc = run('gcc', ['-print-file-name=libc.a'], 'gcc -print-file-name').trim();
  if (isAbsolute(libc) && existsSync(libc)) return;
  aptInstall(['libc6-dev'], say, 'or install a static libc for gcc');
  const again = run('gcc', ['-print-file-name=libc.a'], 'gcc -print-file-name').trim();
  if (!isAbsolute(again) || !existsSync(again)) throw new StackError('libc6-dev is installed but gcc finds no libc.a');
}
