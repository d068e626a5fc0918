// `npm run gates -- --changed [<base>] | --paths <path…> | --all [--list]`: picks the gates a change
// must pass from agent/routing.yml, names each path's module and owning role from
// agent/codemap.yml, runs the gates (agent/gates.yml) and prints gate → result → time. Gates that
// need servers get the test stack, started here when it is not running and stopped afterwards.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { StackError } from '../stack/processes.ts';
import { repoRoot } from '../stack/settings.ts';
import type { Say } from '../entry.ts';
import { withTestStack } from '../test-stack.ts';
import { generatedEntry, loadAgentFiles, modulesOf, selectGates, type AgentFiles } from './agent-files.ts';

const USAGE = `usage: npm run gates -- --changed [<base>] | --paths <path…> | --all   [--list]
  --changed [<base>]  the files changed since <base> (default HEAD), committed or not, plus untracked ones
  --paths <path…>     these files (repository-relative)
  --all               every gate, as CI runs them (npm test)
  --list              show the plan without running it`;

export interface GateResult {
  gate: string;
  ok: boolean;
  required: boolean;
  seconds: number;
}

function git(args: string[]): string[] {
  const result = spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8' });
  if (result.status !== 0) throw new StackError(`git ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout.split('\n').filter(Boolean);
}

/** Every file of the repository: tracked, plus untracked ones that are not ignored. */
export function repositoryFiles(): string[] {
  return [...new Set([...git(['ls-files']), ...git(['ls-files', '--others', '--exclude-standard'])])].sort();
}

function changedFiles(base: string): string[] {
  const committed = base === 'HEAD' ? [] : git(['diff', '--name-only', `${base}...HEAD`]);
  const uncommitted = git(['diff', '--name-only', 'HEAD']);
  const untracked = git(['ls-files', '--others', '--exclude-standard']);
  return [...new Set([...committed, ...uncommitted, ...untracked])].sort();
}

export function packageScripts(root = repoRoot): Record<string, string> {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
}

export interface GateRun {
  results: GateResult[];
  /** The mocha tiers' counts added up; undefined when no tier ran. */
  tests?: { passes: number; failures: number; pending: number };
}

/** Runs `gates` in order with `env`; each is its npm script. */
export function runGates(agent: AgentFiles, gates: string[], env: NodeJS.ProcessEnv, say: Say): GateRun {
  const summary = join(mkdtempSync(join(tmpdir(), 'gates-')), 'mocha.jsonl');
  const results: GateResult[] = [];
  for (const gate of gates) {
    const spec = agent.gates.gates[gate]!;
    say(`\n▶ ${gate} — ${spec.proves}`);
    const started = Date.now();
    const run = spawnSync('npm', ['run', '--silent', spec.script], {
      cwd: repoRoot,
      env: { ...env, MOCHA_SUMMARY_FILE: summary },
      stdio: 'inherit',
    });
    results.push({ gate, ok: run.status === 0, required: spec.required, seconds: (Date.now() - started) / 1000 });
  }
  if (!existsSync(summary)) return { results };
  const tests = { passes: 0, failures: 0, pending: 0 };
  for (const line of readFileSync(summary, 'utf8').split('\n').filter(Boolean)) {
    const counts = JSON.parse(line) as typeof tests;
    tests.passes += counts.passes;
    tests.failures += counts.failures;
    tests.pending += counts.pending;
  }
  rmSync(dirname(summary), { recursive: true, force: true });
  return { results, tests };
}

/** The closing lines of a run: the table, the verdict, and the tests' total in the form CI reads. */
export function report(run: GateRun, say: Say, seconds?: number): boolean {
  const failed = run.results.filter((r) => !r.ok && r.required).map((r) => r.gate);
  const took = seconds === undefined ? '' : ` in ${seconds} s`;
  say(`\n${resultTable(run.results)}`);
  say(failed.length === 0 ? `✓ all gates passed${took}` : `✗ failed: ${failed.join(', ')}${took}`);
  if (run.tests) {
    const t = run.tests;
    process.stdout.write(`${t.passes} passed, ${t.failures} failed, ${t.pending} skipped\n`);
  }
  return failed.length === 0;
}

/** The results as a table: gate, result, time. */
export function resultTable(results: GateResult[]): string {
  const width = Math.max(4, ...results.map((r) => r.gate.length));
  const lines = results.map((r) => {
    const verdict = r.ok ? 'passed' : r.required ? 'FAILED' : 'failed (not required)';
    return `${r.gate.padEnd(width)}  ${verdict.padEnd(21)}  ${r.seconds.toFixed(1).padStart(7)} s`;
  });
  return [`${'gate'.padEnd(width)}  ${'result'.padEnd(21)}  ${'time'.padStart(9)}`, ...lines].join('\n');
}

export async function runGatesCommand(args: string[], env: NodeJS.ProcessEnv, say: Say): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        changed: { type: 'boolean' },
        paths: { type: 'boolean' },
        all: { type: 'boolean' },
        list: { type: 'boolean' },
      },
      strict: true,
    });
  } catch (error) {
    say(`✗ ${(error as Error).message}\n${USAGE}`);
    return 64;
  }
  const { values, positionals } = parsed;
  if ([values.changed, values.paths, values.all].filter(Boolean).length !== 1) {
    say(USAGE);
    return 64;
  }
  const agent = loadAgentFiles(repoRoot);
  let gates: string[];
  if (values.all) {
    gates = Object.keys(agent.gates.gates);
    say(`• every gate: ${gates.join(', ')}`);
  } else {
    if (values.changed && positionals.length > 1) {
      say(USAGE);
      return 64;
    }
    const paths = values.changed ? changedFiles(positionals[0] ?? 'HEAD') : positionals;
    if (paths.length === 0) {
      say(values.changed ? '• nothing changed: no gates to run' : USAGE);
      return values.changed ? 0 : 64;
    }
    for (const path of paths) {
      const owners = modulesOf(agent.codemap, path);
      const module = owners.length === 1 ? owners[0]! : undefined;
      const generated = generatedEntry(agent.codemap, path);
      say(
        `• ${path}: ${
          module
            ? `module ${module}, owned by ${agent.codemap.modules[module]!.owner}`
            : owners.length === 0
              ? 'in no module (the codemap gate will fail)'
              : `in several modules: ${owners.join(', ')}`
        }${generated ? ` — generated, do not edit (written by \`${generated.written_by}\`)` : ''}`,
      );
    }
    gates = selectGates(agent, paths);
    say(`• gates routed: ${gates.join(', ')}`);
  }
  if (values.list) return 0;

  const needsStack = gates.some((gate) => agent.gates.gates[gate]!.stack);
  const run = needsStack
    ? await withTestStack(env, say, (testEnv) => runGates(agent, gates, testEnv, say))
    : runGates(agent, gates, { ...env, LOG_LEVEL: env.LOG_LEVEL ?? 'warn' }, say);
  return report(run, say) ? 0 : 1;
}
